"""Keyset paging of the invoice lists (issue 16): `starting_after` / `ending_before` next to
`page`. A walk forwards or backwards sees every invoice exactly once, in the list's order, for
every ordering, also while invoices are added during the walk; one page is one query."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.extensions import db
from portal.services import invoices
from tests.factories import ACTOR

ORDERINGS = ("", "number", "-number", "date", "-date")


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def mixed(world, make):
    """Closed invoices on two dates (ties), credit notes and drafts (no number, no date)."""
    event, customer = world.event, world.customer
    made = []
    for day in (dt.date(2026, 3, 2), dt.date(2026, 3, 1)):
        for _ in range(3):
            invoice = make.invoice(event, customer)
            invoices.close_invoice(invoice, actor=ACTOR, today=day)
            made.append(invoice)
    made.append(invoices.cancel_invoice(made[0], actor=ACTOR, today=dt.date(2026, 3, 1)))
    made += [make.invoice(event, customer) for _ in range(4)]
    make.closed(world.other_event, customer)  # another event's: never in this list
    db.session.flush()
    return made


def _all_ids(api, url: str) -> list[int]:
    body = api.get(url + ("&" if "?" in url else "?") + "page_size=200").get_json()
    return [r["id"] for r in body["results"]]


def _walk(api, first: str, link: str) -> tuple[list[int], list[dict]]:
    ids, bodies, url = [], [], first
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        bodies.append(body)
        ids.append([r["id"] for r in body["results"]])
        url = _path(body[link]) if body[link] else None
        assert len(bodies) < 50
    return ids, bodies


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_walking_forwards_and_backwards_sees_every_invoice_once_in_order(
        api, world, mixed, ordering):
    url = f"{world.base}/invoices/"
    suffix = f"&ordering={ordering}" if ordering else ""
    expected = _all_ids(api, url + (f"?ordering={ordering}" if ordering else ""))
    assert len(expected) == 11
    pages, bodies = _walk(api, f"{url}?starting_after=&page_size=3{suffix}", "next")
    assert [i for page in pages for i in page] == expected
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert [b["has_more"] for b in bodies] == [True, True, True, False]
    assert bodies[0]["previous"] is None and all(b["count"] == 11 for b in bodies)
    assert all(f"ordering={ordering}" in b["next"] for b in bodies[:-1]) if ordering else True
    pages, bodies = _walk(api, f"{url}?ending_before=&page_size=3{suffix}", "previous")
    assert [i for page in reversed(pages) for i in page] == expected
    assert [len(p) for p in pages] == [3, 3, 3, 2]
    assert bodies[0]["next"] is None and bodies[-1]["has_more"] is False
    # Each page's own links lead to its neighbours.
    middle = api.get(f"{url}?starting_after={expected[2]}&page_size=3{suffix}").get_json()
    assert [r["id"] for r in middle["results"]] == expected[3:6]
    back = api.get(_path(middle["previous"])).get_json()
    assert [r["id"] for r in back["results"]] == expected[0:3] and back["has_more"] is False
    forth = api.get(_path(back["next"])).get_json()
    assert [r["id"] for r in forth["results"]] == expected[3:6] and forth["has_more"] is True


@pytest.mark.parametrize("ordering", ["", "number", "-date"])
def test_a_walk_survives_invoices_added_and_closed_meanwhile(api, world, make, mixed, ordering):
    url = f"{world.base}/invoices/"
    suffix = f"&ordering={ordering}" if ordering else ""
    before = set(_all_ids(api, url))
    seen, next_url, added = [], f"{url}?starting_after=&page_size=2{suffix}", []
    while next_url:
        body = api.get(next_url).get_json()
        seen += [r["id"] for r in body["results"]]
        # Between the first pages, someone adds a draft and closes another (new numbers,
        # dates that sort between those already seen).
        if len(added) < 4:
            added.append(make.invoice(world.event, world.customer).id)
            invoices.close_invoice(make.invoice(world.event, world.customer), actor=ACTOR,
                                   today=dt.date(2026, 3, 1))
            db.session.flush()
        next_url = _path(body["next"]) if body["next"] else None
        assert len(seen) < 200
    assert len(seen) == len(set(seen))  # no invoice twice
    assert before <= set(seen)          # none of those that were there skipped
    assert set(added) <= set(seen)      # drafts sort last (or by id): reached as well


def test_the_organizer_wide_list_pages_by_cursor_within_the_tokens_events(
        as_token, world, mixed):
    url = f"/api/v1/organizers/{world.organizer.slug}/invoices/"
    api = as_token(world.rw)
    pages, bodies = _walk(api, f"{url}?starting_after=&page_size=4", "next")
    assert [i for p in pages for i in p] == _all_ids(api, url)
    assert bodies[0]["count"] == 12
    limited = as_token(world.limited)
    body = limited.get(f"{url}?starting_after=").get_json()
    assert body["count"] == 1 and len(body["results"]) == 1 and body["has_more"] is False
    refused = limited.get(f"{url}?starting_after={mixed[0].id}")
    assert refused.status_code == 400
    assert "starting_after" in refused.get_json()["error"]["fields"]


def test_cursors_refused_with_the_fields_named(api, world, mixed, make):
    url = f"{world.base}/invoices/"
    other = make.closed(world.other_event, world.customer)
    db.session.flush()
    cases = [
        (f"?starting_after={mixed[1].id}&ending_before={mixed[2].id}",
         {"starting_after", "ending_before"}),
        (f"?starting_after={mixed[1].id}&page=1", {"page"}),
        ("?ending_before=&page=2", {"page"}),
        (f"?starting_after={other.id}", {"starting_after"}),           # another event's
        (f"?ending_before={mixed[-1].id}&status=open", {"ending_before"}),  # filtered out
        ("?starting_after=0", {"starting_after"}),
        ("?starting_after=01", {"starting_after"}),
        ("?ending_before=x", {"ending_before"}),
        ("?starting_after=2147483648", {"starting_after"}),
    ]
    for query, fields in cases:
        response = api.get(url + query)
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["code"] == "invalid" and set(error["fields"]) == fields, (query, error)
    # The last invoice of the list is a valid cursor: an empty page, nothing more.
    last = _all_ids(api, url)[-1]
    body = api.get(f"{url}?starting_after={last}").get_json()
    assert body["results"] == [] and body["has_more"] is False and body["next"] is None


def test_the_count_is_the_kept_one_or_null(api, world, mixed):
    url = f"{world.base}/invoices/"
    paged = api.get(f"{url}?status=open,paid").get_json()["count"]
    assert paged == 6  # five invoices and the credit note
    assert api.get(f"{url}?starting_after=&status=open,paid").get_json()["count"] == paged
    body = api.get(f"{url}?starting_after=&customer=C-1001").get_json()
    assert body["count"] is None and len(body["results"]) == 11
    assert set(body) == {"count", "next", "previous", "has_more", "results"}
    assert "has_more" not in api.get(url).get_json()  # page mode keeps SPEC §6's envelope


def test_a_keyset_page_is_one_invoice_query_and_no_count(api, world, mixed, count_queries):
    url = f"{world.base}/invoices/?starting_after={mixed[1].id}&page_size=3&ordering=-number"
    with count_queries() as counter:
        body = api.get(url).get_json()
    assert len(body["results"]) == 3
    lists = [s for s in counter.statements
             if re.match(r"\s*SELECT .*\sFROM invoices\b", s, re.S) and "LIMIT" in s]
    assert len(lists) == 1
    assert not any(re.search(r"count\((\*|invoices\.id)\)", s) for s in counter.statements)
    assert parse_qs(urlsplit(body["next"]).query)["starting_after"] == [
        str(body["results"][-1]["id"])]
