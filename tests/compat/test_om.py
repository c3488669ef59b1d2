"""OM dialect: the seed's five calls, wrapped and answered in OM's envelope (SPEC §12)."""

from __future__ import annotations

import email
import email.policy
import html
import os

import requests
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invoice, Sending
from portal.services.mail_transports import FolderTransport
from tests.organizer.conftest import sign_in

from .seeds import OM_CLOSE, OM_CREATE, OM_DELETE, OM_PATCH, OM_SEND, same_shape


class OmClient:
    """The seed's requests as written: `params` bodies, JSON, `Accept: */*`."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.headers = {"Accept": "*/*", "Authorization": f"Token {token}"}

    def _send(self, method, path, params=None, headers=None):
        headers = {**self.headers, **(headers or {})}
        if params is None:
            return requests.request(method, f"{self.base}/v1/om/invoices{path}", headers=headers)
        return requests.request(method, f"{self.base}/v1/om/invoices{path}", headers=headers,
                                json={"params": params})

    def create(self, order_id, type_, reference_invoice_id, apply_expires_at, **kw):
        return self._send("POST", "", {"orderId": order_id, "type": type_,
                                       "referenceInvoiceId": reference_invoice_id,
                                       "applyExpiresAt": apply_expires_at}, **kw)

    def delete(self, invoice_id):
        return self._send("DELETE", f"/{invoice_id}")

    def update(self, invoice_id, order_id, reference_invoice_id, apply_expires_at):
        return self._send("PATCH", f"/{invoice_id}", {
            "orderId": order_id, "id": invoice_id, "referenceInvoiceId": reference_invoice_id,
            "applyExpiresAt": apply_expires_at})

    def close(self, invoice_id):
        return self._send("PATCH", f"/{invoice_id}/close")

    def send(self, invoice_id, order_id):
        return self._send("POST", f"/{invoice_id}/send", {"orderId": order_id,
                                                          "invoiceId": invoice_id})


def _client(seed_http, world, token, event=None) -> OmClient:
    event = event or world.event
    return OmClient(f"{seed_http}/compat/om/{world.organizer.slug}/{event.slug}", token.plain)


def _envelope_ok(response, seed, request_id=None):
    assert response.status_code == 200, response.text
    body = response.json()
    assert same_shape(body, seed) == [] and set(body) == set(seed)
    assert body["app"] == "invoice-portal" and body["service"] == "invoices"
    assert body["warnings"] == []
    assert body["requestId"] == response.headers["X-Request-ID"]
    if request_id:
        assert body["requestId"] == request_id
    assert str(os.getpid()) in body["instanceId"]
    return body["data"]


def test_create_patch_close_send_and_delete_as_the_seed_shows(seed_http, world, make, app,
                                                               client):
    order = make.order(world.event, world.customer, code="ORD-1")
    referred = make.closed(world.event, world.customer)
    om = _client(seed_http, world, world.rw)

    created = _envelope_ok(om.create("ORD-1", 1, str(referred.id), "2030-01-31T12:00:00Z",
                                     headers={"X-Request-ID": "req-create-1"}),
                           OM_CREATE, request_id="req-create-1")
    invoice_id = created["id"]
    assert isinstance(invoice_id, str) and invoice_id.isdigit()
    invoice = db.session.get(Invoice, int(invoice_id))
    assert invoice.status == "draft" and invoice.order_code == "ORD-1"
    assert invoice.order_id == order.id and invoice.refers_id == referred.id
    assert invoice.expires_at.isoformat() == "2030-01-31T12:00:00+00:00"
    # The order's two tickets at 50.00 net + 19 %: 100.00 net, 19.00 tax, 119.00 gross.
    assert str(invoice.gross_total).startswith("119.00")

    assert _envelope_ok(om.update(invoice_id, "ORD-1", "", "2031-06-30T00:00:00Z"),
                        OM_PATCH) == {"success": True}
    db.session.expire_all()
    invoice = db.session.get(Invoice, int(invoice_id))
    assert invoice.expires_at.isoformat() == "2031-06-30T00:00:00+00:00"
    assert invoice.refers_id is None

    closed = _envelope_ok(om.close(invoice_id), OM_CLOSE)
    db.session.expire_all()
    invoice = db.session.get(Invoice, int(invoice_id))
    # The referred invoice took counter 1 of the sequence; this one is 2.
    assert closed["invoiceNumber"] == invoice.sequence_value == 2
    assert closed["invoiceSource"] == invoice.number == f"{world.event.invoice_prefix}00002"
    assert closed["invoicedAt"] == invoice.closed_at.isoformat().replace("+00:00", "Z")

    sent = _envelope_ok(om.send(invoice_id, "ORD-1"), OM_SEND)
    assert sent["success"] is True
    sending = db.session.scalar(select(Sending).where(Sending.invoice_id == int(invoice_id)))
    assert sending.outcome == "sent" and sending.message_id == sent["messageId"]
    # The mail actually written carries exactly this Message-ID.
    path = FolderTransport(app.config["MAIL_FOLDER"]).path_for(sent["messageId"])
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] == sent["messageId"]
    assert sent["messageId"].startswith("<") and sent["messageId"].endswith(">")
    assert message["To"] == "jane@example.com"
    # The JSON API's sendings and the back office show the same Message-ID.
    listed = client.get(f"/api/v1/organizers/{world.organizer.slug}/events/{world.event.slug}"
                        f"/invoices/{invoice_id}/sendings/",
                        headers={"Authorization": f"Token {world.ro.plain}"})
    assert listed.status_code == 200
    assert [(s["message_id"], s["outcome"], s["to"]) for s in listed.get_json()["results"]] == [
        (sent["messageId"], "sent", "jane@example.com")]
    owner = make.member(world.organizer, role="viewer")
    sign_in(client, owner)
    page = client.get(f"/org/{world.organizer.slug}/events/{world.event.slug}"
                      f"/invoices/{invoice_id}")
    assert page.status_code == 200
    assert html.escape(sent["messageId"]) in page.get_data(as_text=True)

    # A closed invoice cannot be deleted: 409 in OM's envelope, nothing changed.
    refused = om.delete(invoice_id)
    assert refused.status_code == 409
    error = refused.json()
    assert set(error) == {"app", "service", "warnings", "instanceId", "requestId", "error"}
    assert error["error"]["code"] == "illegal_transition"
    assert set(error["error"]) == {"code", "message", "fields"}
    db.session.expire_all()
    assert db.session.get(Invoice, int(invoice_id)).status == "sent"

    draft_id = _envelope_ok(om.create("ORD-1", 2, None, None), OM_CREATE)["id"]
    assert db.session.get(Invoice, int(draft_id)).type == "proforma"
    assert _envelope_ok(om.delete(draft_id), OM_DELETE) == {"succeed": True}
    assert db.session.get(Invoice, int(draft_id)) is None


def test_the_seed_example_body_as_written_is_a_listed_400(seed_http, world):
    # The seed's placeholders ("text") name no order, invoice or date: every one is listed.
    response = _client(seed_http, world, world.rw).create("text", 1, "text", "text")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    # (The service checks the order against the database only once the text is clean.)
    assert set(error["fields"]) == {"params.referenceInvoiceId", "params.applyExpiresAt"}
    error = _client(seed_http, world, world.rw).create(
        "text", 1, "text", "2030-01-01T00:00:00Z").json()["error"]
    assert set(error["fields"]) == {"params.orderId", "params.referenceInvoiceId"}
    assert db.session.scalar(select(func.count(Invoice.id))) == 0
    response = _client(seed_http, world, world.rw).create("text", 9, None, "text")
    assert set(response.json()["error"]["fields"]) >= {"params.type"}
    wrapped = requests.post(f"{seed_http}/compat/om/{world.organizer.slug}/{world.event.slug}"
                            "/v1/om/invoices", json={"orderId": "x"},
                            headers={"Authorization": f"Token {world.rw.plain}"})
    assert wrapped.status_code == 400 and "body" in wrapped.json()["error"]["fields"]


def test_type_codes(seed_http, world, make):
    referred = make.closed(world.event, world.customer)
    om = _client(seed_http, world, world.rw)
    kinds = {}
    for code in (1, 2, 3, 4):
        data = _envelope_ok(om.create(None, code, str(referred.id) if code == 4 else None, None),
                            OM_CREATE)
        kinds[code] = db.session.get(Invoice, int(data["id"])).type
    assert kinds == {1: "invoice", 2: "proforma", 3: "shipping_invoice", 4: "credit_note"}


def test_read_only_tokens_and_other_tenants_change_nothing(seed_http, world, make):
    draft = make.invoice(world.event, world.customer)
    mine = draft.id
    before = db.session.scalar(select(func.count(Invoice.id)))
    for token, event, status in ((world.ro, world.event, 403), (world.stranger, world.event, 404),
                                 (world.limited, world.event, 404)):
        om = _client(seed_http, world, token, event)
        for response in (om.create(None, 1, None, None), om.update(mine, None, None, None),
                         om.close(mine), om.send(mine, None), om.delete(mine)):
            assert response.status_code == status, (token, response.text)
            body = response.json()
            assert "error" in body and "data" not in body
            assert body["requestId"] == response.headers["X-Request-ID"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Invoice.id))) == before
    assert db.session.get(Invoice, mine).status == "draft"
    # Another organizer's invoice id through our base URL: 404.
    theirs = make.invoice(world.stranger_event, make.customer(world.stranger_event.organizer))
    assert _client(seed_http, world, world.rw).delete(theirs.id).status_code == 404
    unknown = requests.delete(f"{seed_http}/compat/om/{world.organizer.slug}/{world.event.slug}"
                              f"/v1/om/invoices/{mine}")
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "unauthorized"


def test_an_idempotency_key_replays_the_create(seed_http, world, make):
    make.order(world.event, world.customer, code="ORD-9")
    om = _client(seed_http, world, world.rw)
    first = om.create("ORD-9", 1, None, None, headers={"Idempotency-Key": "om-create-1"})
    again = om.create("ORD-9", 1, None, None, headers={"Idempotency-Key": "om-create-1"})
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"] == first.json()["data"]
    assert db.session.scalar(select(func.count(Invoice.id))
                             .where(Invoice.order_code == "ORD-9")) == 1
    other = om.create("ORD-9", 2, None, None, headers={"Idempotency-Key": "om-create-1"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_an_idempotency_key_replays_the_send_without_a_second_mail(seed_http, world, make, app):
    invoice = make.closed(world.event, world.customer)
    om = _client(seed_http, world, world.rw)
    key = {"Idempotency-Key": "om-send-1"}
    first = om._send("POST", f"/{invoice.id}/send", {"invoiceId": str(invoice.id)}, key)
    again = om._send("POST", f"/{invoice.id}/send", {"invoiceId": str(invoice.id)}, key)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["messageId"] == first.json()["data"]["messageId"]
    sendings = list(db.session.scalars(select(Sending).where(Sending.invoice_id == invoice.id)))
    assert [s.message_id for s in sendings] == [first.json()["data"]["messageId"]]
    folder = FolderTransport(app.config["MAIL_FOLDER"])
    assert folder.delivered(sendings[0].message_id)
