"""Webhooks (SPEC §13): an organizer's endpoints, the outbox of events, and their deliveries.

An event row is written in the same transaction as the change it tells of (services/
webhook_events.py), together with one delivery row per active endpoint subscribed to its type;
a background job delivers after the commit and logs every try as an attempt.

The signing secret is stored as it is, not hashed: an HMAC signature needs the secret itself
on every delivery, so a hash (which cannot be turned back into the secret) cannot sign. It is
shown once (creation, rotation), never again, and only its first characters are displayed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"),
                                              index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # The subscribed event types, a list of names (services/webhook_events.EVENT_TYPES).
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Kept as is: HMAC needs the secret itself (see the module docstring).
    secret: Mapped[str] = mapped_column(String(100))
    secret_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    secret_rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def subscribes(self, event_type: str) -> bool:
        return self.active and event_type in (self.events or ())


class WebhookEvent(db.Model):
    """One outbox row: what happened, and the exact body every endpoint receives."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"),
                                              index=True)
    # No FKs: an event tells of a deleted draft too, and outlives nothing it names.
    event_id: Mapped[int | None] = mapped_column()
    invoice_id: Mapped[int | None] = mapped_column()
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    deliveries = relationship("WebhookDelivery", back_populates="event",
                              cascade="all, delete-orphan", passive_deletes=True)


class WebhookDelivery(db.Model):
    """One event to one endpoint: pending -> sending -> delivered, or failed after 3 days."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The order per invoice: "is an earlier one for this invoice and endpoint undelivered?"
        Index("ix_webhook_deliveries_order", "endpoint_id", "invoice_id", "webhook_event_id"),
        # The retry pickup: due deliveries, oldest first.
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_event_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column()
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # While `sending`: the try's number and until when it holds the delivery. A worker killed
    # mid-try leaves `sending` behind; once the lease ends, the retry pickup takes it again.
    claim: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column()
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    event = relationship("WebhookEvent", back_populates="deliveries")
    endpoint = relationship("WebhookEndpoint")
    attempt_log = relationship("WebhookAttempt", back_populates="delivery",
                               order_by="WebhookAttempt.id", cascade="all, delete-orphan",
                               passive_deletes=True)


class WebhookAttempt(db.Model):
    """One try: when, how it ended (HTTP status or error), the first bytes of the answer."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    manual: Mapped[bool] = mapped_column(Boolean, default=False)

    delivery = relationship("WebhookDelivery", back_populates="attempt_log")
