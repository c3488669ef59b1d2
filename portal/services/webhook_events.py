"""The webhook outbox (SPEC §13): an event row written in the same transaction as the change.

`from_audit` is called by `audit.record` for every audit entry, so every use case — back
office, API, customer area, jobs, CLI — emits its events without code of its own: the audit
action says which event types it means (`AUDIT_EVENTS`). `emit` then writes one
`WebhookEvent` and one `WebhookDelivery` per active endpoint of the organizer subscribed to
that type, and queues their delivery for after the commit (services/webhooks.py delivers).
A rolled-back step rolls its event back with it; a committed one has its delivery rows, which
the retry pickup finds even when the job queued here is lost.

When no endpoint of the organizer subscribes to the type, nothing is written at all: the
cost of a webhook in a request is one read of the organizer's endpoints (once per
transaction), plus, when one subscribes, the event row and its delivery rows.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import insert, select

from ..domain.lifecycle import CREDITED_TYPES, InvoiceType
from ..extensions import db
from ..jobs import enqueue
from ..models import Customer, Invoice, WebhookDelivery, WebhookEndpoint, WebhookEvent
from ..models.types import utcnow
from .representation import customer_to_dict, invoice_to_dict

DELIVER_JOB = "portal.deliver_webhook"              # one delivery (services/webhooks.py)
DELIVER_EVENT_JOB = "portal.deliver_webhook_event"  # every delivery of one event

INVOICE_EVENTS = (
    "invoice.created", "invoice.updated", "invoice.deleted", "invoice.closed",
    "invoice.document_ready", "invoice.sent", "invoice.delivery_failed",
    "invoice.payment_recorded", "invoice.paid", "invoice.disputed", "invoice.resolved",
    "invoice.cancelled", "invoice.archived", "invoice.overdue",
)
CUSTOMER_EVENTS = ("customer.created", "customer.key_rotated")
EVENT_TYPES = INVOICE_EVENTS + CUSTOMER_EVENTS

# Audit action (of an invoice) -> the event types it emits. `pay`/`payment` add
# `invoice.paid` when the step made the invoice paid; `cancel` and `close` see below.
AUDIT_EVENTS = {
    "create": ("invoice.created",),
    "edit": ("invoice.updated",),
    "delete": ("invoice.deleted",),
    "close": ("invoice.closed",),
    "document_stored": ("invoice.document_ready",),
    "send": ("invoice.sent",),
    "delivery_failed": ("invoice.delivery_failed",),
    "pay": ("invoice.payment_recorded",),
    "payment": ("invoice.payment_recorded",),
    "dispute": ("invoice.disputed",),
    "resolve": ("invoice.resolved",),
    "cancel": ("invoice.cancelled",),
    "archive": ("invoice.archived",),
    "overdue": ("invoice.overdue",),
}
CUSTOMER_AUDIT_EVENTS = {"create": ("customer.created",), "rotate_key": ("customer.key_rotated",)}

_CACHE = "webhook_endpoints"


def forget_endpoints() -> None:
    """Endpoints changed in this transaction: read them again at the next event."""
    db.session.info.pop(_CACHE, None)


def _subscribers(organizer_id: int, event_type: str) -> list[int]:
    """Ids of the organizer's active endpoints subscribed to `event_type`; read once per
    transaction and organizer."""
    session = db.session()
    transaction = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_CACHE] = cached
    endpoints = cached[1].get(organizer_id)
    if endpoints is None:
        endpoints = list(session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events).where(
                WebhookEndpoint.organizer_id == organizer_id,
                WebhookEndpoint.active.is_(True))))
        cached[1][organizer_id] = endpoints
    return [endpoint_id for endpoint_id, types in endpoints if event_type in (types or ())]


def emit(event_type: str, *, organizer_id: int, organizer: str, event: str | None,
         data: dict | Callable[[], dict], invoice_id: int | None = None,
         event_id: int | None = None, endpoint_ids: list[int] | None = None
         ) -> WebhookEvent | None:
    """Write the event and its deliveries into the current unit of work; queue the deliveries.

    `data` (or a callable making it, called only when someone listens) is the event's `data`:
    `{"object": …}`. Nothing is written when no endpoint subscribes.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    targets = endpoint_ids if endpoint_ids is not None else _subscribers(organizer_id, event_type)
    if not targets:
        return None
    now = utcnow()
    row = WebhookEvent(
        organizer_id=organizer_id, event_id=event_id, invoice_id=invoice_id, type=event_type,
        created_at=now,
        payload={"organizer": organizer, "event": event,
                 "data": data() if callable(data) else data})
    db.session.add(row)
    db.session.flush()
    # One statement for all the deliveries (no ids needed back: the job finds them).
    db.session.execute(insert(WebhookDelivery), [
        {"webhook_event_id": row.id, "endpoint_id": endpoint_id, "invoice_id": invoice_id,
         "state": "pending", "attempts": 0, "claim": 0, "next_attempt_at": now,
         "created_at": now} for endpoint_id in targets])
    enqueue(DELIVER_EVENT_JOB, row.id)
    return row


def envelope(event: WebhookEvent) -> dict:
    """The body every endpoint receives (SPEC §13)."""
    created = event.created_at.isoformat().replace("+00:00", "Z")
    return {"id": event.id, "type": event.type, "created": created,
            "organizer": event.payload.get("organizer"), "event": event.payload.get("event"),
            "data": event.payload.get("data")}


# ---------------------------------------------------------------- from the audit log


def emit_for_invoice(event_type: str, invoice: Invoice, extra: Callable[[], dict] | None = None
                     ) -> WebhookEvent | None:
    def data() -> dict:
        body = {"object": invoice_to_dict(invoice)}
        if extra is not None:
            body.update(extra())
        return body

    targets = _subscribers(invoice.organizer_id, event_type)
    if not targets:  # before anything is loaded for the payload
        return None
    return emit(event_type, organizer_id=invoice.organizer_id,
                organizer=invoice.organizer.slug, event=invoice.event.slug, data=data,
                invoice_id=invoice.id, event_id=invoice.event_id, endpoint_ids=targets)


def from_audit(entry, invoice: Invoice | None) -> None:
    """The webhook events an audit entry stands for (called by `audit.record`)."""
    if entry.object_type == "customer":
        for event_type in CUSTOMER_AUDIT_EVENTS.get(entry.action, ()):
            targets = _subscribers(entry.organizer_id, event_type)
            customer = db.session.get(Customer, entry.object_id) if targets else None
            if customer is not None:
                emit(event_type, organizer_id=entry.organizer_id,
                     organizer=customer.organizer.slug, event=None,
                     data={"object": customer_to_dict(customer)}, endpoint_ids=targets)
        return
    if invoice is None or entry.object_type != "invoice":
        return
    types = list(AUDIT_EVENTS.get(entry.action, ()))
    if entry.action in ("pay", "payment") and entry.to_status == "paid" \
            and entry.from_status != "paid":
        types.append("invoice.paid")
    if entry.action == "cancel" and InvoiceType(invoice.type) in CREDITED_TYPES:
        # The credit note is made right after; its `close` tells of the cancellation, so the
        # event can carry it (below).
        types.remove("invoice.cancelled")
    if entry.action == "close" and (entry.data or {}).get("cancels") and invoice.refers:
        original = invoice.refers
        emit_for_invoice("invoice.cancelled", original,
                         lambda: {"credit_note": invoice_to_dict(invoice)})
    for event_type in types:
        emit_for_invoice(event_type, invoice)
