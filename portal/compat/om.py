"""OM dialect (SPEC §12): the order-management "Invoices" calls, writing.

Base URL `/compat/om/{organizer}/{event}`; `Authorization: Token` (read-write to change
anything). Requests come wrapped in `{"params": {…}}`; every answer, errors too, is wrapped in
OM's envelope: `{"app", "service", "warnings", "instanceId", "requestId", "data"}` (errors: the
JSON API's HTTP status and `"error": {"code", "message", "fields"}` in place of `data`).
`instanceId` names this server process, `requestId` is the request's `X-Request-ID`.
"""

from __future__ import annotations

import os
import socket
import uuid

from flask import Blueprint, Response, g, request

from ..api import auth, schemas
from ..api.idempotency import idempotent
from ..errors import NotFoundError, ValidationError
from ..services import invoice_queries, invoices, permissions
from ..services.invoice_queries import InvoiceFilter
from . import answer, challenge

BASE = "/compat/om/<organizer>/<event>"
bp = Blueprint("compat_om", __name__)
bp.after_request(challenge)
APP, SERVICE = "invoice-portal", "invoices"

# OM integer type codes <-> our types, and OM param names <-> our field names.
TYPES = {1: "invoice", 2: "proforma", 3: "shipping_invoice", 4: "credit_note"}
PARAMS = {"orderId": "order", "type": "type", "referenceInvoiceId": "refers",
          "applyExpiresAt": "expires_at"}
MAPPING = {
    "params.orderId": "order (the order code)",
    "params.type": "type: 1 invoice, 2 proforma, 3 shipping_invoice, 4 credit_note",
    "params.referenceInvoiceId": "refers (given as the id of the referred invoice)",
    "params.applyExpiresAt": "expires_at (ISO 8601)",
    "data.id (create)": "id, as a string",
    "data.invoiceNumber (close)": "the number's counter, an integer",
    "data.invoiceSource (close)": "number (the full printed number)",
    "data.invoicedAt (close)": "closed_at",
    "data.messageId (send)": "the sending's RFC 5322 Message-ID",
    "data.succeed (delete)": "true (the seed's spelling)",
    "data.success (patch, send)": "true",
}
PATHS = ["POST /v1/om/invoices", "PATCH /v1/om/invoices/{id}", "DELETE /v1/om/invoices/{id}", "PATCH /v1/om/invoices/{id}/close", "POST /v1/om/invoices/{id}/send"]
AUTH = "Authorization: Token <api token> (read-write to change anything)"
EXAMPLE_REQUEST = """POST /compat/om/bigevents/sampleconf/v1/om/invoices/17/send HTTP/1.1
Content-Type: application/json
Accept: */*
Authorization: Token <api token>

{"params": {"orderId": "ABC12", "invoiceId": "17"}}"""
EXAMPLE_ANSWER = """{"app": "invoice-portal", "service": "invoices", "warnings": [],
 "instanceId": "web-1-4242-9f3c1a2b", "requestId": "5b1e…",
 "data": {"success": true,
          "messageId": "<20261102T100000.4f6c0d9e8a7b6c5d4e3f2a1b@invoices.example>"}}"""
_instance: dict[int, str] = {}


def instance_id() -> str:
    """This server process: host, process id and a nonce fixed when the process first asks."""
    pid = os.getpid()
    if pid not in _instance:
        _instance[pid] = f"{socket.gethostname()}-{pid}-{uuid.uuid4().hex[:8]}"
    return _instance[pid]


def _envelope(**content) -> dict:
    return {"app": APP, "service": SERVICE, "warnings": [], "instanceId": instance_id(),
            "requestId": g.get("request_id") or "", **content}


def error_envelope(status: int, code: str, message: str, fields: dict) -> Response:
    renamed = {_om_name(name): problems for name, problems in fields.items()}
    return answer(_envelope(error={"code": code, "message": message, "fields": renamed}),
                  status)


def _om_name(field: str) -> str:
    head, dot, rest = field.partition(".")
    ours = {v: k for k, v in PARAMS.items()}
    return "params." + ours[head] + dot + rest if head in ours else field


def _data(data: dict, *, write: bool = True) -> Response:
    return answer(_envelope(data=data), write=write)


# ---------------------------------------------------------------- the request


def _params(allowed: tuple[str, ...]) -> dict:
    """The `params` object of the body (an empty body is no params); unknown keys are 400."""
    body = schemas.json_body(request)
    unknown = sorted(set(body) - {"params"})
    params = body.get("params", {})
    problems: dict[str, list[str]] = {}
    if unknown:
        problems["body"] = ["Unknown keys: " + ", ".join(unknown) + ". Wrap them in `params`."]
    if not isinstance(params, dict):
        problems["params"] = ["Give an object."]
        params = {}
    extra = sorted(set(params) - set(allowed))
    if extra:
        problems["params"] = ["Unknown params: " + ", ".join(extra) + "."]
    if problems:
        raise ValidationError(problems)
    return params


