"""Payments in the back office: the form on the detail page (prefilled with the balance),
the list with delete buttons (CSRF, confirmation), errors next to the fields."""

from __future__ import annotations

import re
from decimal import Decimal

from portal.extensions import db
from portal.models import Invoice, Payment
from portal.services import payments
from tests.factories import ACTOR

from .conftest import commit_fixtures, text

D = Decimal


def reload(invoice) -> Invoice:
    fresh = db.session.get(Invoice, invoice.id)
    db.session.refresh(fresh)
    return fresh


def test_form_is_prefilled_with_the_balance(as_manager, world):
    payments.record_payment(world.open, {"amount": "19.01"}, actor=ACTOR)
    commit_fixtures()
    page = text(as_manager.get(world.url(f"/invoices/{world.open.id}")))
    # 119.00 - 19.01 = 99.99
    assert re.search(r'name="amount"[^>]*value="99.99"', page), page
    assert "Record a payment" in page and 'name="csrf_token"' in page
    assert 'data-confirm="Delete this payment?' in page


def test_record_a_payment_then_pay_the_rest(as_manager, world):
    url = world.url(f"/invoices/{world.open.id}/payments")
    response = as_manager.post(url, {"amount": "100", "date": "2026-11-02",
                                     "method": "bank_transfer", "reference": "SEPA 9"})
    assert response.status_code == 303
    assert "A payment of 100.00 EUR is recorded." in text(as_manager.follow(response))
    invoice = reload(world.open)
    assert (invoice.amount_paid, invoice.balance, invoice.status) == (
        D("100.00"), D("19.00"), "open")
    response = as_manager.post(url, {"amount": "19", "date": "", "method": "cash",
                                     "reference": ""})
    assert "The invoice is paid." in text(as_manager.follow(response))
    assert reload(world.open).status == "paid"


def test_bad_payment_shows_errors_next_to_fields_and_saves_nothing(as_manager, world):
    response = as_manager.post(world.url(f"/invoices/{world.open.id}/payments"),
                               {"amount": "119.01", "date": "2026-02-30", "method": "cash",
                                "reference": ""})
    assert response.status_code == 400
    page = text(response)
    assert 'id="amount-errors"' in page and "more than the balance of 119.00 EUR" in page
    assert 'id="date-errors"' in page
    assert reload(world.open).amount_paid == D(0)
    assert db.session.query(Payment).filter_by(invoice_id=world.open.id).count() == 0


def test_payment_on_a_draft_is_refused_with_a_flash(as_manager, world):
    response = as_manager.post(world.url(f"/invoices/{world.draft.id}/payments"),
                               {"amount": "1", "method": "cash"})
    assert response.status_code == 303
    assert "cannot be paid" in text(as_manager.follow(response))
    assert db.session.query(Payment).filter_by(invoice_id=world.draft.id).count() == 0


def test_delete_moves_paid_back_and_needs_csrf(client, as_manager, world):
    payment = world.paid.payments[0]
    url = world.url(f"/invoices/{world.paid.id}/payments/{payment.id}/delete")
    no_token = client.post(url)
    # refused: no token, nothing happens; back to a page, not a bare 400 (issue 18)
    assert no_token.status_code == 303
    assert reload(world.paid).status == "paid"
    response = as_manager.post(url)
    assert response.status_code == 303
    assert "The payment is deleted." in text(as_manager.follow(response))
    invoice = reload(world.paid)
    # 119.00 paid by `pay`, deleted: 119.00 due again; open, as before it was paid.
    assert (invoice.status, invoice.balance) == ("open", D("119.00"))


def test_viewer_sees_payments_but_no_form(as_viewer, world):
    page = text(as_viewer.get(world.url(f"/invoices/{world.paid.id}")))
    assert 'id="payments"' in page and "Record a payment" not in page
    assert "/delete" not in page
    response = as_viewer.post(world.url(f"/invoices/{world.open.id}/payments"),
                              {"amount": "1", "method": "cash"})
    assert response.status_code == 403


def test_lists_and_dashboard_use_the_balance(as_manager, world, make):
    import datetime as dt

    from portal.services import invoices
    from tests.factories import line

    from .conftest import closed
    # Due long ago: 1 x 50.00 + 19 % = 59.50, of which 9.50 paid: 50.00 overdue.
    late = closed(make, world.event1, world.customer, today=dt.date(2026, 1, 1),
                  lines=[line("Late", "1", "50.00")], due_date="2026-01-15")
    payments.record_payment(late, {"amount": "9.50"}, actor=ACTOR)
    # Due long ago but paid to the cent: not overdue.
    settled = closed(make, world.event1, world.customer, today=dt.date(2026, 1, 1),
                     due_date="2026-01-15")
    invoices.pay_invoice(settled, actor=ACTOR)
    commit_fixtures()
    page = text(as_manager.get(world.url("/invoices?overdue=true")))
    assert f"/invoices/{late.id}\"" in page and f"/invoices/{settled.id}\"" not in page
    page = text(as_manager.get(world.url("/invoices?status=open&ordering=created")))
    # Open claims of event 1: world.open 119.00 + late 50.00 = 169.00 on the page.
    assert re.search(r'data-open-total>€169.00<', page), page
    dashboard = text(as_manager.get("/org/"))
    # Open in event 1: open 119.00 + disputed 119.00 + late 50.00 = 288.00 (3 invoices);
    # overdue only late's 50.00.
    assert "Open: €288.00 (3)" in dashboard
    assert "Overdue: €50.00 (1)" in dashboard


def test_statement_page_and_pdf(as_viewer, world):
    url = world.org_url(f"/customers/{world.customer.id}/statement")
    # World (today): open 119.00, paid 119.00 − 119.00, disputed 119.00, open2 119.00 (event 2).
    # 119.00 + 119.00 − 119.00 + 119.00 + 119.00 = 357.00 closing, nothing before 1 January.
    page = text(as_viewer.get(url))
    assert "data-opening>€0.00<" in page and "data-closing>€357.00<" in page
    assert 'data-aging="total">€357.00<' in page and "Draft" not in page
    pdf = as_viewer.get(url + "?format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    bad = as_viewer.get(url + "?from=2026-13-01")
    assert bad.status_code == 400 and 'id="from-errors"' in text(bad)
