"""The OpenAPI document matches the API: it is valid OpenAPI 3.1, names every route, and a
property-based run (Schemathesis) finds no 5xx and no response that breaks the document."""

from __future__ import annotations

import hashlib

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.api.openapi import openapi_document
from portal.services import documents, invoices
from tests.factories import ACTOR

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES = 12

CONFIG = schemathesis.Config.from_dict({
    "generation": {"max-examples": EXAMPLES, "mode": "all"},
    "seed": 20261102,
})
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)


def test_the_document_is_valid_openapi_3_1():
    schema.validate()
    assert schema.raw_schema["openapi"] == "3.1.0"


def test_the_served_document_is_the_one_tested(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    served = response.get_json()
    assert served["servers"] == [{"url": "http://localhost/api/v1"}]
    assert served["paths"] == openapi_document()["paths"]
    assert served["components"] == openapi_document()["components"]


def test_every_route_is_documented_and_nothing_else(app):
    documented = {(path, method.upper()) for path, item in openapi_document()["paths"].items()
                  for method in item}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.rule.startswith("/api/v1"):
            path = rule.rule.removeprefix("/api/v1")
            for name in ("organizer", "event", "id", "code", "payment_id", "delivery_id"):
                path = path.replace(f"<{name}>", f"{{{name}}}")
            routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_the_reference_page_is_our_own_static_page(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    page.close()
    assert '<script src="/static/api-docs/docs.js"' in html
    assert "<script>" not in html and "style=" not in html and "http" not in html.replace(
        'http-equiv', '')
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    for name, marker in (("docs.js", b"/api/v1/openapi.json"), ("docs.css", b".operation")):
        with client.get(f"/static/api-docs/{name}") as asset:
            assert asset.status_code == 200 and marker in asset.data


# ---------------------------------------------------------------- the property-based run


@pytest.fixture
def seeded(world, make):
    """A small world the generated requests can find things in."""
    event, customer = world.event, world.customer
    draft = make.invoice(event, customer)
    closed = make.closed(event, customer)
    documents.store_document_of_record(closed.id)
    disputed = make.closed(event, customer)
    invoices.dispute_invoice(disputed, actor=ACTOR)
    paid = make.closed(event, customer, type="shipping_invoice")
    invoices.pay_invoice(paid, actor=ACTOR)
    proforma = make.closed(event, customer, type="proforma")
    make.order(event, customer, code="ABC12")  # the code the document's examples use
    # Drafts twice: most generated bodies are edits, and only drafts take them.
    return {"invoices": [draft.id, draft.id, closed.id, disputed.id, paid.id, proforma.id],
            "customers": [customer.id], "organizer": world.organizer.slug, "event": event.slug, "order": "ABC12",
            "token": world.rw.plain, "key": customer.plain_key}


def _steer(case, seeded) -> None:
    """Point four in five generated requests at objects that exist, with valid credentials;
    leave the fifth exactly as generated (unknown slugs, odd ids, missing or bad credentials)."""
    generated = repr((case.path_parameters, case.query, case.body, case.headers))
    digest = hashlib.sha256(generated.encode()).hexdigest()
    if int(digest, 16) % 5 == 0:
        return
    params = case.path_parameters or {}
    for name in ("organizer", "event"):
        if name in params:
            params[name] = seeded[name]
    if "code" in params:
        params["code"] = seeded["order"]
    if isinstance(params.get("id"), int):
        pool = seeded["customers" if "/customers/" in case.operation.path else "invoices"]
        params["id"] = pool[int(digest, 16) % len(pool)]
    headers = dict(case.headers or {})
    if "Idempotency-Key" in headers:  # one key per distinct request, so retries replay
        headers["Idempotency-Key"] = digest
    if case.operation.path.startswith("/customer/"):
        headers["X-Customer-Key"] = seeded["key"]
    else:
        headers["Authorization"] = f"Token {seeded['token']}"
    case.headers = headers


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_matches_its_document(case, app, seeded):
    _steer(case, seeded)
    case.call_and_validate(app=app, checks=CHECKS)
