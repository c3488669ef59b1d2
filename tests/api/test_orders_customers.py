"""Orders and customers through the API; a customer's key is answered once, stored hashed."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Customer
from portal.services.secrets import hash_secret


def test_create_list_and_read_orders(api, world, make):
    response = api.post(f"{world.base}/orders/", {
        "code": "ABC12", "customer": "C-1001", "placed_at": "2026-11-01T10:00:00Z",
        "lines": [{"sku": "A927TP", "name": "Shirt", "quantity": 3, "unit_price": "56.33",
                   "tax_rate": "19"}]})
    assert response.status_code == 201
    order = response.get_json()
    assert order == {
        "id": order["id"], "code": "ABC12", "customer": "C-1001",
        "placed_at": "2026-11-01T10:00:00Z", "created_at": order["created_at"],
        "lines": [{"position": 1, "sku": "A927TP", "name": "Shirt", "quantity": "3.00",
                   "unit_price": "56.330", "tax_rate": "19.00", "tax_code": "VAT"}]}
    assert response.headers["Location"].endswith(f"{world.base}/orders/ABC12/")
    assert api.get(response.headers["Location"]).get_json() == order
    other = make.customer(world.organizer, reference="C-2")
    make.order(world.event, other, code="Z9")
    make.order(world.other_event, world.customer, code="ELSEWHERE")
    listed = api.get(f"{world.base}/orders/").get_json()
    assert [o["code"] for o in listed["results"]] == ["ABC12", "Z9"] and listed["count"] == 2
    assert [o["code"] for o in api.get(f"{world.base}/orders/?customer=C-2").get_json()[
        "results"]] == ["Z9"]
    # An invoice made from it through the API.
    invoice = api.post(f"{world.base}/invoices/", {"order": "ABC12"}).get_json()
    assert invoice["order"] == "ABC12" and invoice["totals"]["gross"] == "201.10"


def test_order_refusals(api, world, make):
    make.order(world.event, world.customer, code="TAKEN")
    response = api.post(f"{world.base}/orders/", {"code": "TAKEN", "customer": "nobody",
                                                  "lines": [{"quantity": "x"}], "extra": 1})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {
        "code", "customer", "lines.0.name", "lines.0.quantity", "lines.0.unit_price", "extra"}
    assert api.get(f"{world.base}/orders/NOPE/").status_code == 404
    assert api.get(f"{world.base}/orders/?page_size=201").status_code == 400
    elsewhere = make.order(world.other_event, world.customer, code="OTHER")
    assert api.get(f"{world.base}/orders/{elsewhere.code}/").status_code == 404


def test_create_a_customer_answers_its_key_once(api, world):
    response = api.post(f"{world.base}/customers/", {
        "reference": "C-77", "name": "Sherlock Holmes", "email": "sh@example.com",
        "locale": "en-GB", "billing_address": {"street1": "221b Baker Street",
                                                "country": "GB"}})
    assert response.status_code == 201
    body = response.get_json()
    key = body.pop("key")
    assert key.startswith("ck_") and len(key) >= 30
    assert body["reference"] == "C-77" and body["billing_address"]["country"] == "GB"
    stored = db.session.scalar(select(Customer).where(Customer.reference == "C-77"))
    assert stored.key_hash == hash_secret(key) and key not in repr(vars(stored))
    detail = api.get(response.headers["Location"]).get_json()
    assert "key" not in detail and detail == body
    assert "key" not in api.get(f"{world.base}/customers/").get_json()["results"][0]


def test_customer_refusals_and_changes(api, world, make):
    duplicate = api.post(f"{world.base}/customers/", {"reference": "C-1001", "email": "x",
                                                      "age": 3})
    assert duplicate.status_code == 400
    assert set(duplicate.get_json()["error"]["fields"]) == {"reference", "email", "age"}
    url = f"{world.base}/customers/{world.customer.id}/"
    changed = api.patch(url, {"name": "Jane Q. Buyer", "locale": "de"})
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["locale"]) == ("Jane Q. Buyer", "de")
    assert api.patch(url, {"reference": ""}).status_code == 400
    foreign = make.customer(world.stranger_event.organizer)
    assert api.get(f"{world.base}/customers/{foreign.id}/").status_code == 404
    assert api.patch(f"{world.base}/customers/{foreign.id}/", {}).status_code == 404
    assert api.post(f"{world.base}/customers/{foreign.id}/rotate-key/").status_code == 404


def test_customers_are_the_organizers_and_filterable(api, world, make):
    make.customer(world.organizer, reference="C-2", email="Two@Example.com")
    make.customer(world.stranger_event.organizer, reference="C-3")
    body = api.get(f"{world.base}/customers/").get_json()
    assert [c["reference"] for c in body["results"]] == ["C-1001", "C-2"]
    other = f"/api/v1/organizers/{world.organizer.slug}/events/{world.other_event.slug}"
    assert api.get(f"{other}/customers/").get_json() == body
    assert api.get(f"{world.base}/customers/?email=two@example.com").get_json()["count"] == 1
    assert api.get(f"{world.base}/customers/?reference=C-2").get_json()["count"] == 1


def test_rotate_key(api, client, world):
    old = world.customer.plain_key
    response = api.post(f"{world.base}/customers/{world.customer.id}/rotate-key/")
    assert response.status_code == 200
    new = response.get_json()["key"]
    assert new != old
    assert client.get("/api/v1/customer/invoices",
                      headers={"X-Customer-Key": old}).status_code == 401
    assert client.get("/api/v1/customer/invoices",
                      headers={"X-Customer-Key": new}).status_code == 200
    assert api.post(f"{world.base}/customers/{world.customer.id}/rotate-key/",
                    {"x": 1}).status_code == 400
