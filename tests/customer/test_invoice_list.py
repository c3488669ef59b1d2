"""`/my/invoices`: the customer's closed invoices across the organizer's events."""

from __future__ import annotations

import datetime as dt
import re

from portal import jobs
from portal.services import customers, invoices
from tests.factories import ACTOR, line

from .helpers import close, sign_in

ROW = re.compile(r'<a class="my-number" href="/my/invoices/(\d+)">([^<]+)</a>')


def rows(html: str) -> list[str]:
    """The invoice numbers of the list, in page order."""
    return [number for _, number in ROW.findall(html)]


def get_list(client, query: str = "") -> str:
    response = client.get("/my/invoices" + query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_lists_own_closed_invoices_of_every_event_newest_first_with_credit_notes_beside(
        client, world):
    sign_in(client, world.a)
    html = get_list(client)
    # The credit note (issued last) stands right after the invoice it cancels.
    assert rows(html) == [world.a_cancelled.number, world.a_credit.number,
                          world.a_second.number, world.a_first.number]
    assert world.a_draft.event.name in html  # event 1, through A's closed invoices
    assert world.event2.name in html
    for foreign in (world.b_invoice, world.c_invoice):
        assert f"/my/invoices/{foreign.id}\"" not in html
    assert "Draft thing" not in html and "999" not in html
    assert "1–4 of 4 documents" in html


def test_a_row_shows_number_event_dates_total_status_and_overdue(client, world):
    sign_in(client, world.a)
    html = get_list(client)
    row = html[html.index(world.a_second.number):]
    row = row[:row.index("</tr>")]
    assert world.event2.name in row
    assert "Apr 10, 2026" in row          # issued
    assert "Apr 24, 2026" in row          # due: 14 days later
    assert "€85.60" in row                # 80.00 + 7 % tax
    assert 'class="badge badge-open">Open</span>' in row
    assert 'class="badge badge-overdue">Overdue</span>' in row

    paid = html[html.index(world.a_first.number):]
    paid = paid[:paid.index("</tr>")]
    assert "€357.00" in paid              # 2 × 150.00 + 19 % tax
    assert "Paid" in paid and "Overdue" not in paid

    credit = html[html.index(world.a_credit.number):]
    credit = credit[:credit.index("</tr>")]
    assert f"Credit note for {world.a_cancelled.number}" in credit
    assert "-€59.50" in credit            # minus (50.00 + 19 % tax)
    assert "my-credit-row" in html[:html.index(world.a_credit.number)].rsplit("<tr", 1)[1]


def test_not_overdue_before_the_due_date(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    invoice = close(make, event, customer, on=dt.date(2026, 1, 5), due_date="2999-01-01")
    sign_in(client, customer)
    html = get_list(client)
    assert invoice.number in html
    assert "Overdue" not in html
    assert "Jan 1, 2999" in html


def test_amounts_and_dates_follow_the_customers_locale(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer, locale="de")
    close(make, event, customer, on=dt.date(2026, 3, 2),
          lines=[line("Ticket", "10", "123.45", "19.00")])
    sign_in(client, customer)
    html = get_list(client)
    assert "1.469,06\xa0€" in html        # 1234.50 + 234.56 tax, German style
    assert "02.03.2026" in html
    assert '<html lang="de">' in html


def test_filters_by_type_and_status(client, world):
    sign_in(client, world.a)
    assert rows(get_list(client, "?type=credit_note")) == [world.a_credit.number]
    assert rows(get_list(client, "?status=paid")) == [world.a_first.number]
    assert rows(get_list(client, "?type=invoice&status=cancelled")) == [world.a_cancelled.number]
    assert rows(get_list(client, "?status=&type=")) == rows(get_list(client))


def test_number_search_is_a_case_insensitive_substring_match(client, world):
    sign_in(client, world.a)
    number = world.a_second.number           # e.g. "E12-00001"
    assert rows(get_list(client, f"?number={number.lower()}")) == [number]
    assert rows(get_list(client, "?number=%25")) == []   # a literal "%", not a wildcard
    html = get_list(client, "?number=nothing-like-this")
    assert "No invoices match these filters." in html


def test_invalid_filters_are_a_400_listing_each_problem(client, world):
    sign_in(client, world.a)
    response = client.get("/my/invoices?type=bogus&status=draft&page=0")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<strong>type</strong>" in html
    assert "<strong>status</strong>" in html
    assert "<strong>page</strong>" in html


def test_pagination_keeps_the_filters(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    numbers = [close(make, event, customer, on=dt.date(2026, 1, 1) + dt.timedelta(days=i)).number
               for i in range(23)]
    sign_in(client, customer)
    first = get_list(client, "?type=invoice")
    assert rows(first) == numbers[::-1][:20]
    assert "1–20 of 23 documents" in first and "Page 1 of 2" in first
    assert 'href="/my/invoices?type=invoice&amp;page=2"' in first
    second = get_list(client, "?type=invoice&page=2")
    assert rows(second) == numbers[::-1][20:]
    assert 'href="/my/invoices?type=invoice&amp;page=1"' in second
    # A page past the end shows the last one rather than nothing.
    assert rows(get_list(client, "?page=9")) == numbers[::-1][20:]


def test_empty_list_says_so(client, make):
    customer = make.customer(make.organizer())
    sign_in(client, customer)
    assert "There are no invoices for you yet." in get_list(client)


def test_the_list_costs_the_same_number_of_queries_for_3_or_30_invoices(
        client, make, count_queries):
    organizer = make.organizer()
    events = [make.event(organizer), make.event(organizer)]
    customer = make.customer(organizer)

    def add(n: int) -> None:
        for i in range(n):
            invoice = close(make, events[i % 2], customer, on=dt.date(2026, 2, 1),
                            lines=[line(), line("Extra", "2", "10.00", "7.00")])
            if i % 3 == 0:
                invoices.cancel_invoice(invoice, actor=ACTOR)
        jobs.commit()

    sign_in(client, customer)
    add(3)
    with count_queries() as few:
        assert len(rows(get_list(client))) == 4
    add(27)
    with count_queries() as many:
        assert len(rows(get_list(client))) == 20
    assert many.count == few.count
    assert few.count <= 3, "\n".join(few.statements)


def test_a_rotated_key_stops_the_list_at_once(client, world):
    sign_in(client, world.a)
    customers.rotate_key(world.a, actor=ACTOR)
    assert client.get("/my/invoices").status_code == 303
