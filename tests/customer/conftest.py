"""Fixtures of the customer area: a small world of organizers, customers and invoices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from portal import jobs
from portal.models import Customer, Event, Invoice
from portal.services import invoices
from tests.factories import ACTOR, line

from .helpers import close


@dataclass
class World:
    """Customer A with invoices in two events; B (same organizer) and C (another organizer)
    with theirs; a draft of A's. Everything but `a_*` is foreign to A."""

    a: Customer
    b: Customer
    c: Customer
    event1: Event
    event2: Event
    a_first: Invoice      # event 1, issued 2026-03-02, paid
    a_second: Invoice     # event 2, issued 2026-04-10, open, due 2026-04-24
    a_cancelled: Invoice  # event 1, issued 2026-05-05, cancelled by a_credit
    a_credit: Invoice     # credit note for a_cancelled, issued 2026-05-20
    a_draft: Invoice
    b_invoice: Invoice
    c_invoice: Invoice


@pytest.fixture
def world(make) -> World:
    organizer = make.organizer(name="Big Events")
    event1 = make.event(organizer)
    event2 = make.event(organizer)
    a = make.customer(organizer, name="Alice Buyer")
    b = make.customer(organizer, name="Bob Other")
    other_org = make.organizer(name="Elsewhere")
    c = make.customer(other_org, name="Carol Far")
    c_event = make.event(other_org)

    a_first = close(make, event1, a, on=dt.date(2026, 3, 2),
                    lines=[line("Conference ticket", "2", "150.00", "19.00")])
    invoices.pay_invoice(a_first, actor=ACTOR)
    a_second = close(make, event2, a, on=dt.date(2026, 4, 10),
                     lines=[line("Workshop", "1", "80.00", "7.00")])
    a_cancelled = close(make, event1, a, on=dt.date(2026, 5, 5),
                        lines=[line("Dinner", "1", "50.00", "19.00")])
    a_credit = invoices.cancel_invoice(a_cancelled, actor=ACTOR, today=dt.date(2026, 5, 20))
    a_draft = make.invoice(event1, a, lines=[line("Draft thing", "1", "999.00")])
    b_invoice = close(make, event1, b, on=dt.date(2026, 4, 1))
    c_invoice = close(make, c_event, c, on=dt.date(2026, 4, 1))
    jobs.commit()
    return World(a=a, b=b, c=c, event1=event1, event2=event2, a_first=a_first,
                 a_second=a_second, a_cancelled=a_cancelled, a_credit=a_credit,
                 a_draft=a_draft, b_invoice=b_invoice, c_invoice=c_invoice)
