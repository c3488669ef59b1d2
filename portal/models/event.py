"""Events and their per-sequence invoice number counters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Money, UTCDateTime, utcnow

TEXT_FIELDS = ("introductory", "additional", "payment", "footer", "terms")


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("organizer_id", "slug"),
        CheckConstraint("due_days >= 0 AND due_days <= 3650", name="due_days"),
        {"sqlite_autoincrement": True},  # ids are never reused (SPEC §3)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"),
                                              index=True)
    slug: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    # Prefixes per number sequence: invoices and credit notes share `invoice_prefix`.
    invoice_prefix: Mapped[str] = mapped_column(String(30), default="")
    proforma_prefix: Mapped[str] = mapped_column(String(30), default="PF")
    shipping_prefix: Mapped[str] = mapped_column(String(30), default="DN")
    due_days: Mapped[int] = mapped_column(default=14)
    introductory_text: Mapped[str] = mapped_column(Text, default="")
    additional_text: Mapped[str] = mapped_column(Text, default="")
    payment_text: Mapped[str] = mapped_column(Text, default="")
    footer_text: Mapped[str] = mapped_column(Text, default="")
    terms_text: Mapped[str] = mapped_column(Text, default="")
    # Per-language overrides of the texts: {"de": {"payment": "…"}}; what a language does not
    # give falls back to the event's own text (SPEC §14).
    texts_by_locale: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # Fields set here override the organizer's seller address for this event.
    seller_override: Mapped[dict] = mapped_column(JSON, default=dict)
    # The default service period of the event's invoices (SPEC §9, BT-73/74).
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    # Whether closed invoices also get EN 16931 XML (issue 13).
    einvoicing: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    # Payment means overriding the organizer's ({"code", "iban", "bic", "account_name"}).
    payment_means: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set: the event is archived, read-only and left out of the default lists.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Prefills the tax rate of a new line in the line editor (None: no default).
    default_tax_rate: Mapped[Decimal | None] = mapped_column(Money(6, 3))

    organizer = relationship("Organizer", back_populates="events")

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    def seller(self) -> dict:
        merged = dict(self.organizer.seller or {})
        merged.update({k: v for k, v in (self.seller_override or {}).items() if v})
        return merged

    def default_payment_means(self) -> dict | None:
        means = self.payment_means or self.organizer.payment_means
        return dict(means) if means else None

    def texts(self, locale: str | None = None) -> dict:
        """The event's texts, in `locale` where the event gives them in that language."""
        texts = {name: getattr(self, f"{name}_text") or "" for name in TEXT_FIELDS}
        language = (locale or "").replace("-", "_").split("_")[0].lower()
        overrides = (self.texts_by_locale or {}).get(locale or "") \
            or (self.texts_by_locale or {}).get(language) or {}
        texts.update({name: value for name, value in overrides.items()
                      if name in TEXT_FIELDS and isinstance(value, str) and value})
        return texts


class NumberSequence(db.Model):
    """One counter row per (event, sequence); locked by the closing transaction."""

    __tablename__ = "number_sequences"
    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        CheckConstraint("name IN ('invoice', 'proforma', 'shipping_invoice')", name="name"),
        CheckConstraint("last_value >= 0", name="last_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(20))
    last_value: Mapped[int] = mapped_column(default=0)
