"""The OpenAPI document and the server agree on the edge values: a value the document allows is
accepted by the server, and a value it forbids is a 400 (issue 10, part 7).

Schemathesis (test_openapi.py) checks the answers against the document; it does not check that
the server *refuses* what the document forbids, or accepts everything the document allows.
These probes do, for `fields=`, the other comma lists, empty query values and empty strings in
bodies (`to: ""` for send, blank dates, …): each probe is validated against the document's own
schema (jsonschema_rs, which Schemathesis brings) and sent to the server.
"""

from __future__ import annotations

import json

import jsonschema_rs
import pytest

from portal.api.openapi import openapi_document
from portal.services import invoices
from tests.factories import ACTOR, line

DOCUMENT = openapi_document()
LIST = "/organizers/{organizer}/events/{event}/invoices/"


def _validator(schema: dict):
    return jsonschema_rs.Draft202012Validator({**schema, "components": DOCUMENT["components"]},
                                              validate_formats=True)


def _query_schema(path: str, name: str) -> dict:
    for param in DOCUMENT["paths"][path]["get"]["parameters"]:
        if param["name"] == name and param["in"] == "query":
            return param["schema"]
    raise AssertionError(f"{name} is not documented on {path}")


def _as_typed(schema: dict, raw: str):
    """The query text as the document's type reads it (a client serializes 1 as "1")."""
    kind = schema.get("type")
    if kind == "integer" and raw.isascii() and raw.isdigit():
        return int(raw)
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw


QUERY_PROBES = {
    "fields": ["", "id", "id,number,totals", "id,,number", " id", "id,", ",id", "id, number",
               "nope", "id,nope", "ID"],
    "type": ["", "invoice", "invoice,proforma", "invoice, proforma", "invoice,", "Invoice"],
    "status": ["", "open", "open,paid", "open,,paid", "nope"],
    "is_cancellation": ["", "true", "false", "True", "1"],
    "issued_after": ["", "2026-01-02", "2026-1-2", "tomorrow"],
    "issued_before": ["", "2026-12-31"],
    "ordering": ["", "number", "-date", "total"],
    "page": ["", "1", "0", "x"],
    "page_size": ["", "1", "200", "201"],
    "customer": ["", "C-1001", "x" * 64, "x" * 65],
    "number": ["", "E1-00001"],
}


@pytest.mark.parametrize(("name", "raw"), [(n, v) for n, values in QUERY_PROBES.items()
                                           for v in values])
def test_a_query_value_is_accepted_exactly_when_the_document_allows_it(api, world, name, raw):
    schema = _query_schema(LIST, name)
    allowed = _validator(schema).is_valid(_as_typed(schema, raw))
    response = api.get(f"{world.base}/invoices/", query_string={name: raw})
    assert response.status_code in (200, 400), response.status_code
    assert (response.status_code == 200) == allowed, (name, raw, response.get_json())


def test_fields_is_the_same_comma_list_on_every_operation_that_takes_it():
    schemas = {json.dumps(param["schema"], sort_keys=True)
               for item in DOCUMENT["paths"].values() for operation in item.values()
               for param in operation.get("parameters", []) if param["name"] == "fields"}
    assert len(schemas) == 1
    assert "pattern" in json.loads(schemas.pop())


# ---------------------------------------------------------------- bodies


def _body_schema(path: str, method: str) -> dict:
    return DOCUMENT["paths"][path][method]["requestBody"]["content"]["application/json"][
        "schema"]


SEND = "/organizers/{organizer}/events/{event}/invoices/{id}/send/"
DISPUTE = "/organizers/{organizer}/events/{event}/invoices/{id}/dispute/"


@pytest.mark.parametrize("to", ["", None, "buyer@example.com", "not an address", "a@"])
def test_send_to_agrees_with_the_document(api, world, make, to):
    invoice = make.closed(world.event, world.customer)
    allowed = _validator(_body_schema(SEND, "post")).is_valid({"to": to})
    response = api.post(world.invoice_url(invoice, "send/"), {"to": to})
    assert response.status_code in (200, 400), response.get_json()
    assert (response.status_code == 200) == allowed, (to, response.get_json())
    if response.status_code == 200 and not to:
        assert invoice.sendings[-1].to == world.customer.email  # empty: the buyer's address


@pytest.mark.parametrize("reason", ["", None, "Wrong seat", "x" * 2000, "x" * 2001])
def test_dispute_reason_agrees_with_the_document(api, world, make, reason):
    invoice = make.closed(world.event, world.customer)
    allowed = _validator(_body_schema(DISPUTE, "post")).is_valid({"reason": reason})
    response = api.post(world.invoice_url(invoice, "dispute/"), {"reason": reason})
    assert response.status_code in (200, 400), response.get_json()
    assert (response.status_code == 200) == allowed, (reason, response.get_json())


