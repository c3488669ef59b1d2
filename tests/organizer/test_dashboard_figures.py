"""Dashboard figures per event and currency (issue 18): open, overdue, paid this month,
drafts waiting; one query per figure family, however many invoices there are."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.services import invoice_queries, payments
from tests.factories import ACTOR, line

from .conftest import closed, commit_fixtures, text


def test_figures_to_the_cent(app, world, make):
    today = dt.date.today()
    event = world.event1
    # World in event 1: draft (10.00 + 19 %), open 119.00, paid 119.00 (today),
    # disputed 119.00. Add: a late one of 50.00 + 19 % = 59.50 with 9.50 paid today,
    # and a USD one of 200.00 + 19 % = 238.00.
    late = closed(make, event, world.customer, today=dt.date(2026, 1, 1),
                  lines=[line("Late", "1", "50.00")], due_date="2026-01-15")
    payments.record_payment(late, {"amount": "9.50"}, actor=ACTOR)
    closed(make, event, world.customer, currency="USD", lines=[line("Dollar", "2", "100.00")])
    make.invoice(event, world.customer, currency="USD")
    commit_fixtures()
    figures = {f.currency: f for f in invoice_queries.dashboard_figures([event.id])[event.id]}
    eur = figures["EUR"]
    # open: 119.00 (open) + 119.00 (disputed) + (59.50 − 9.50) = 288.00, 3 invoices
    assert (eur.open, eur.open_count) == (Decimal("288.000"), 3)
    # overdue: only the late one's 50.00
    assert (eur.overdue, eur.overdue_count) == (Decimal("50.000"), 1)
    # paid this month: the paid one's 119.00 + 9.50 = 128.50
    assert eur.paid_this_month == Decimal("128.500")
    assert eur.drafts == 1
    usd = figures["USD"]
    assert (usd.open, usd.open_count, usd.overdue_count, usd.drafts) == \
        (Decimal("238.000"), 1, 0, 1)
    assert usd.paid_this_month == 0
    # Next month nothing counts as paid this month; the late one is still overdue.
    later = invoice_queries.dashboard_figures(
        [event.id], today=(today.replace(day=1) + dt.timedelta(days=32)).replace(day=1))
    later_eur = {f.currency: f for f in later[event.id]}["EUR"]
    assert later_eur.paid_this_month == 0 and later_eur.overdue_count == 1


def test_three_queries_however_many_invoices(app, world, make, count_queries):
    for _ in range(6):
        closed(make, world.event1, world.customer)
        closed(make, world.event2, world.customer)
    commit_fixtures()
    ids = [world.event1.id, world.event2.id]
    with count_queries() as few:
        small = invoice_queries.dashboard_figures(ids)
    for _ in range(10):
        closed(make, world.event2, world.customer)
    commit_fixtures()
    with count_queries() as many:
        large = invoice_queries.dashboard_figures(ids)
    assert few.count == many.count == 3
    # event 2: open2 + 6 = 7 invoices of 119.00 = 833.00, then + 10 = 17 → 2023.00
    assert small[world.event2.id][0].open == Decimal("833.000")
    assert large[world.event2.id][0].open == Decimal("2023.000")


def test_dashboard_page_shows_the_figures(as_manager, world, make):
    payments.record_payment(world.open, {"amount": "19.00"}, actor=ACTOR)
    commit_fixtures()
    page = text(as_manager.get("/org/"))
    # event 1: open 119.00 − 19.00 + disputed 119.00 = 219.00 (2); paid this month
    # 119.00 (the paid one) + 19.00 = 138.00; one draft.
    assert "Open: €219.00 (2)" in page
    assert "data-paid-month>€138.00<" in page
    assert "data-drafts>1<" in page
