"""Customers: the buyers who open their invoices with a secret key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Customer(db.Model):
    __tablename__ = "customers"
    # AUTOINCREMENT on SQLite: an id once handed out is never reused (SPEC §3).
    __table_args__ = (UniqueConstraint("organizer_id", "reference"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"),
                                              index=True)
    reference: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    billing_address: Mapped[dict] = mapped_column(JSON, default=dict)
    # SHA-256 of the key: the key has ≥128 random bits, so a fast hash is enough and lets us
    # find the customer by it; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Bumped on every rotation; customer sessions carry it and end when it moves.
    key_version: Mapped[int] = mapped_column(default=1)
    key_rotated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Bumped by "sign out everywhere": customer sessions carry it too and end when it moves,
    # while the key itself keeps working.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    organizer = relationship("Organizer")
    invoices = relationship("Invoice", back_populates="customer", lazy="dynamic")