INVOICE = "/organizers/{organizer}/events/{event}/invoices/{id}/"
# (path in the body, value): empty strings where the document and the server could part ways.
INVOICE_PROBES = [
    ("due_date", ""), ("due_date", "2026-12-01"), ("expires_at", ""), ("locale", ""),
    ("currency", ""), ("type", ""), ("refers", ""), ("package_number", ""), ("channel", ""),
    ("customer", ""),
    ("shipping.shipped_at", ""), ("shipping.number_of_packages", ""),
    ("shipping.carriage", ""), ("shipping.tracking_number", ""),
    ("lines.0.discount_rate", ""), ("lines.0.discount_amount", ""), ("lines.0.weight", ""),
    ("lines.0.sku", ""), ("lines.0.unit", ""), ("lines.0.tax_code", ""),
    ("lines.0.tax_rate", ""), ("lines.0.quantity", ""), ("lines.0.unit_price", ""),
    ("lines.0.description", ""), ("lines.0.description", "  "),
    ("texts.footer", ""), ("reference.type", ""), ("billing_address.country", ""),
    ("billing_address.email", ""), ("rounding.mode", ""), ("discounts.0.value", ""),
    ("shipping_method.cost", ""), ("shipping_method.name", ""), ("shipping_method.name", " "),
    ("shipping_method.tax_code", ""),
]


def _invoice_body() -> dict:
    return {"type": "shipping_invoice", "customer": "C-1001", "due_date": "2026-12-01",
            "locale": "en",
            "lines": [line(sku="S1", unit="pcs", tax_code="VAT")],
            "shipping": {"shipped_at": "2026-11-02T10:00:00Z", "number_of_packages": 1,
                         "carriage": "paid", "tracking_number": "T1"},
            "texts": {"footer": "Thanks"}, "reference": {"type": "quote", "number": "Q1"},
            "billing_address": {"company": "Buyer Ltd", "country": "GB",
                                "email": "jane@example.com"},
            "rounding": {"mode": "half_up"},
            "discounts": [{"type": "percent_off", "value": "10"}],
            "shipping_method": {"name": "FedEx", "cost": "8.57", "tax_rate": "19.00",
                                "tax_code": "VAT"}}


def _set(body: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = body
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return body


@pytest.mark.parametrize(("path", "value"), INVOICE_PROBES)
def test_an_invoice_body_value_is_accepted_exactly_when_the_document_allows_it(
        api, world, make, path, value):
    draft = make.invoice(world.event, world.customer)
    base = _invoice_body()
    assert _validator(_body_schema(INVOICE, "patch")).is_valid(base)
    assert api.patch(world.invoice_url(draft), base).status_code == 200
    body = _set(_invoice_body(), path, value)
    allowed = _validator(_body_schema(INVOICE, "patch")).is_valid(body)
    response = api.patch(world.invoice_url(draft), body)
    assert response.status_code in (200, 400), response.get_json()
    assert (response.status_code == 200) == allowed, (path, value, response.get_json())


CUSTOMERS = "/organizers/{organizer}/events/{event}/customers/"
ORDERS = "/organizers/{organizer}/events/{event}/orders/"


@pytest.mark.parametrize(("path", "value"), [
    ("name", ""), ("email", ""), ("locale", ""), ("billing_address.country", ""),
    ("billing_address.email", ""), ("reference", ""), ("reference", " "),
])
def test_a_customer_body_value_is_accepted_exactly_when_the_document_allows_it(
        api, world, path, value):
    body = _set({"reference": "C-2001", "name": "Ann", "email": "ann@example.com",
                 "locale": "en", "billing_address": {"country": "DE",
                                                     "email": "ann@example.com"}},
                path, value)
    allowed = _validator(_body_schema(CUSTOMERS, "post")).is_valid(body)
    response = api.post(f"{world.base}/customers/", body)
    assert response.status_code in (201, 400), response.get_json()
    assert (response.status_code == 201) == allowed, (path, value, response.get_json())


@pytest.mark.parametrize(("path", "value"), [
    ("placed_at", ""), ("lines.0.sku", ""), ("lines.0.tax_code", ""), ("lines.0.tax_rate", ""),
    ("code", ""), ("code", " "), ("lines.0.name", ""), ("lines.0.name", " "),
])
def test_an_order_body_value_is_accepted_exactly_when_the_document_allows_it(
        api, world, path, value):
    body = _set({"code": "O-77", "customer": world.customer.reference, "placed_at":
                 "2026-11-02T10:00:00Z", "lines": [{"sku": "S", "name": "Shirt", "quantity": "1",
                                                    "unit_price": "1.00", "tax_rate": "19",
                                                    "tax_code": "VAT"}]}, path, value)
    allowed = _validator(_body_schema(ORDERS, "post")).is_valid(body)
    response = api.post(f"{world.base}/orders/", body)
    assert response.status_code in (201, 400), response.get_json()
    assert (response.status_code == 201) == allowed, (path, value, response.get_json())


def test_invoices_used_by_the_probes_are_real(world, make):
    """Guard against probes passing vacuously: the world has the buyer the bodies name."""
    invoice = make.closed(world.event, world.customer)
    assert invoice.status == "open" and world.customer.reference == "C-1001"
    invoices.pay_invoice(invoice, actor=ACTOR)
    assert invoice.status == "paid"
