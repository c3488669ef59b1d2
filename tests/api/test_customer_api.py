"""The customer's own API: X-Customer-Key, the Open2b conditions, never drafts or others'."""

from __future__ import annotations

import pytest

from portal.services import documents, invoices
from tests.factories import ACTOR

from .conftest import Api

URL = "/api/v1/customer/invoices"


@pytest.fixture
def mine(world, make):
    """The customer's invoices: closed in two events, a credit note, a proforma and a draft;
    plus another customer's and another organizer's."""
    c = world.customer
    first = make.closed(world.event, c)
    second = make.closed(world.other_event, c)
    credit = invoices.cancel_invoice(first, actor=ACTOR)
    proforma = make.closed(world.event, c, type="proforma")
    draft = make.invoice(world.event, c)
    other = make.closed(world.event, make.customer(world.organizer))
    foreign = make.closed(world.stranger_event)
    return {"first": first.id, "second": second.id, "credit": credit.id,
            "proforma": proforma.id, "draft": draft.id, "other": other.id,
            "foreign": foreign.id}


@pytest.fixture
def customer_api(client, world) -> Api:
    return Api(client, customer_key=world.customer.plain_key)


def test_lists_own_closed_invoices_across_events(customer_api, mine):
    body = customer_api.get(URL).get_json()
    assert body["count"] == 4
    assert [i["id"] for i in body["invoices"]] == sorted(
        [mine["first"], mine["second"], mine["credit"], mine["proforma"]])
    assert all(i["customer"] == "C-1001" and i["status"] != "draft" for i in body["invoices"])


@pytest.mark.parametrize(("query", "expected"), [
    ("type=proforma", ["proforma"]),
    ("type=credit_note", ["credit"]),
    ("ids={first},{draft},{other},{foreign},{proforma}", ["first", "proforma"]),
    ("after={second}", ["credit", "proforma"]),
    ("limit=2", ["first", "second"]),
    ("limit=2&first=1", ["second", "credit"]),
    ("first=10", []),
    ("type=invoice&after={first}", ["second"]),
])
def test_the_open2b_conditions(customer_api, mine, query, expected):
    body = customer_api.get(f"{URL}?{query.format(**mine)}").get_json()
    assert [i["id"] for i in body["invoices"]] == [mine[name] for name in expected]


def test_count_is_before_limit_and_first(customer_api, mine):
    body = customer_api.get(f"{URL}?limit=1&first=1").get_json()
    assert body["count"] == 4 and len(body["invoices"]) == 1


def test_fields_projection(customer_api, mine):
    body = customer_api.get(f"{URL}?fields=id,type,number&type=proforma").get_json()
    assert list(body["invoices"][0]) == ["id", "number", "type"]
    one = customer_api.get(f"{URL}/{mine['first']}?fields=status").get_json()
    assert one == {"status": "cancelled"}


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=101", "limit"), ("first=-1", "first"), ("after=x", "after"),
    ("ids=1,x", "ids"), ("ids=", "ids"), ("type=Invoice", "type"), ("fields=id,key", "fields"),
    ("page=1", "page"), ("ids=" + ",".join(["1"] * 101), "ids"), ("ids=99999999999", "ids"),
])
def test_bad_conditions_are_400(customer_api, query, field):
    response = customer_api.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_detail_never_shows_drafts_or_anyone_elses(customer_api, mine):
    assert customer_api.get(f"{URL}/{mine['second']}").get_json()["id"] == mine["second"]
    for name in ("draft", "other", "foreign"):
        response = customer_api.get(f"{URL}/{mine[name]}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert customer_api.get(f"{URL}/{mine[name]}/pdf").status_code == 404
    assert customer_api.get(f"{URL}/abc").status_code == 404


def test_the_customer_pdf_is_the_document_of_record(customer_api, mine):
    pending = customer_api.get(f"{URL}/{mine['second']}/pdf")
    assert pending.status_code == 409
    assert pending.get_json()["error"]["code"] == "document_pending"
    assert int(pending.headers["Retry-After"]) > 0
    document = documents.store_document_of_record(mine["second"])
    response = customer_api.get(f"{URL}/{mine['second']}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == document.content and response.data.startswith(b"%PDF")
    assert response.headers["ETag"] == f'"{document.sha256}"'
    again = customer_api.get(f"{URL}/{mine['second']}/pdf",
                             headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_keys_and_tokens_do_not_mix(client, world, mine):
    assert Api(client).get(URL).status_code == 401
    assert Api(client, customer_key="ck_nope").get(URL).get_json()["error"]["code"] == \
        "invalid_customer_key"
    assert Api(client, token=world.rw.plain).get(URL).status_code == 401
    other = Api(client, customer_key=world.customer.plain_key)
    assert other.get(f"/api/v1/organizers/{world.organizer.slug}/invoices/").status_code == 401


def test_writes_are_not_offered(customer_api, mine):
    response = customer_api.post(URL, {})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
