"""Open2b dialect: the seed's storefront call, answered in the seed's shapes (SPEC §12)."""

from __future__ import annotations

import json
from decimal import Decimal

import requests

from portal.extensions import db
from portal.services import invoices
from tests.factories import ACTOR, line

from .seeds import OPEN2B_ANSWER, OPEN2B_INVOICE, same_shape


def storefront_invoices(base: str, customer_key: str, body: dict) -> requests.Response:
    """The seed's request: HTTP POST, X-Customer-Key, the JSON body (only the base URL ours)."""
    return requests.post(f"{base}/compat/open2b/api/v10/storefront.invoices",
                         headers={"X-Customer-Key": customer_key}, json=body)


SEED_BODY = {"conditions": {"ids": [662705500], "type": "Proforma", "after": 603529013},
             "fields": ["id", "type", "number"], "limit": 10, "first": 0}


def _documents(world, make):
    customer = world.customer
    shirt = make.closed(world.event, customer, lines=[
        line(sku="A927TP", description="Shirt", quantity="3", unit_price="56.33",
             tax_rate="19", weight="0.450")] * 3,
        rounding={"mode": "half_up", "rule": "per_item"},
        discounts=[{"type": "percent_off", "value": "10"}],
        shipping_method={"name": "FedEx", "cost": "8.57", "tax_rate": "19"})
    proforma = make.closed(world.event, customer, type="proforma")
    shipped = make.closed(world.event, customer, type="shipping_invoice", shipping={
        "shipped_at": "2026-09-12T10:22:54Z", "number_of_packages": 1, "carriage": "paid",
        "goods_appearance": "Five cardboard boxes", "tracking_number": "rt-5pl7f-fg",
        "transport_reason": "Order shipment"})
    cancelled = make.closed(world.event, customer)
    credit = invoices.cancel_invoice(cancelled, actor=ACTOR)
    draft = make.invoice(world.event, customer)
    db.session.flush()
    return shirt, proforma, shipped, cancelled, credit, draft


def test_the_seed_request_and_the_seed_shape(seed_http, world, make):
    shirt, proforma, shipped, cancelled, credit, draft = _documents(world, make)
    key = world.customer.plain_key

    # The seed's body as written: its ids name nothing of ours, so nothing matches.
    seed = storefront_invoices(seed_http, key, SEED_BODY)
    assert seed.status_code == 200 and seed.json() == {"status": "ok", "invoices": [],
                                                       "count": 0}

    everything = storefront_invoices(seed_http, key, {"limit": 100})
    assert everything.status_code == 200
    body = everything.json()
    assert same_shape(body, OPEN2B_ANSWER) == []
    by_id = {item["id"]: item for item in body["invoices"]}
    # Drafts never appear; every closed document does, in id order.
    assert list(by_id) == sorted([shirt.id, proforma.id, shipped.id, cancelled.id, credit.id])
    assert body["count"] == 5
    for item in body["invoices"]:
        assert set(item) == set(OPEN2B_INVOICE)

    item = by_id[shirt.id]
    assert item["type"] == "Invoice" and item["status"] == "Open"
    assert item["rounding"] == {"mode": "HalfUp", "rule": "PerItem"}
    assert item["discounts"] == [{"type": "PercentOff", "value": 10.0}]
    assert item["porto"] is None and item["shippingTime"] is None
    assert by_id[proforma.id]["type"] == "Proforma"
    assert by_id[credit.id]["type"] == "CreditNote"
    assert by_id[credit.id]["referenceType"] == "Invoice"
    assert by_id[credit.id]["referenceNumber"] == cancelled.number
    assert by_id[cancelled.id]["status"] == "Cancelled"
    ship = by_id[shipped.id]
    assert ship["type"] == "ShippingInvoice" and ship["porto"] == "Franco"
    assert ship["shippingTime"] == "2026-09-12 10:22:54" and ship["numberOfPackages"] == 1
    assert ship["trackingNumber"] == "rt-5pl7f-fg"


