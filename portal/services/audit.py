"""Who did it: the actor passed to every service, and the audit entries services write."""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import AuditEntry
from . import webhook_events


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "token", "customer" or "system"
    id: int | None = None
    label: str = ""

    @classmethod
    def user(cls, user) -> Actor:
        return cls("user", user.id, user.email)

    @classmethod
    def token(cls, token) -> Actor:
        return cls("token", token.id, f"token {token.name} ({token.token_prefix}…)")

    @classmethod
    def customer(cls, customer) -> Actor:
        return cls("customer", customer.id, f"customer {customer.reference}")

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)


def record(actor: Actor, action: str, *, organizer_id: int, event_id: int | None = None,
           invoice=None, object_type: str = "invoice", object_id: int | None = None,
           from_status: str | None = None, to_status: str | None = None,
           data: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current unit of work (flushed with it, never committed here),
    and the webhook events it stands for (services/webhook_events.py), in the same unit."""
    if invoice is not None and invoice.id is None:
        db.session.flush()
    entry = AuditEntry(
        organizer_id=organizer_id, event_id=event_id,
        invoice_id=invoice.id if invoice is not None else None,
        object_type=object_type,
        object_id=object_id if object_id is not None else (invoice.id if invoice else None),
        actor_type=actor.kind, actor_id=actor.id, actor_label=actor.label[:254],
        action=action, from_status=from_status, to_status=to_status, data=data or {},
    )
    db.session.add(entry)
    webhook_events.from_audit(entry, invoice)
    return entry