def _id_text(value) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and value.isdigit() and len(value) <= 10 else None


def _draft_fields(event, params: dict) -> tuple[dict, dict]:
    """OM params -> the write body of the services (SPEC §6 names), and the problems that
    only the dialect can see (a type code, a referred id), to list with the service's own."""
    data, problems = {}, {}
    if "orderId" in params:
        data["order"] = params["orderId"]
    if "type" in params:
        kind = params["type"]
        if isinstance(kind, bool) or kind not in TYPES:
            problems["params.type"] = ["Give 1 (invoice), 2 (proforma), 3 (shipping invoice) "
                                       "or 4 (credit note)."]
        else:
            data["type"] = TYPES[kind]
    if params.get("referenceInvoiceId") not in (None, ""):
        referred_id = _id_text(params["referenceInvoiceId"])
        referred = None
        if referred_id is not None:
            try:
                referred = invoice_queries.one_invoice(
                    invoice_queries.event_invoices(event), InvoiceFilter(ids=(int(referred_id),)),
                    options=())
            except NotFoundError:
                referred = None
        if referred is None or referred.number is None:
            problems["params.referenceInvoiceId"] = [
                "Give the id of a closed invoice of this event."]
        else:
            data["refers"] = referred.number
    elif "referenceInvoiceId" in params:
        data["refers"] = None
    if "applyExpiresAt" in params:
        data["expires_at"] = params["applyExpiresAt"] or None
    return data, problems


def _run(step, problems: dict):
    """Run the service; refuse with its field problems and the dialect's together (a
    refusal rolls back whatever the step did, so running it first changes nothing)."""
    try:
        result = step()
    except ValidationError as exc:
        raise ValidationError({**exc.fields, **problems}, exc.message) from None
    if problems:
        raise ValidationError(problems)
    return result


# ---------------------------------------------------------------- the views

INVOICES = "/v1/om/invoices"


def _invoice(organizer, event, id):
    scope = auth.event_scope(organizer, event, write=True)
    return scope, permissions.invoice_in_event(scope.event, schemas.object_id(id))


@bp.post(INVOICES)
@idempotent
def invoice_create(organizer, event):
    scope = auth.event_scope(organizer, event, write=True)
    params = _params(("orderId", "type", "referenceInvoiceId", "applyExpiresAt"))
    data, problems = _draft_fields(scope.event, params)
    invoice = _run(lambda: invoices.create_draft(scope.event, data, actor=scope.actor),
                   problems)
    return _data({"id": str(invoice.id)})


@bp.patch(INVOICES + "/<id>")
def invoice_update(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id)
    params = _params(("orderId", "id", "referenceInvoiceId", "applyExpiresAt"))
    problems = {}
    if "id" in params and _id_text(params["id"]) != str(invoice.id):
        problems["params.id"] = ["Give the id of the invoice in the path, or leave it out."]
    if params.get("orderId") not in (None, invoice.order_code):
        problems["params.orderId"] = ["The order of an invoice cannot change."]
    data, more = _draft_fields(scope.event, {k: v for k, v in params.items()
                                             if k not in ("id", "orderId")})
    _run(lambda: invoices.update_draft(invoice, data, actor=scope.actor), {**problems, **more})
    return _data({"success": True})


@bp.delete(INVOICES + "/<id>")
def invoice_delete(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id)
    invoices.delete_draft(invoice, actor=scope.actor)
    return _data({"succeed": True})


@bp.patch(INVOICES + "/<id>/close")
def invoice_close(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id)
    _params(())
    invoices.close_invoice(invoice, actor=scope.actor)
    return _data({"invoiceNumber": invoice.sequence_value, "invoiceSource": invoice.number,
                  "invoicedAt": invoice.closed_at.isoformat().replace("+00:00", "Z")})


@bp.post(INVOICES + "/<id>/send")
@idempotent
def invoice_send(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id)
    params = _params(("orderId", "invoiceId"))
    problems = {}
    if params.get("invoiceId") not in (None, "") and \
            _id_text(params["invoiceId"]) != str(invoice.id):
        problems["params.invoiceId"] = ["Give the id of the invoice in the path, or leave it out."]
    if params.get("orderId") not in (None, "", invoice.order_code):
        problems["params.orderId"] = ["This invoice belongs to another order."]
    if problems:
        raise ValidationError(problems)
    sending = invoices.send_invoice(invoice, actor=scope.actor)
    return _data({"success": True, "messageId": sending.message_id})
