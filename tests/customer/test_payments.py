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


def test_customer_statement_page_and_pdf(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    someone = make.customer(organizer)
    mine = close(make, event, customer, on=dt.date(2026, 3, 1), due_date="2026-03-15")
    payments.record_payment(mine, {"amount": "19.00", "date": "2026-03-02"}, actor=ACTOR)
    close(make, event, someone, on=dt.date(2026, 3, 1), lines=[line("Other", "1", "5.00")])
    db.session.commit()
    sign_in(client, customer)
    page = client.get("/my/statement?from=2026-01-01&to=2026-04-30").get_data(as_text=True)
    # 119.00 issued 03-01, 19.00 paid 03-02: 100.00 closing, 46 days past 03-15 on 04-30.
    assert "data-closing>€100.00<" in page
    assert 'data-aging="days_31_60">€100.00<' in page
    assert "€5.95" not in page  # another customer's 5.00 + 19 %
    pdf = client.get("/my/statement?from=2026-01-01&to=2026-04-30&format=pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert client.get("/my/statement?to=2026-02-31").status_code == 400
