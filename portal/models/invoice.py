"""Invoices, their lines, discounts, tax breakdown, stored document and sendings.

Computed figures (line amounts, tax rows, totals) are stored, not recomputed on read: a closed
invoice is a legal document whose numbers must never move, and a credit note negates exactly
what was stored. Drafts are recomputed by the service on every save.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    cast,
    func,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import Numeric

from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..extensions import db
from .types import Money, UTCDateTime, utcnow

_TYPES = ", ".join(f"'{t.value}'" for t in InvoiceType)
_STATUSES = ", ".join(f"'{s.value}'" for s in InvoiceStatus)


def _num(col: str) -> str:
    return f"CAST({col} AS NUMERIC)"


class Invoice(db.Model):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("event_id", "number"),
        CheckConstraint(f"type IN ({_TYPES})", name="type"),
        CheckConstraint(f"status IN ({_STATUSES})", name="status"),
        CheckConstraint("rounding_mode IN ('half_up', 'half_even', 'half_down', 'down')",
                        name="rounding_mode"),
        CheckConstraint("rounding_rule IN ('per_item', 'per_line', 'total')",
                        name="rounding_rule"),
        CheckConstraint("(status = 'draft') = (number IS NULL)", name="number_iff_closed"),
        CheckConstraint("type = 'credit_note' OR NOT is_cancellation", name="cancellation_type"),
        CheckConstraint("type <> 'credit_note' OR refers_id IS NOT NULL",
                        name="credit_note_refers"),
        CheckConstraint("carriage IS NULL OR carriage IN ('paid', 'forward')", name="carriage"),
        CheckConstraint("number_of_packages IS NULL OR (number_of_packages >= 1 "
                        "AND number_of_packages <= 1000)", name="number_of_packages"),
        # Credit notes carry the negated costs of the invoice they cancel.
        CheckConstraint(f"type = 'credit_note' OR {_num('shipping_cost')} >= 0",
                        name="shipping_cost"),
        CheckConstraint(f"type = 'credit_note' OR {_num('payment_fee')} >= 0",
                        name="payment_fee"),
        CheckConstraint(f"{_num('amount_paid')} >= 0", name="amount_paid"),
        CheckConstraint(f"status_before_paid IS NULL OR status_before_paid IN ({_STATUSES})",
                        name="status_before_paid"),
        # The lists filter by these; the second column keeps ordering cheap.
        Index("ix_invoices_event_id_status", "event_id", "status"),
        Index("ix_invoices_event_id_issue_date", "event_id", "issue_date"),
        # Both equality columns of the customer's list, so SQLite picks this index even
        # without statistics (it took the organizer's and scanned every invoice: bench/).
        Index("ix_invoices_customer_id_organizer_id_id", "customer_id", "organizer_id", "id"),
        # An event's invoices in id order: a page is read straight off the index.
        Index("ix_invoices_event_id_id", "event_id", "id"),
        Index("ix_invoices_organizer_id_id", "organizer_id", "id"),
        Index("ix_invoices_event_id_order_code", "event_id", "order_code"),
        Index("ix_invoices_refers_id", "refers_id"),
        {"sqlite_autoincrement": True},  # ids are never reused (SPEC §3)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id",
                                                               ondelete="RESTRICT"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    order_code: Mapped[str | None] = mapped_column(String(32))

    type: Mapped[str] = mapped_column(String(20), default=InvoiceType.INVOICE.value)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT.value)
    number: Mapped[str | None] = mapped_column(String(64))
    sequence_value: Mapped[int | None] = mapped_column()
    refers_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    is_cancellation: Mapped[bool] = mapped_column(Boolean, default=False)

    issue_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_number: Mapped[str | None] = mapped_column(String(64))
    package_number: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(64))

    seller: Mapped[dict] = mapped_column(JSON, default=dict)
    billing_address: Mapped[dict] = mapped_column(JSON, default=dict)
    shipping_address: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))

    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=False)
    rounding_mode: Mapped[str] = mapped_column(String(10), default="half_up")
    rounding_rule: Mapped[str] = mapped_column(String(10), default="per_line")
    discounts_include_tax: Mapped[bool] = mapped_column(Boolean, default=False)

    shipping_method_name: Mapped[str | None] = mapped_column(String(80))
    shipping_cost = mapped_column(Money(12, 3))
    shipping_tax_rate = mapped_column(Money(5, 2))
    shipping_tax_code: Mapped[str | None] = mapped_column(String(32))
    payment_method_name: Mapped[str | None] = mapped_column(String(80))
    payment_fee = mapped_column(Money(12, 3))
    payment_tax_rate = mapped_column(Money(5, 2))
    payment_tax_code: Mapped[str | None] = mapped_column(String(32))

    # Shipping-invoice (delivery document) fields.
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    number_of_packages: Mapped[int | None] = mapped_column()
    carriage: Mapped[str | None] = mapped_column(String(10))
    goods_appearance: Mapped[str | None] = mapped_column(String(255))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    transport_reason: Mapped[str | None] = mapped_column(String(255))

    locale: Mapped[str] = mapped_column(String(10), default="en")
    introductory_text: Mapped[str] = mapped_column(Text, default="")
    additional_text: Mapped[str] = mapped_column(Text, default="")
    payment_text: Mapped[str] = mapped_column(Text, default="")
    footer_text: Mapped[str] = mapped_column(Text, default="")
    terms_text: Mapped[str] = mapped_column(Text, default="")

    # Stored totals (see module docstring).
    prediscount_net = mapped_column(Money(), nullable=False, default=0)
    prediscount_gross = mapped_column(Money(), nullable=False, default=0)
    discount_total = mapped_column(Money(), nullable=False, default=0)
    subtotal_net = mapped_column(Money(), nullable=False, default=0)
    subtotal_gross = mapped_column(Money(), nullable=False, default=0)
    shipping_net = mapped_column(Money())
    shipping_tax = mapped_column(Money())
    shipping_gross = mapped_column(Money())
    payment_net = mapped_column(Money())
    payment_tax = mapped_column(Money())
    payment_gross = mapped_column(Money())
    net_total = mapped_column(Money(), nullable=False, default=0)
    tax_total = mapped_column(Money(), nullable=False, default=0)
    gross_total = mapped_column(Money(), nullable=False, default=0)
    total_quantity = mapped_column(Money(12, 2), nullable=False, default=0)
    total_weight = mapped_column(Money(12, 3), nullable=False, default=0)

    # SHA-256 of the document of record; null until it is stored.
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    # EN 16931 data (SPEC §9): delivery date (BT-72) or invoicing period (BT-73/74), the
    # buyer reference (BT-10), the payment means as data, the VAT category of the charges.
    delivery_date: Mapped[dt.date | None] = mapped_column(Date)
    period_start: Mapped[dt.date | None] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    buyer_reference: Mapped[str | None] = mapped_column(String(200))
    payment_means: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    shipping_tax_category: Mapped[str | None] = mapped_column(String(2))
    payment_tax_category: Mapped[str | None] = mapped_column(String(2))
    shipping_exemption_reason: Mapped[str | None] = mapped_column(Text)
    payment_exemption_reason: Mapped[str | None] = mapped_column(Text)
    # The ledger link over the previous closed document of the sequence (services.ledger).
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the e-invoice XML documents (issue 13).
    cii_sha256: Mapped[str | None] = mapped_column(String(64))
    ubl_sha256: Mapped[str | None] = mapped_column(String(64))
    dispute_reason: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Σ payments (SPEC §10), kept in step by services.payments under the row lock, so lists
    # and the overdue filter need no join. `status_before_paid` is what deleting a payment of
    # a paid invoice moves it back to.
    amount_paid = mapped_column(Money(), nullable=False, default=0, server_default="0")
    status_before_paid: Mapped[str | None] = mapped_column(String(20))
    # The frozen read model (issue 16): a closed invoice's API representation, built once at
    # close in the same transaction (services.frozen) as a %-format template of its JSON,
    # with a `%s` for each value that may still change (status, payments, hashes, …: read
    # from the columns above; see services.frozen for how it is filled). `frozen_version`
    # is the representation's version it was built with; an older one is read the slow way
    # until `flask --app portal rebuild-representations` renews it.
    frozen: Mapped[str | None] = mapped_column(Text, deferred=True)
    frozen_version: Mapped[int | None] = mapped_column(SmallInteger)

    organizer = relationship("Organizer")
    event = relationship("Event")
    customer = relationship("Customer", back_populates="invoices")
    order = relationship("Order")
    refers = relationship("Invoice", remote_side=[id], foreign_keys=[refers_id])
    lines = relationship("InvoiceLine", back_populates="invoice", order_by="InvoiceLine.position",
                         cascade="all, delete-orphan")
    discounts = relationship("InvoiceDiscount", back_populates="invoice",
                             order_by="InvoiceDiscount.position", cascade="all, delete-orphan")
    taxes = relationship("InvoiceTax", back_populates="invoice", order_by="InvoiceTax.position",
                         cascade="all, delete-orphan")
    sendings = relationship("Sending", back_populates="invoice", order_by="Sending.id",
                            cascade="all, delete-orphan")
    document = relationship("InvoiceDocument", uselist=False, cascade="all, delete-orphan",
                            lazy="select")
    payments = relationship("Payment", back_populates="invoice", order_by="Payment.id",
                            cascade="all, delete-orphan")

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        return self.expires_at is not None and (now or utcnow()) > self.expires_at

    @property
    def balance(self) -> Decimal:
        """What is still to be paid (or, on a credit note, refunded): |gross| − Σ payments."""
        return abs(self.gross_total or Decimal(0)) - (self.amount_paid or Decimal(0))

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """A balance above zero after the due date (SPEC §10); `overdue_clause` in SQL."""
        return (self.status in OVERDUE_STATUSES
                and self.type != InvoiceType.CREDIT_NOTE
                and self.due_date is not None and (today or dt.date.today()) > self.due_date
                and self.balance > 0)


# Statuses in which an invoice still waits for money (and payments are accepted).
OVERDUE_STATUSES = (InvoiceStatus.OPEN.value, InvoiceStatus.SENT.value,
                    InvoiceStatus.DISPUTED.value)


def overdue_clause(today: dt.date):
    """`Invoice.is_overdue(today)` as a WHERE clause on the invoice row alone (no join).
    SQLite keeps amounts as exact text, so both sides are compared as numbers."""
    return and_(Invoice.status.in_(OVERDUE_STATUSES),
                Invoice.type != InvoiceType.CREDIT_NOTE.value,
                Invoice.due_date.is_not(None), Invoice.due_date < today,
                cast(Invoice.amount_paid, Numeric(16, 3))
                < func.abs(cast(Invoice.gross_total, Numeric(16, 3))))


class InvoiceLine(db.Model):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint(f"{_num('quantity')} > 0", name="quantity"),
        CheckConstraint(f"{_num('tax_rate')} >= 0 AND {_num('tax_rate')} <= 100", name="tax_rate"),
        CheckConstraint(f"discount_rate IS NULL OR ({_num('discount_rate')} >= 0 "
                        f"AND {_num('discount_rate')} <= 100)", name="discount_rate"),
        CheckConstraint("discount_rate IS NULL OR discount_amount IS NULL",
                        name="one_line_discount"),
        CheckConstraint(f"weight IS NULL OR {_num('weight')} >= 0", name="weight"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    sku: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(String(255))
    quantity = mapped_column(Money(10, 2), nullable=False)
    # A UN/ECE Recommendation 20 code (domain.codelists.UNITS).
    unit: Mapped[str] = mapped_column(String(20), default="C62")
    unit_price = mapped_column(Money(15, 3), nullable=False)
    tax_code: Mapped[str] = mapped_column(String(32), default="VAT")
    tax_rate = mapped_column(Money(5, 2), nullable=False)
    # UNCL 5305 VAT category (domain.codelists.VAT_CATEGORIES) and why no VAT is charged.
    tax_category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    exemption_reason: Mapped[str | None] = mapped_column(Text)
    exemption_code: Mapped[str | None] = mapped_column(String(30))
    discount_rate = mapped_column(Money(5, 2))
    discount_amount = mapped_column(Money(12, 3))
    weight = mapped_column(Money(10, 3))
    request_note: Mapped[str] = mapped_column(String(255), default="")
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id",
                                                                 ondelete="SET NULL"))
    net_amount = mapped_column(Money(), nullable=False)
    tax_amount = mapped_column(Money(), nullable=False)
    gross_amount = mapped_column(Money(), nullable=False)

    invoice = relationship("Invoice", back_populates="lines")


class InvoiceDiscount(db.Model):
    __tablename__ = "invoice_discounts"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position"),
        CheckConstraint("type IN ('percent_off', 'amount_off')", name="type"),
        CheckConstraint(f"{_num('value')} > 0", name="value"),
        CheckConstraint(f"type <> 'percent_off' OR {_num('value')} <= 100", name="percent"),
        CheckConstraint("position >= 1 AND position <= 5", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    type: Mapped[str] = mapped_column(String(12))
    value = mapped_column(Money(11, 3), nullable=False)
    # The cut this discount made, in its basis (gross or net), stored like every figure.
    amount = mapped_column(Money(), nullable=False, default=0)

    invoice = relationship("Invoice", back_populates="discounts")


class InvoiceTax(db.Model):
    """One row of the tax breakdown per (VAT category, tax code, rate)."""

    __tablename__ = "invoice_taxes"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(String(32))
    rate = mapped_column(Money(5, 2), nullable=False)
    category: Mapped[str] = mapped_column(String(2), default="S", server_default="S")
    exemption_reason: Mapped[str | None] = mapped_column(Text)
    exemption_code: Mapped[str | None] = mapped_column(String(30))
    taxable = mapped_column(Money(), nullable=False)
    amount = mapped_column(Money(), nullable=False)
    gross = mapped_column(Money(), nullable=False)

    invoice = relationship("Invoice", back_populates="taxes")


class InvoiceDocument(db.Model):
    """The document of record: the PDF made once at close, never re-made (with its e-invoice
    XMLs when it has them).

    Kept in the database so every app server sees it; its own table keeps list queries
    from ever loading the bytes.
    """

    __tablename__ = "invoice_documents"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"),
                                            primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column()
    pages: Mapped[int | None] = mapped_column()
    # The e-invoice XMLs as made with the PDF (the CII is also embedded in it as
    # factur-x.xml); null when the document gets no e-invoice. SPEC §11.
    cii: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    ubl: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Sending(db.Model):
    """One e-mailing of an invoice: to whom, when, the message id, and how it went."""

    __tablename__ = "sendings"
    __table_args__ = (
        # unknown: the SMTP transaction may have completed (cut off after DATA); check before
        # sending again.
        CheckConstraint("outcome IN ('queued', 'sent', 'failed', 'unknown')", name="outcome"),
        Index("ix_sendings_invoice_id", "invoice_id"),
        {"sqlite_autoincrement": True},  # ids are never reused (SPEC §3)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    to: Mapped[str] = mapped_column(String(254))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The RFC 5322 Message-ID, chosen when the sending is recorded; the mail goes out with it.
    message_id: Mapped[str | None] = mapped_column(String(255))
    # Set by the delivery job, committed before the first byte leaves (services/mail.py).
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # True when this sending moved the invoice from open to sent; a failed delivery of it
    # moves the invoice back.
    reopens: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    actor_label: Mapped[str] = mapped_column(String(254), default="")

    invoice = relationship("Invoice", back_populates="sendings")
