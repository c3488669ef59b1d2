"""API tokens (hashed at rest) and the idempotency records of their POSTs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

token_events = Table(
    "api_token_events",
    db.metadata,
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    # AUTOINCREMENT on SQLite: an id once handed out is never reused (SPEC §3).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token (≥128 random bits); the first characters are kept to tell tokens apart.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    all_events: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    organizer = relationship("Organizer")
    events = relationship("Event", secondary=token_events, order_by="Event.id")

    def can_see_event(self, event) -> bool:
        return event.organizer_id == self.organizer_id and (
            self.all_events or any(e.id == event.id for e in self.events))


class IdempotencyRecord(db.Model):
    """The first answer to a POST with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("token_id", "key"),
        Index("ix_idempotency_records_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    # null while the first request is still running.
    status_code: Mapped[int | None] = mapped_column()
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    token = relationship("ApiToken")
