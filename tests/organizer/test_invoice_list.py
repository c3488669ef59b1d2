"""The event's invoice list: filters, sorting, pagination, totals, badges, and a query count
that does not grow with the page size."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from portal.services import invoices
from tests.factories import ACTOR, line

from .conftest import Browser, commit_fixtures, text

TODAY = dt.date.today()
ROW_NUMBER = re.compile(r'<td><a class="strong" href="[^"]+">([^<]+)</a></td>')


def numbers(response) -> list[str]:
    """The invoice numbers (or "Draft #id") of the list, top to bottom."""
    assert response.status_code == 200, response.status_code
    return ROW_NUMBER.findall(text(response))


@pytest.fixture
def shop(make, fast_passwords, client):
    organizer = make.organizer(slug="acme", name="Acme")
    event = make.event(organizer, slug="conf", invoice_prefix="INV-", proforma_prefix="PF-",
                       shipping_prefix="DN-", due_days=14)
    alice = make.customer(organizer, "C-A", name="Alice Archer")
    bob = make.customer(organizer, "C-B", name="Bob Baker")
    order = make.order(event, bob, code="ORD-7", lines=[
        {"name": "Ticket", "quantity": "2", "unit_price": "100.00", "tax_rate": "19.00"}])

    def close(invoice, days_ago):
        invoices.close_invoice(invoice, actor=ACTOR, today=TODAY - dt.timedelta(days=days_ago))
        return invoice

    close(make.invoice(event, alice, lines=[line("Ticket", "1", "100.00", "19")]), 40)
    second = close(make.invoice(event, bob, lines=[line("Pin", "1", "9.00", "0")]), 30)
    invoices.pay_invoice(second, actor=ACTOR)
    close(make.invoice(event, alice, type="proforma",
                                  lines=[line("Booth", "1", "1000.00", "19")]), 20)
    from_order = invoices.create_draft(event, {"order": order.code}, actor=ACTOR)
    close(from_order, 10)
    draft = make.invoice(event, alice, lines=[line("Later", "1", "50.00", "19")])
    viewer = make.member(organizer, "viewer", email="viewer@acme.example")
    commit_fixtures()
    browser = Browser(client, viewer)
    browser.base = f"/org/{organizer.slug}/events/{event.slug}/invoices"
    browser.draft = f"Draft #{draft.id}"
    browser.dates = {key: (TODAY - dt.timedelta(days=days)).isoformat()
                     for key, days in (("first", 40), ("second", 30), ("proforma", 20),
                                       ("order", 10))}
    return browser


def test_default_order_is_newest_first(shop):
    assert numbers(shop.get(shop.base)) == [shop.draft, "INV-00003", "PF-00001", "INV-00002",
                                            "INV-00001"]


@pytest.mark.parametrize(("query", "expected"), [
    ("type=proforma", ["PF-00001"]),
    ("type=invoice&status=draft", ["DRAFT"]),
    ("status=paid", ["INV-00002"]),
    ("status=open", ["INV-00003", "PF-00001", "INV-00001"]),
    ("customer=C-A", ["DRAFT", "PF-00001", "INV-00001"]),
    ("customer=bak", ["INV-00003", "INV-00002"]),          # a part of the name, any case
    ("order=ORD-7", ["INV-00003"]),
    ("number=pf-", ["PF-00001"]),                          # number search, any case
    ("number=0000", ["INV-00003", "PF-00001", "INV-00002", "INV-00001"]),
    ("number=%25", []),                                    # "%" is a character, not a wildcard
    ("customer=nobody", []),
])
def test_filters(shop, query, expected):
    expected = [shop.draft if n == "DRAFT" else n for n in expected]
    assert numbers(shop.get(f"{shop.base}?{query}")) == expected


def test_issue_date_range_includes_both_ends(shop):
    url = (f"{shop.base}?issued_after={shop.dates['second']}"
           f"&issued_before={shop.dates['proforma']}")
    assert numbers(shop.get(url)) == ["PF-00001", "INV-00002"]


def test_invalid_filters_are_ignored_and_said_so(shop):
    response = shop.get(f"{shop.base}?issued_after=31.12.2026&status=lost&ordering=best")
    page = text(response)
    assert response.status_code == 200
    assert "Issued after: Enter a date as YYYY-MM-DD. (ignored)" in page
    assert "Status: Choose one of:" in page
    assert "Ordering: Choose one of:" in page
    assert len(numbers(response)) == 5


@pytest.mark.parametrize(("ordering", "expected"), [
    ("number", ["INV-00001", "INV-00002", "INV-00003", "PF-00001", "DRAFT"]),
    ("-number", ["PF-00001", "INV-00003", "INV-00002", "INV-00001", "DRAFT"]),
    # amounts compare as numbers (9.00 < 59.50 < 119.00 < 238.00 < 1190.00), not as text
    ("total", ["INV-00002", "DRAFT", "INV-00001", "INV-00003", "PF-00001"]),
    ("-total", ["PF-00001", "INV-00003", "INV-00001", "DRAFT", "INV-00002"]),
    ("date", ["INV-00001", "INV-00002", "PF-00001", "INV-00003", "DRAFT"]),
    ("-date", ["INV-00003", "PF-00001", "INV-00002", "INV-00001", "DRAFT"]),
    ("created", ["INV-00001", "INV-00002", "PF-00001", "INV-00003", "DRAFT"]),
])
def test_sorting(shop, ordering, expected):
    expected = [shop.draft if n == "DRAFT" else n for n in expected]
    assert numbers(shop.get(f"{shop.base}?ordering={ordering}")) == expected


def test_pagination_keeps_filters_and_sorting(shop):
    response = shop.get(f"{shop.base}?ordering=number&page_size=2&page=2")
    assert numbers(response) == ["INV-00003", "PF-00001"]
    page = text(response)
    assert "3–4 of 5 invoices" in page
    assert "Page 2 of 3" in page
    assert 'href="/org/acme/events/conf/invoices?ordering=number&amp;page_size=2&amp;page=3"' \
        in page
    assert 'href="/org/acme/events/conf/invoices?ordering=number&amp;page_size=2&amp;page=1"' \
        in page


def test_a_page_past_the_end_shows_the_last_page(shop):
    response = shop.get(f"{shop.base}?ordering=number&page_size=2&page=99")
    assert numbers(response) == [shop.draft]
    assert "Page 3 of 3" in text(response)


def test_totals_badges_and_status_counts(shop):
    page = text(shop.get(f"{shop.base}?ordering=number"))
    # gross totals in the event's currency, written for the viewer's locale (en)
    for amount in ("€119.00", "€9.00", "€238.00", "€1,190.00", "€59.50"):
        assert amount in page
    # Only what adds up: the three invoices 119.00 + 9.00 + 238.00 = 366.00; the proforma
    # (1,190.00) and the draft (59.50) are left out, and the label says so.
    assert 'data-page-total="EUR">€366.00</td>' in page
    assert "without drafts and proformas" in page
    # The first invoice was issued 40 days ago with 14 days to pay: overdue. Paid ones never are.
    first_row = page.split(">INV-00001<", 1)[1].split("</tr>", 1)[0]
    assert "Overdue" in first_row
    second_row = page.split(">INV-00002<", 1)[1].split("</tr>", 1)[0]
    assert "Overdue" not in second_row and "Paid" in second_row
    assert re.search(r"Open <span class=\"count\">3</span>", page)
    assert re.search(r"All <span class=\"count\">5</span>", page)


def test_money_follows_the_viewers_locale(shop, app):
    from portal.extensions import db
    from portal.models import User
    viewer = db.session.scalar(db.select(User).where(User.email == "viewer@acme.example"))
    viewer.locale = "de"
    commit_fixtures()
    page = text(shop.get(f"{shop.base}?ordering=number"))
    assert "1.190,00\xa0€" in page


def test_query_count_does_not_grow_with_the_page_size(make, fast_passwords, client,
                                                      count_queries):
    organizer = make.organizer(slug="big")
    event = make.event(organizer, slug="conf")
    customers = [make.customer(organizer, f"C-{n}") for n in range(3)]
    for n in range(30):
        invoice = make.invoice(event, customers[n % 3])
        if n % 5 == 0:
            invoices.close_invoice(invoice, actor=ACTOR)
            closed = invoice
    invoices.cancel_invoice(closed, actor=ACTOR)  # a credit note that refers to it
    viewer = make.member(organizer, "viewer")
    commit_fixtures()
    browser = Browser(client, viewer)
    url = f"/org/{organizer.slug}/events/{event.slug}/invoices?page_size="
    counts = {}
    for size in (5, 10, 31, 200):
        with count_queries() as queries:
            response = browser.get(url + str(size))
        assert len(numbers(response)) == min(size, 31)
        counts[size] = queries.count
    assert len(set(counts.values())) == 1, counts
    assert counts[5] <= 8, counts


# ---------------------------------------------------------------- issue 18


def test_newest_first_reads_numbers_downwards_whatever_the_creation_order(
        make, fast_passwords, client):
    organizer = make.organizer(slug="sc")
    event = make.event(organizer, slug="conf", invoice_prefix="SC2026-")
    viewer = make.member(organizer, "viewer", email="v@sc.example")
    customer = make.customer(organizer, "C-1")
    # Ten drafts made first, closed in reverse: the last made gets number 1.
    drafts = [make.invoice(event, customer) for _ in range(10)]
    for draft in reversed(drafts):
        invoices.close_invoice(draft, actor=ACTOR, today=TODAY)
    waiting = make.invoice(event, customer)
    commit_fixtures()
    base = f"/org/{organizer.slug}/events/{event.slug}/invoices"
    browser = Browser(client, viewer)
    shown = numbers(browser.get(base))
    assert shown == [f"Draft #{waiting.id}"] + [f"SC2026-{n:05d}" for n in range(10, 0, -1)]
    # "Created, newest" is what the list used to show first: creation order, numbers reversed.
    shown = numbers(browser.get(base + "?ordering=-created"))
    assert shown[1:4] == ["SC2026-00001", "SC2026-00002", "SC2026-00003"]


def test_a_cancelled_invoice_and_its_credit_note_add_up_to_nothing(
        make, fast_passwords, client):
    organizer = make.organizer(slug="cx")
    event = make.event(organizer, slug="conf")
    viewer = make.member(organizer, "viewer", email="v@cx.example")
    customer = make.customer(organizer, "C-1")
    cancelled = make.invoice(event, customer, lines=[line("Ticket", "1", "100.00", "19")])
    invoices.close_invoice(cancelled, actor=ACTOR)
    invoices.cancel_invoice(cancelled, actor=ACTOR)
    kept = make.invoice(event, customer, lines=[line("Pin", "2", "5.00", "19")])
    invoices.close_invoice(kept, actor=ACTOR)
    make.invoice(event, customer, type="proforma", lines=[line("Booth", "1", "500.00", "19")])
    make.invoice(event, customer, currency="USD", lines=[line("Dollar", "1", "7.00", "0")])
    dollar = make.invoice(event, customer, currency="USD", lines=[line("D", "1", "3.00", "0")])
    invoices.close_invoice(dollar, actor=ACTOR)
    commit_fixtures()
    page = text(Browser(client, viewer).get(f"/org/{organizer.slug}/events/{event.slug}/invoices"))
    # EUR: 119.00 − 119.00 (the credit note) + 2 × 5.00 × 1.19 = 11.90; the proforma and
    # drafts are left out. USD on its own line: only the closed 3.00.
    assert 'data-page-total="EUR">€11.90</td>' in page
    assert 'data-page-total="USD">$3.00</td>' in page
