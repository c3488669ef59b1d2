"""The lifecycle from the detail page: one POST form per allowed action, each doing its step;
refused steps flash why and change nothing; no CSRF token, no step."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Invoice, Sending
from portal.services import invoices
from tests.factories import ACTOR, line

from .conftest import closed, commit_fixtures, text

ACTION_FORM = re.compile(r'action="/org/acme/events/conf/invoices/(\d+)/(\w+)"')


def buttons(page: str, invoice: Invoice) -> list[str]:
    return [action for invoice_id, action in ACTION_FORM.findall(page)
            if int(invoice_id) == invoice.id]


def reload(invoice: Invoice) -> Invoice:
    fresh = db.session.get(Invoice, invoice.id)
    db.session.refresh(fresh)
    return fresh


def snapshot(invoice: Invoice) -> tuple:
    invoice = reload(invoice)
    audits = db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.invoice_id == invoice.id))
    sendings = db.session.scalar(select(func.count(Sending.id)).where(
        Sending.invoice_id == invoice.id))
    invoices_total = db.session.scalar(select(func.count(Invoice.id)))
    return (invoice.status, invoice.number, invoice.updated_at, audits, sendings,
            invoices_total)


def act(browser, world, invoice, action, **data):
    return browser.post(world.url(f"/invoices/{invoice.id}/{action}"), data)


@pytest.mark.parametrize(("state", "expected"), [
    ("draft", ["close", "delete"]),
    ("open", ["send", "pay", "dispute", "cancel"]),
    ("paid", ["send", "cancel", "archive"]),
    ("disputed", ["send", "pay", "resolve", "cancel"]),
])
def test_detail_page_offers_one_button_per_allowed_action(as_manager, world, state, expected):
    invoice = getattr(world, state)
    page = text(as_manager.get(world.url(f"/invoices/{invoice.id}")))
    assert buttons(page, invoice) == expected
    forms = page.split('class="action-list"', 1)[1].split("</section>", 1)[0]
    assert forms.count('method="post"') == len(expected)
    assert forms.count('name="csrf_token"') == len(expected)
    assert ("Edit draft" in page) == (state == "draft")


def test_proformas_and_credit_notes_offer_only_their_actions(as_manager, world, make):
    proforma = closed(make, world.event1, world.customer, type="proforma")
    credit = invoices.cancel_invoice(reload(world.open), actor=ACTOR)
    commit_fixtures()
    assert buttons(text(as_manager.get(world.url(f"/invoices/{proforma.id}"))), proforma) == \
        ["send", "dispute", "cancel"]  # an offer cannot be paid
    assert buttons(text(as_manager.get(world.url(f"/invoices/{credit.id}"))), credit) == \
        ["send", "pay"]  # a credit note can be neither cancelled nor disputed
    cancelled = text(as_manager.get(world.url(f"/invoices/{world.open.id}")))
    assert buttons(cancelled, world.open) == ["archive"]


def test_viewers_see_no_buttons(as_viewer, world):
    page = text(as_viewer.get(world.url(f"/invoices/{world.open.id}")))
    assert buttons(page, world.open) == []
    assert "Your role lets you look, not change." in page


def test_close_numbers_the_draft(as_manager, world):
    response = act(as_manager, world, world.draft, "close")
    assert response.status_code == 303
    assert response.headers["Location"] == world.url(f"/invoices/{world.draft.id}")
    invoice = reload(world.draft)
    assert invoice.status == "open"
    assert invoice.number == f"{world.event1.invoice_prefix}00004"
    assert invoice.issue_date == dt.date.today()
    page = text(as_manager.follow(response))
    assert f"Invoice {invoice.number} is closed" in page
    assert buttons(page, invoice) == ["send", "pay", "dispute", "cancel"]


def test_send_records_a_sending_to_the_buyer_or_to_whom_you_say(as_manager, world):
    response = act(as_manager, world, world.open, "send", to="")
    assert response.status_code == 303
    assert "is on its way to jane@example.com" in text(as_manager.follow(response))
    response = act(as_manager, world, world.open, "send", to="books@buyer.example")
    page = text(as_manager.follow(response))
    assert "is on its way to books@buyer.example" in page
    sendings = db.session.scalars(select(Sending).where(
        Sending.invoice_id == world.open.id).order_by(Sending.id)).all()
    assert [(s.to, s.outcome) for s in sendings] == [("jane@example.com", "sent"),
                                                     ("books@buyer.example", "sent")]
    assert reload(world.open).status == "sent"  # delivered, so open became sent
    assert "books@buyer.example" in page.split("<h2>Sendings</h2>", 1)[1]


def test_send_to_a_bad_address_is_refused(as_manager, world):
    before = snapshot(world.open)
    response = act(as_manager, world, world.open, "send", to="not an address")
    assert response.status_code == 303
    page = text(as_manager.follow(response))
    assert 'class="flash flash-error"' in page and "Enter a valid e-mail address." in page
    assert snapshot(world.open) == before


def test_pay(as_manager, world):
    response = act(as_manager, world, world.open, "pay")
    assert "is marked as paid" in text(as_manager.follow(response))
    invoice = reload(world.open)
    assert invoice.status == "paid" and invoice.paid_at is not None


def test_dispute_with_a_reason_then_resolve(as_manager, world):
    act(as_manager, world, world.open, "dispute", reason="Two seats, not three <b>")
    invoice = reload(world.open)
    assert (invoice.status, invoice.dispute_reason) == ("disputed", "Two seats, not three <b>")
    page = text(as_manager.get(world.url(f"/invoices/{invoice.id}")))
    assert "Two seats, not three &lt;b&gt;" in page
    response = act(as_manager, world, world.open, "resolve")
    assert "is resolved" in text(as_manager.follow(response))
    assert reload(world.open).status == "sent"


def test_cancel_issues_a_credit_note(as_manager, world):
    original = reload(world.open)
    response = act(as_manager, world, world.open, "cancel")
    credit = db.session.scalar(select(Invoice).where(Invoice.refers_id == original.id))
    assert credit is not None and credit.type == "credit_note" and credit.is_cancellation
    assert credit.gross_total == -original.gross_total == Decimal("-119.00")
    page = text(as_manager.follow(response))
    assert f"Invoice {original.number} is cancelled; credit note {credit.number} was issued." \
        in page
    assert reload(world.open).status == "cancelled"
    related = page.split("<h2>Related</h2>", 1)[1].split("</section>", 1)[0]
    assert credit.number in related and f"/invoices/{credit.id}" in related
    credit_page = text(as_manager.get(world.url(f"/invoices/{credit.id}")))
    assert "Cancellation" in credit_page
    assert "-€119.00" in credit_page and original.number in credit_page


def test_archive(as_manager, world):
    act(as_manager, world, world.paid, "archive")
    assert reload(world.paid).status == "archived"


def test_delete_draft(as_manager, world):
    draft_id = world.draft.id
    response = act(as_manager, world, world.draft, "delete")
    assert response.headers["Location"] == world.url("/invoices")
    assert "The draft is deleted." in text(as_manager.follow(response))
    db.session.expire_all()
    assert db.session.get(Invoice, draft_id) is None


@pytest.mark.parametrize(("state", "action", "message"), [
    ("draft", "pay", "An invoice in status “draft” cannot be paid."),
    ("draft", "send", "An invoice in status “draft” cannot be sent."),
    ("draft", "cancel", "An invoice in status “draft” cannot be cancelled."),
    ("open", "close", "An invoice in status “open” cannot be closed."),
    ("open", "delete", "An invoice in status “open” cannot be deleted."),
    ("open", "archive", "An invoice in status “open” cannot be archived."),
    ("open", "resolve", "An invoice in status “open” cannot be resolved."),
    ("paid", "pay", "An invoice in status “paid” cannot be paid."),
    ("paid", "dispute", "An invoice in status “paid” cannot be disputed."),
    ("disputed", "archive", "An invoice in status “disputed” cannot be archived."),
])
def test_refused_steps_flash_why_and_change_nothing(as_manager, world, state, action, message):
    invoice = getattr(world, state)
    before = snapshot(invoice)
    response = act(as_manager, world, invoice, action)
    assert response.status_code == 303
    assert response.headers["Location"] == world.url(f"/invoices/{invoice.id}")
    page = text(as_manager.follow(response))
    assert f'<div class="flash flash-error" role="alert">{message}</div>' in page
    assert snapshot(invoice) == before


def test_type_refusals(as_manager, world, make):
    proforma = closed(make, world.event1, world.customer, type="proforma")
    credit = invoices.cancel_invoice(reload(world.paid), actor=ACTOR)
    commit_fixtures()
    for invoice, action, message in (
            (proforma, "pay", "A proforma is an offer, not a claim: it cannot be paid."),
            (credit, "cancel", "A credit note cannot be cancelled.")):
        before = snapshot(invoice)
        page = text(as_manager.follow(act(as_manager, world, invoice, action)))
        assert message in page
        assert snapshot(invoice) == before


def test_closing_an_empty_or_expired_draft_is_refused(as_manager, world, make):
    empty = make.invoice(world.event1, world.customer, lines=[])
    expired = make.invoice(world.event1, world.customer, type="proforma",
                           expires_at="2020-01-01T00:00:00Z")
    commit_fixtures()
    for draft, message in ((empty, "An invoice needs at least one line before it can be closed."),
                           (expired, "This offer expired; it can no longer be closed.")):
        before = snapshot(draft)
        page = text(as_manager.follow(act(as_manager, world, draft, "close")))
        assert message in page
        assert snapshot(draft) == before
    page = text(as_manager.get(world.url(f"/invoices/{expired.id}")))
    assert "Expired" in page and "it can no longer be closed" in page


def test_action_without_csrf_token_is_rejected(as_manager, world):
    before = snapshot(world.open)
    # refused, nothing changes; the user lands on a page, never a bare 400 (issue 18)
    response = as_manager.client.post(world.url(f"/invoices/{world.open.id}/pay"))
    assert response.status_code == 303
    assert snapshot(world.open) == before
    response = as_manager.client.post(world.url(f"/invoices/{world.open.id}/pay"),
                                      data={"csrf_token": "forged"})
    assert response.status_code == 303
    assert snapshot(world.open) == before


def test_unknown_actions_are_not_found(as_manager, world):
    assert act(as_manager, world, world.open, "refund").status_code == 404
    assert as_manager.get(world.url(f"/invoices/{world.open.id}/pay")).status_code == 405


def test_detail_shows_the_document_audit_trail_and_sendings(as_manager, world, make):
    invoice = closed(make, world.event1, world.customer,
                     lines=[line("Conference ticket", "2", "56.33", "19")])
    commit_fixtures()
    act(as_manager, world, invoice, "send", to="")
    page = text(as_manager.get(world.url(f"/invoices/{invoice.id}")))
    # The document: seller, buyer, lines, taxes, totals in the event currency.
    assert "Acme Events GmbH" in page and "Buyer Ltd" in page
    assert "Conference ticket" in page and "€56.33" in page
    assert "€112.66" in page and "€21.41" in page and "€134.07" in page
    history = page.split("<h2>History</h2>", 1)[1]
    for step in ("Create", "Close", "Send", "Delivered"):
        assert f"<strong>{step}</strong>" in history
    assert "manager@acme.example" in history
    sendings = page.split("<h2>Sendings</h2>", 1)[1].split("</section>", 1)[0]
    assert "jane@example.com" in sendings and "Sent" in sendings
