"""The customer area shows what was paid and what is due; overdue only with a balance."""

from __future__ import annotations

import datetime as dt

from portal.extensions import db
from portal.services import invoices, payments
from tests.factories import ACTOR, line

from .helpers import close, sign_in


def test_detail_and_list_show_amount_paid_and_balance(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    # 1 x 200.00 + 19 % = 238.00, due 2026-01-15; 38.00 paid: 200.00 due and overdue.
    late = close(make, event, customer, on=dt.date(2026, 1, 1), due_date="2026-01-15",
                 lines=[line("Stand", "1", "200.00")])
    payments.record_payment(late, {"amount": "38.00", "reference": "REF-1"}, actor=ACTOR)
    # Also past due, but paid in full: no overdue badge.
    settled = close(make, event, customer, on=dt.date(2026, 1, 1), due_date="2026-01-15")
    invoices.pay_invoice(settled, actor=ACTOR)
    db.session.commit()
    sign_in(client, customer)
    page = client.get(f"/my/invoices/{late.id}").get_data(as_text=True)
    assert "data-amount-paid>€38.00<" in page and "data-balance>€200.00<" in page
    assert "REF-1" in page and "Overdue" in page
    listing = client.get("/my/invoices").get_data(as_text=True)
    rows = listing.split("<tr")
    late_row = next(r for r in rows if f"/my/invoices/{late.id}\"" in r)
    settled_row = next(r for r in rows if f"/my/invoices/{settled.id}\"" in r)
    assert "data-balance>€200.00<" in late_row and "Overdue" in late_row
    assert "Overdue" not in settled_row
    page = client.get(f"/my/invoices/{settled.id}").get_data(as_text=True)
    assert "data-balance>€0.00<" in page and "Overdue" not in page
