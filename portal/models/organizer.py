"""Organizers, their users and the memberships that join them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    VIEWER = "viewer"


ROLE_RANK = {Role.VIEWER: 1, Role.MANAGER: 2, Role.OWNER: 3}

SELLER_FIELDS = ("legal_name", "company", "street1", "street2", "city", "postal_code", "state",
                 "country", "vat_id", "tax_number", "registration_id", "registration_scheme",
                 "contact_name", "email", "phone", "electronic_address")


class Organizer(db.Model):
    __tablename__ = "organizers"
    # AUTOINCREMENT on SQLite: an id once handed out is never reused (SPEC §3).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The seller address printed on invoices; events may override single fields.
    seller: Mapped[dict] = mapped_column(JSON, default=dict)
    # Payment means as data ({"code", "iban", "bic", "account_name"}), the events' default.
    payment_means: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    # Shown on pages and PDFs: PNG or JPEG of at most 512 KB.
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    events = relationship("Event", back_populates="organizer", order_by="Event.id",
                          lazy="select")
    memberships = relationship("Membership", back_populates="organizer",
                               cascade="all, delete-orphan")


membership_events = Table(
    "membership_events",
    db.metadata,
    Column("membership_id", ForeignKey("memberships.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # AUTOINCREMENT on SQLite: an id once handed out is never reused (SPEC §3).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change so other sessions of the user end.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # An IANA time zone for the times the back office shows; "" follows the event's / UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships = relationship("Membership", back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organizer_id"),
        CheckConstraint("role IN ('owner', 'manager', 'viewer')", name="role"),
        {"sqlite_autoincrement": True},  # ids are never reused (SPEC §3)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"),
                                              index=True)
    role: Mapped[str] = mapped_column(String(10))
    # False: the member sees only `events`.
    all_events: Mapped[bool] = mapped_column(Boolean, default=True)

    user = relationship("User", back_populates="memberships")
    organizer = relationship("Organizer", back_populates="memberships")
    events = relationship("Event", secondary=membership_events, order_by="Event.id")

    def can_see_event(self, event) -> bool:
        return event.organizer_id == self.organizer_id and (
            self.all_events or any(e.id == event.id for e in self.events))

    def has_role(self, needed: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(needed)]
