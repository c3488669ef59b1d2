"""Every API route × every kind of caller -> the status SPEC §6 demands.

Callers: a read-write token, a read-only token, a token limited to *another* event of the same
organizer, another organizer's token, nobody, and a customer key. Another organizer's objects
are 404 (never 403), a read-only token writing is 403, missing or wrong credentials are 401.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal.services import documents, invoices, webhooks
from tests.factories import ACTOR

from .conftest import Api

WHO = ("rw", "ro", "limited", "stranger", "none", "customer")

# route, method, body, then the expected status for each caller in WHO.
MATRIX = [
    ("org/invoices/", "GET", None, 200, 200, 200, 404, 401, 401),
    ("invoices/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("invoices/", "POST", {}, 201, 403, 404, 404, 401, 401),
    ("invoices/{draft}/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("invoices/{draft}/", "PATCH", {"channel": "web"}, 200, 403, 404, 404, 401, 401),
    ("invoices/{draft}/", "DELETE", None, 204, 403, 404, 404, 401, 401),
    ("invoices/{draft}/close/", "POST", {}, 200, 403, 404, 404, 401, 401),
    ("invoices/{open}/send/", "POST", {}, 200, 403, 404, 404, 401, 401),
    ("invoices/{open}/pay/", "POST", None, 200, 403, 404, 404, 401, 401),
    ("invoices/{open}/dispute/", "POST", {"reason": "wrong"}, 200, 403, 404, 404, 401, 401),
    ("invoices/{disputed}/resolve/", "POST", {}, 200, 403, 404, 404, 401, 401),
    ("invoices/{open}/cancel/", "POST", {}, 200, 403, 404, 404, 401, 401),
    ("invoices/{paid}/archive/", "POST", {}, 200, 403, 404, 404, 401, 401),
    ("invoices/{draft}/pdf/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("invoices/{open}/pdf/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("invoices/{open}/sendings/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("invoices/{open}/payments/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("invoices/{open}/payments/", "POST", {"amount": "1.00"}, 201, 403, 404, 404, 401, 401),
    ("invoices/{paid}/payments/{payment}/", "DELETE", None, 204, 403, 404, 404, 401, 401),
    ("invoices/{draft}/check/", "POST", {}, 200, 403, 404, 404, 401, 401),
    ("invoices/{open}/xml/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("ledger/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("orders/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("orders/", "POST", "order", 201, 403, 404, 404, 401, 401),
    ("orders/{order}/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("customers/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("customers/", "POST", {"reference": "NEW-1"}, 201, 403, 404, 404, 401, 401),
    ("customers/{customer}/", "GET", None, 200, 200, 404, 404, 401, 401),
    ("customers/{customer}/", "PATCH", {"name": "J. B."}, 200, 403, 404, 404, 401, 401),
    ("customers/{customer}/rotate-key/", "POST", None, 200, 403, 404, 404, 401, 401),
    ("customers/{customer}/statement/", "GET", None, 200, 200, 404, 404, 401, 401),
    # Webhooks: an owner's business, a read-write token for every event (SPEC §13).
    ("org/webhooks/", "GET", None, 200, 403, 403, 404, 401, 401),
    ("org/webhooks/", "POST", {"url": "https://example.com/h", "events": ["invoice.paid"]},
     201, 403, 403, 404, 401, 401),
    ("org/webhooks/{webhook}/", "GET", None, 200, 403, 403, 404, 401, 401),
    ("org/webhooks/{webhook}/", "PATCH", {"active": False}, 200, 403, 403, 404, 401, 401),
    ("org/webhooks/{webhook}/", "DELETE", None, 204, 403, 403, 404, 401, 401),
    ("org/webhooks/{webhook}/rotate-secret/", "POST", None, 200, 403, 403, 404, 401, 401),
    ("org/webhooks/{webhook}/deliveries/", "GET", None, 200, 403, 403, 404, 401, 401),
    ("org/webhooks/{webhook}/deliveries/{delivery}/redeliver/", "POST", None,
     202, 403, 403, 404, 401, 401),
    ("/customer/invoices", "GET", None, 401, 401, 401, 401, 401, 200),
    ("/customer/invoices/{open}", "GET", None, 401, 401, 401, 401, 401, 200),
    ("/customer/invoices/{open}/pdf", "GET", None, 401, 401, 401, 401, 401, 200),
    ("/customer/invoices/{open}/xml", "GET", None, 401, 401, 401, 401, 401, 200),
]


@dataclass
class Objects:
    draft: int
    open: int
    disputed: int
    paid: int
    order: str
    customer: int
    payment: int
    webhook: int
    delivery: int


@pytest.fixture
def objects(world, make, request) -> Objects:
    event, customer = world.event, world.customer
    draft = make.invoice(event, customer)
    open_ = make.closed(event, customer)
    route = getattr(request.node, "callspec", None) and request.node.callspec.params["route"]
    if route and route[0].startswith(("invoices/{open}/pdf", "/customer/invoices/{open}/pdf",
                                      "invoices/{open}/xml", "/customer/invoices/{open}/xml")):
        documents.store_document_of_record(open_.id)  # the job the commit would have run
    disputed = make.closed(event, customer)
    invoices.dispute_invoice(disputed, actor=ACTOR, reason="late")
    paid = make.closed(event, customer)
    invoices.pay_invoice(paid, actor=ACTOR)
    order = make.order(event, customer)
    # A webhook endpoint (port 9 refuses at once) with one delivery.
    webhook, _secret = webhooks.create_endpoint(world.organizer, {
        "url": "http://127.0.0.1:9/h", "events": ["customer.created"]}, actor=ACTOR)
    make.customer(world.organizer, reference="C-WEBHOOK")
    delivery = webhooks.endpoint_deliveries(webhook).items[0]
    return Objects(draft=draft.id, open=open_.id, disputed=disputed.id, paid=paid.id,
                   order=order.code, customer=customer.id, payment=paid.payments[0].id,
                   webhook=webhook.id, delivery=delivery.id)


def _url(world, objects: Objects, route: str) -> str:
    route = route.format(**vars(objects))
    if route.startswith("/customer/"):
        return "/api/v1" + route
    if route.startswith("org/"):
        return f"/api/v1/organizers/{world.organizer.slug}/{route[4:]}"
    return f"{world.base}/{route}"


def _caller(client, world, who: str) -> Api:
    token = {"rw": world.rw, "ro": world.ro, "limited": world.limited,
             "stranger": world.stranger}.get(who)
    key = world.customer.plain_key if who == "customer" else None
    return Api(client, token.plain if token is not None else None, key)


def _body(world, body):
    if body == "order":
        return {"code": "NEW-ORDER", "customer": world.customer.reference,
                "lines": [{"name": "Ticket", "quantity": "1", "unit_price": "10.00"}]}
    return body


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", MATRIX, ids=lambda r: f"{r[1]} {r[0]}")
def test_permission_matrix(client, world, objects, route, who):
    path, method, body = route[:3]
    expected = dict(zip(WHO, route[3:], strict=True))[who]
    response = _caller(client, world, who).request(method, _url(world, objects, path),
                                                   _body(world, body))
    assert response.status_code == expected, response.get_data(as_text=True)[:500]
    assert response.headers["X-Request-ID"]
    if expected >= 400:
        error = response.get_json()["error"]
        assert error["code"] and error["message"]
    if expected == 401:
        assert response.headers["WWW-Authenticate"] == 'Token realm="api"'


def test_the_matrix_covers_every_api_route(app):
    """A new route must join the matrix (and the OpenAPI document) to pass."""
    covered = set()
    for path, method, *_ in MATRIX:
        path = path.format(draft="<id>", open="<id>", disputed="<id>", paid="<id>",
                           order="<code>", customer="<id>", payment="<payment_id>",
                           webhook="<id>", delivery="<delivery_id>")
        if path.startswith("org/"):
            rule = "/api/v1/organizers/<organizer>/" + path[4:]
        elif path.startswith("/customer/"):
            rule = "/api/v1" + path
        else:
            rule = "/api/v1/organizers/<organizer>/events/<event>/" + path
        covered.add((rule, method))
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") for method in rule.methods - {"HEAD", "OPTIONS"}}
    public = {("/api/v1/openapi.json", "GET"), ("/api/v1/docs", "GET")}
    assert routes - public == covered


def test_a_token_limited_to_an_event_sees_that_event_and_no_other(world, make, as_token):
    mine = make.invoice(world.other_event, world.customer)
    make.invoice(world.event, world.customer)
    limited = as_token(world.limited)
    own = f"/api/v1/organizers/{world.organizer.slug}/events/{world.other_event.slug}"
    assert limited.get(f"{own}/invoices/{mine.id}/").status_code == 200
    assert limited.post(f"{own}/invoices/", {}).status_code == 201
    listed = limited.get(f"/api/v1/organizers/{world.organizer.slug}/invoices/").get_json()
    assert {r["event"] for r in listed["results"]} == {world.other_event.slug}
    assert listed["count"] == 2


def test_foreign_objects_are_404_with_the_same_body_as_missing_ones(world, make, api):
    foreign = make.invoice(world.stranger_event)
    other_event_invoice = make.invoice(world.other_event, world.customer)
    missing = api.get(world.invoice_url(999999))
    # An invoice of another organizer, asked for under our own event: plain 404.
    foreign_here = api.get(world.invoice_url(foreign))
    # An invoice of our other event, asked for under this event: 404 too.
    elsewhere = api.get(world.invoice_url(other_event_invoice))
    assert missing.status_code == foreign_here.status_code == elsewhere.status_code == 404
    assert missing.get_json() == foreign_here.get_json() == elsewhere.get_json()


def test_a_revoked_token_is_401(world, api):
    from portal.services import tokens
    tokens.revoke_token(world.rw, actor=ACTOR)
    assert api.get(f"{world.base}/invoices/").status_code == 401


@pytest.mark.parametrize("header", ["Bearer {t}", "Token", "Token ", "{t}", "Token {t}x",
                                    "Token " + "x" * 300])
def test_malformed_authorization_is_401(client, world, header):
    response = client.get(f"{world.base}/invoices/",
                          headers={"Authorization": header.format(t=world.rw.plain)})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] in ("unauthorized", "invalid_token")


def test_the_token_scheme_is_case_insensitive(client, world):
    response = client.get(f"{world.base}/invoices/",
                          headers={"Authorization": f"token {world.rw.plain}"})
    assert response.status_code == 200


def test_wrong_credentials_are_rate_limited_per_address(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "API_AUTH_FAILURE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.extensions, "portal.failure_limits", None)  # counts start empty
    bad = {"X-Customer-Key": "ck_wrong"}
    here = {"REMOTE_ADDR": "203.0.113.7"}
    statuses = [client.get("/api/v1/customer/invoices", headers=bad, environ_base=here)
                .status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    refused = client.get("/api/v1/customer/invoices", headers=bad, environ_base=here)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # A right key is never refused, not even from that address (keys carry 128+ random bits:
    # refusing it would only let a neighbour behind the same address lock the customer out)…
    right = {"X-Customer-Key": world.customer.plain_key}
    assert client.get("/api/v1/customer/invoices", headers=right,
                      environ_base=here).status_code == 200
    # …another address is unaffected, and tokens count separately.
    other = {"REMOTE_ADDR": "203.0.113.8"}
    assert client.get("/api/v1/customer/invoices", headers=bad,
                      environ_base=other).status_code == 401
    assert client.get(f"{world.base}/invoices/", environ_base=here,
                      headers={"Authorization": "Token wrong"}).status_code == 401


def test_a_right_token_works_from_an_address_past_its_budget(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", True)
    monkeypatch.setitem(app.config, "API_AUTH_FAILURE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.extensions, "portal.failure_limits", None)
    here = {"REMOTE_ADDR": "203.0.113.9"}
    url = f"{world.base}/invoices/"
    statuses = [client.get(url, environ_base=here, headers={"Authorization": f"Token bad{n}"})
                .status_code for n in range(4)]
    assert statuses == [401, 401, 429, 429]
    right = client.get(url, environ_base=here,
                       headers={"Authorization": f"Token {world.rw.plain}"})
    assert right.status_code == 200
    # Right tokens spend nothing: the wrong ones are still refused, no more and no fewer.
    assert client.get(url, environ_base=here,
                      headers={"Authorization": "Token bad"}).status_code == 429

def test_every_response_carries_a_request_id(client, api, world):
    echoed = api.get(f"{world.base}/invoices/", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    fresh = client.get("/api/v1/customer/invoices")
    assert fresh.status_code == 401 and len(fresh.headers["X-Request-ID"]) == 32
    assert client.get("/api/v1/nowhere").headers["X-Request-ID"]


def test_routing_errors_under_api_are_json(client, api, world):
    missing = client.get("/api/v1/nowhere")
    assert missing.status_code == 404
    assert missing.content_type == "application/json"
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong_method = api.request("PUT", f"{world.base}/invoices/")
    assert wrong_method.status_code == 405
    assert wrong_method.content_type == "application/json"
    assert wrong_method.get_json()["error"]["code"] == "method_not_allowed"
    assert set(wrong_method.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
