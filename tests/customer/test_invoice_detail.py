"""`/my/invoices/<id>`: the invoice as a page, and the customer's dispute."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import AuditEntry, Invoice
from portal.services import invoices
from tests.factories import ACTOR, line

from .helpers import close, csrf_token, sign_in

TEXTS = {"introductory": "Thank you for your order.", "additional": "See you there!",
         "payment": "Please pay within 14 days.", "terms": "Our terms apply.",
         "footer": "Big Events GmbH · Berlin"}


def rich_invoice(make, customer, event) -> Invoice:
    """Net entry, per line, EUR: 2 × 150.00 at 19 % and 1 × 80.00 at 7 %, 10 % off, courier
    10.00 at 19 %. Lines 300.00 + 57.00 and 80.00 + 5.60; the 38.00 discount splits 30.00/8.00
    (tax 5.70/0.56); so VAT 19 %: 270.00 + 10.00 = 280.00 taxed 53.20, VAT 7 %: 72.00 taxed
    5.04; net 352.00, tax 58.24, gross 410.24."""
    return close(make, event, customer, on=dt.date(2026, 6, 1),
                 lines=[line("Conference ticket", "2", "150.00", "19.00", sku="CONF", unit="pcs"),
                        line("Workshop", "1", "80.00", "7.00")],
                 discounts=[{"type": "percent_off", "value": "10"}],
                 shipping_method={"name": "Courier", "cost": "10.00", "tax_rate": "19.00"},
                 texts=TEXTS)


def detail(client, invoice: Invoice) -> str:
    response = client.get(f"/my/invoices/{invoice.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def dispute(client, invoice: Invoice, reason: str):
    token = csrf_token(client, f"/my/invoices/{invoice.id}")
    return client.post(f"/my/invoices/{invoice.id}/dispute",
                       data={"reason": reason, "csrf_token": token})


def test_the_page_shows_parties_lines_discounts_taxes_totals_and_texts(client, make):
    organizer = make.organizer(name="Big Events")
    event = make.event(organizer)
    customer = make.customer(organizer, name="Alice Buyer")
    invoice = rich_invoice(make, customer, event)
    jobs.commit()
    sign_in(client, customer)
    html = detail(client, invoice)

    assert invoice.number in html
    assert "Big Events GmbH" in html and "Main St 1" in html and "DE999" in html  # seller
    assert "Buyer Ltd" in html and "1 High St" in html and "London" in html     # buyer
    assert f"Invoice · {event.name}" in html
    assert "Jun 1, 2026" in html and "Jun 15, 2026" in html                     # issued, due
    assert "Conference ticket" in html and "SKU CONF" in html and "2 pcs" in html
    assert "€150.00" in html and "€300.00" in html and "€357.00" in html
    assert "Workshop" in html and "€85.60" in html
    assert "<dt>Subtotal (net)</dt><dd>€380.00</dd>" in html
    assert "<dt>Discount 10 %</dt>" in html and "<dd>−€38.00</dd>" in html
    assert "<dt>Shipping: Courier</dt><dd>€10.00</dd>" in html
    assert "<dt>Total net</dt><dd>€352.00</dd>" in html
    assert 'VAT 19 % <span class="muted small">on €280.00</span></dt><dd>€53.20</dd>' in html
    assert 'VAT 7 % <span class="muted small">on €72.00</span></dt><dd>€5.04</dd>' in html
    assert '<dd class="grand">€410.24</dd>' in html
    for text in TEXTS.values():
        assert text in html
    assert f'href="/my/invoices/{invoice.id}/pdf"' in html


def test_amounts_and_dates_follow_the_customers_locale(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer, locale="de")
    invoice = close(make, event, customer, on=dt.date(2026, 6, 1),
                    lines=[line("Schrauben", "10", "123.45", "19.00")])
    sign_in(client, customer)
    html = detail(client, invoice)
    assert "123,45\xa0€" in html       # unit price
    assert "1.234,50\xa0€" in html     # net: 10 × 123.45
    assert "234,56\xa0€" in html       # tax: 19 % of it
    assert "1.469,06\xa0€" in html     # gross
    assert "01.06.2026" in html and "15.06.2026" in html
    assert '<html lang="de">' in html


def test_a_credit_note_and_its_invoice_point_at_each_other(client, world):
    sign_in(client, world.a)
    original = detail(client, world.a_cancelled)
    assert "Cancelled by credit note" in original
    assert f'href="/my/invoices/{world.a_credit.id}"' in original
    credit = detail(client, world.a_credit)
    assert "Credit note" in credit
    assert f'href="/my/invoices/{world.a_cancelled.id}"' in credit
    assert "-€59.50" in credit


def test_dispute_marks_the_invoice_disputed_and_audits_the_customer(client, world):
    sign_in(client, world.a)
    invoice = world.a_second
    assert "Dispute this invoice" in detail(client, invoice)

    response = dispute(client, invoice, "  The workshop was cancelled.  ")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/my/invoices/{invoice.id}"

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "disputed"
    assert db.session.get(Invoice, invoice.id).dispute_reason == "The workshop was cancelled."
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.invoice_id == invoice.id)
                               .order_by(AuditEntry.id.desc())).first()
    assert (entry.action, entry.from_status, entry.to_status) == ("dispute", "open", "disputed")
    assert (entry.actor_type, entry.actor_id) == ("customer", world.a.id)
    assert entry.actor_label == f"customer {world.a.reference}"
    assert entry.data == {"reason": "The workshop was cancelled."}

    page = detail(client, invoice)
    assert 'class="badge badge-disputed">Disputed</span>' in page
    assert "You disputed this invoice." in page
    assert "The workshop was cancelled." in page
    assert "Dispute this invoice" not in page  # no second dispute


def test_dispute_needs_a_reason(client, world):
    sign_in(client, world.a)
    response = dispute(client, world.a_second, "   ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Tell us what is wrong with this invoice." in html
    assert 'aria-invalid="true"' in html
    db.session.expire_all()
    assert db.session.get(Invoice, world.a_second.id).status == "open"


def test_dispute_reason_is_at_most_2000_characters(client, world):
    sign_in(client, world.a)
    response = dispute(client, world.a_second, "x" * 2001)
    assert response.status_code == 400
    assert "Use at most 2000 characters." in response.get_data(as_text=True)


def test_dispute_needs_the_csrf_token(client, world):
    sign_in(client, world.a)
    response = client.post(f"/my/invoices/{world.a_second.id}/dispute", data={"reason": "No"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Invoice, world.a_second.id).status == "open"


def test_a_paid_invoice_cannot_be_disputed_and_nothing_changes(client, world):
    sign_in(client, world.a)
    invoice = world.a_first  # paid
    html = detail(client, invoice)
    assert "Dispute this invoice" not in html
    audit_before = db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.invoice_id == invoice.id).order_by(AuditEntry.id.desc()).limit(1))

    token = csrf_token(client, f"/my/invoices/{world.a_second.id}")
    response = client.post(f"/my/invoices/{invoice.id}/dispute",
                           data={"reason": "Too expensive", "csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "An invoice in status “paid” cannot be disputed. Nothing was changed." in page
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "paid"
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.invoice_id == invoice.id).order_by(AuditEntry.id.desc()).limit(1)) \
        == audit_before


def test_a_sent_invoice_can_be_disputed(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    invoice = close(make, event, customer, on=dt.date(2026, 6, 1))
    invoices.send_invoice(invoice, actor=ACTOR)
    jobs.commit()
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "sent"
    sign_in(client, customer)
    assert dispute(client, invoice, "Wrong address").status_code == 303
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == "disputed"