def test_numbers_are_json_numbers_from_the_exact_decimal_text(seed_http, world, make):
    shirt, *_ = _documents(world, make)
    response = storefront_invoices(seed_http, world.customer.plain_key,
                                   {"conditions": {"ids": [shirt.id]}})
    raw = response.text
    # per_item, net entry: 3 lines of 3 x 56.33 at 19 %; unit tax 10.70 x 9 = 96.30; net
    # 506.97. 10 % off: q(506.97 * 0.10) = 50.70 with tax q(50.70 * 0.19) = 9.63, so 456.27 net
    # and 86.67 tax. Shipping 8.57 net + q(8.57 * 0.19) = 1.63 tax.
    # Totals: net 456.27 + 8.57 = 464.84; tax 86.67 + 1.63 = 88.30; gross 553.14.
    item = json.loads(raw, parse_float=Decimal)["invoices"][0]
    assert '"quantity":3.00' in raw and '"price":56.330' in raw
    assert '"prediscountSubtotal":506.97' in raw
    assert '"total":464.84' in raw and '"taxAmount":88.30' in raw
    assert '"taxedTotal":553.14' in raw
    assert '"weight":4.050' in raw  # 3 lines x 3 units x 0.450
    # Each line: 3 x 56.33 = 168.99 net; unit tax q(56.33 * 0.19) = 10.70, x 3 = 32.10.
    assert item["items"][0]["prices"]["totalPrice"] == Decimal("168.99")
    assert item["items"][0]["prices"]["taxedTotalPrice"] == Decimal("201.09")
    assert item["items"][0]["tax"] == {"code": "VAT", "rate": Decimal("19.00"),
                                       "amount": Decimal("32.10")}
    assert item["shippingMethod"] == {"name": "FedEx", "cost": Decimal("8.57")}
    assert not any(isinstance(v, float) for v in item.values())


def test_conditions_ids_type_after_fields_limit_first(seed_http, world, make):
    shirt, proforma, shipped, cancelled, credit, _ = _documents(world, make)
    key = world.customer.plain_key

    def ids(body):
        response = storefront_invoices(seed_http, key, body)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["invoices"]], response.json()["count"]

    assert ids({"conditions": {"ids": [proforma.id, credit.id]}}) == (
        [proforma.id, credit.id], 2)
    assert ids({"conditions": {"type": "Proforma"}}) == ([proforma.id], 1)
    assert ids({"conditions": {"type": "CreditNote"}}) == ([credit.id], 1)
    assert ids({"conditions": {"after": shipped.id}}) == ([cancelled.id, credit.id], 2)
    # limit and first page through; count is every match.
    assert ids({"limit": 2}) == ([shirt.id, proforma.id], 5)
    assert ids({"limit": 2, "first": 2}) == ([shipped.id, cancelled.id], 5)
    assert ids({"first": 10}) == ([], 5)
    only = storefront_invoices(seed_http, key, {"fields": ["id", "type", "number"],
                                                "conditions": {"ids": [proforma.id]}})
    assert only.json()["invoices"] == [{"id": proforma.id, "type": "Proforma",
                                        "number": proforma.number}]


def test_bad_requests_answer_in_open2b_error_envelope(seed_http, world, make):
    key = world.customer.plain_key
    for body, field in (({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
                        ({"first": -1}, "first"), ({"conditions": {"type": "invoice"}}, "type"),
                        ({"conditions": {"ids": [0]}}, "ids"), ({"fields": ["nope"]}, "fields"),
                        ({"conditions": {"after": "3"}}, "after"), ({"limit": 1.5}, "limit"),
                        ({"whatever": 1}, "Unknown")):
        response = storefront_invoices(seed_http, key, body)
        assert response.status_code == 400, body
        answer = response.json()
        assert answer["status"] == "error" and set(answer["error"]) == {"code", "message"}
        assert answer["error"]["code"] == "invalid" and field in answer["error"]["message"]
    wrong = storefront_invoices(seed_http, "not-a-key", {})
    assert wrong.status_code == 401 and wrong.json()["status"] == "error"
    # GET is not the seed's method.
    assert requests.get(f"{seed_http}/compat/open2b/api/v10/storefront.invoices",
                        headers={"X-Customer-Key": key}).status_code == 405


def test_a_customer_sees_only_its_own(seed_http, world, make):
    shirt, *_ = _documents(world, make)
    other = make.customer(world.organizer)
    theirs = make.closed(world.event, other)
    stranger = make.customer(world.stranger_event.organizer)
    make.closed(world.stranger_event, stranger)
    response = storefront_invoices(seed_http, other.plain_key,
                                   {"conditions": {"ids": [shirt.id, theirs.id]}})
    assert [item["id"] for item in response.json()["invoices"]] == [theirs.id]
    assert storefront_invoices(seed_http, stranger.plain_key,
                               {"conditions": {"ids": [shirt.id]}}).json()["count"] == 0
