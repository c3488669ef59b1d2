"""Invoice lists: the envelope, paging, every filter, ordering, projection, query counts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest

from portal.extensions import db
from portal.services import invoices
from tests.factories import ACTOR, line

DAY = dt.date(2026, 3, 1)


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [r["id"] for r in response.get_json()["results"]]


def _close(invoice, day):
    invoices.close_invoice(invoice, actor=ACTOR, today=day)
    db.session.flush()
    return invoice


@pytest.fixture
def dataset(world, make):
    """Invoices of every kind, issued on known days (plus a draft and a foreign one)."""
    event, c1 = world.event, world.customer
    c2 = make.customer(world.organizer, reference="C-2002")
    order = make.order(event, c2, code="ORD-7")
    out = {
        "inv1": _close(make.invoice(event, c1), DAY),
        "inv2": _close(invoices.create_draft(event, {"order": "ORD-7"}, actor=ACTOR),
                       DAY + dt.timedelta(days=1)),
        "proforma": _close(make.invoice(event, c1, type="proforma", locale="de"),
                           DAY + dt.timedelta(days=2)),
        "shipping": _close(make.invoice(event, c2, type="shipping_invoice"),
                           DAY + dt.timedelta(days=3)),
        "draft": make.invoice(event, c1),
    }
    out["credit"] = invoices.cancel_invoice(out["inv1"], actor=ACTOR,
                                            today=DAY + dt.timedelta(days=4))
    out["manual_credit"] = _close(make.invoice(event, c1, type="credit_note",
                                               refers=out["inv2"].number),
                                  DAY + dt.timedelta(days=5))
    make.closed(world.other_event, c1)
    make.closed(world.stranger_event)
    db.session.flush()
    assert out["inv2"].order_id == order.id
    return {name: invoice.id for name, invoice in out.items()} | {
        "inv1_number": out["inv1"].number, "inv2_number": out["inv2"].number}


def test_the_envelope_and_its_links(api, world, dataset):
    first = api.get(f"{world.base}/invoices/?page_size=3&ordering=date").get_json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    link = urlsplit(first["next"])
    assert link.path == f"{world.base}/invoices/"
    assert sorted(link.query.split("&")) == ["ordering=date", "page=2", "page_size=3"]
    second = api.get(first["next"]).get_json()
    third = api.get(second["next"]).get_json()
    assert third["next"] is None and len(third["results"]) == 1
    assert api.get(third["previous"]).get_json() == second
    assert api.get(second["previous"]).get_json() == first


@pytest.mark.parametrize(("query", "field"), [
    ("page_size=201", "page_size"), ("page_size=0", "page_size"), ("page=0", "page"),
    ("page=abc", "page"), ("page=99999999999999999999", "page"), ("page=-1", "page"),
    ("type=bogus", "type"), ("status=open,nope", "status"), ("is_cancellation=maybe",
                                                             "is_cancellation"),
    ("issued_after=2026-13-01", "issued_after"), ("issued_before=yesterday", "issued_before"),
    ("ordering=total", "ordering"), ("fields=nope", "fields"), ("color=red", "color"),
    ("number=" + "9" * 65, "number"), ("page=1&page=2", "page"), ("event=x", "event"),
])
def test_bad_list_parameters_are_400(api, world, query, field):
    response = api.get(f"{world.base}/invoices/?{query}")
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_every_problem_of_a_query_is_listed(api, world):
    response = api.get(f"{world.base}/invoices/?page=0&page_size=500&type=x&ordering=y")
    assert set(response.get_json()["error"]["fields"]) == {"page", "page_size", "type",
                                                           "ordering"}


def test_a_page_past_the_end_is_404(api, world, dataset):
    assert api.get(f"{world.base}/invoices/?page=2").status_code == 404
    assert api.get(f"{world.base}/invoices/?page=9999999").status_code == 404
    empty = api.get(f"/api/v1/organizers/{world.organizer.slug}/events/"
                    f"{world.other_event.slug}/invoices/?type=proforma")
    assert empty.get_json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize(("query", "expected"), [
    ("type=invoice", ["inv1", "inv2", "draft"]),
    ("type=credit_note", ["credit", "manual_credit"]),
    ("type=proforma,shipping_invoice", ["proforma", "shipping"]),
    ("status=draft", ["draft"]),
    ("status=cancelled", ["inv1"]),
    ("status=open,cancelled", ["inv1", "inv2", "proforma", "shipping", "credit",
                               "manual_credit"]),
    ("is_cancellation=true", ["credit"]),
    ("is_cancellation=false", ["inv1", "inv2", "proforma", "shipping", "draft",
                               "manual_credit"]),
    ("order=ORD-7", ["inv2"]),
    ("order=ORD", []),
    ("refers={inv1_number}", ["credit"]),
    ("refers={inv2_number}", ["manual_credit"]),
    ("locale=de", ["proforma"]),
    ("customer=C-2002", ["inv2", "shipping"]),
    ("customer=C-20", []),
    ("number={inv2_number}", ["inv2"]),
    ("issued_after=2026-03-03", ["proforma", "shipping", "credit", "manual_credit"]),
    ("issued_before=2026-03-02", ["inv1", "inv2"]),
    ("issued_after=2026-03-02&issued_before=2026-03-03", ["inv2", "proforma"]),
    ("type=invoice&status=open&customer=C-2002", ["inv2"]),
])
def test_every_filter(api, world, dataset, query, expected):
    query = query.format(**dataset)
    got = _ids(api.get(f"{world.base}/invoices/?{query}"))
    assert got == [dataset[name] for name in sorted(expected, key=dataset.get)]


@pytest.mark.parametrize(("ordering", "expected"), [
    ("date", ["inv1", "inv2", "proforma", "shipping", "credit", "manual_credit", "draft"]),
    ("-date", ["manual_credit", "credit", "shipping", "proforma", "inv2", "inv1", "draft"]),
])
def test_ordering_by_date_puts_drafts_last(api, world, dataset, ordering, expected):
    got = _ids(api.get(f"{world.base}/invoices/?ordering={ordering}"))
    assert got == [dataset[name] for name in expected]


def test_ordering_by_number(api, world, dataset):
    results = api.get(f"{world.base}/invoices/?ordering=number&fields=number").get_json()
    numbers = [r["number"] for r in results["results"]]
    assert numbers[-1] is None and numbers[:-1] == sorted(numbers[:-1])
    backwards = api.get(f"{world.base}/invoices/?ordering=-number&fields=number").get_json()
    assert [r["number"] for r in backwards["results"]] == sorted(numbers[:-1],
                                                                  reverse=True) + [None]


@pytest.mark.parametrize("ordering", ["number", "-number", "date", "-date", None])
def test_pages_never_repeat_or_skip_rows(api, world, make, ordering):
    """Many invoices share a date (and drafts share no number): the id breaks every tie."""
    expected = set()
    for i in range(11):
        invoice = make.invoice(world.event, world.customer)
        if i % 3:
            _close(invoice, DAY)
        expected.add(invoice.id)
    seen = []
    url = f"{world.base}/invoices/?page_size=2" + (f"&ordering={ordering}" if ordering else "")
    while url:
        body = api.get(url).get_json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert len(seen) == len(expected) and set(seen) == expected


def test_fields_projection_on_lists(api, world, dataset):
    body = api.get(f"{world.base}/invoices/?fields=number,status&type=proforma").get_json()
    assert body["results"] == [{"number": body["results"][0]["number"], "status": "open"}]


def test_the_organizer_wide_list_spans_the_token_events(api, world, dataset, as_token):
    url = f"/api/v1/organizers/{world.organizer.slug}/invoices/"
    body = api.get(url).get_json()
    assert body["count"] == 8
    assert {r["event"] for r in body["results"]} == {world.event.slug, world.other_event.slug}
    only = api.get(url + f"?event={world.other_event.slug}").get_json()
    assert only["count"] == 1 and only["results"][0]["event"] == world.other_event.slug
    assert api.get(url + "?customer=C-2002").get_json()["count"] == 2
    limited = as_token(world.limited).get(url + f"?event={world.event.slug}").get_json()
    assert limited["count"] == 0
    assert as_token(world.stranger).get(url).status_code == 404


def test_list_queries_do_not_grow_with_page_size(api, world, make, count_queries):
    for _ in range(12):
        make.closed(world.event, world.customer,
                    lines=[line(), line(), line()], discounts=[
                        {"type": "percent_off", "value": "5"}])
    make.invoice(world.event, world.customer)
    url = f"{world.base}/invoices/"

    def queries(size: int) -> int:
        db.session.expunge_all()  # as in production, each request starts with nothing loaded
        with count_queries() as counter:
            response = api.get(f"{url}?page_size={size}")
        assert len(response.get_json()["results"]) == min(size, 13)
        return counter.count

    # Closed invoices come from their frozen representation: the rows and nothing else.
    small, large = queries(1), queries(12)
    assert small == large
    assert large <= 4, "auth (2) + count + page"
    # A page with a draft on it (drafts sort last by number) reads the draft the slow way,
    # in one batch: its objects, then lines, discounts, taxes and payments.
    assert queries(13) == large + 5
