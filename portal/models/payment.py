"""Payments: money received against an invoice, or refunded against a credit note (SPEC §10).

A payment is always a positive amount in the invoice's currency; on a credit note it is the
refund paid out. The invoice keeps the running sum in `Invoice.amount_paid` (kept in step by
`services.payments` under the invoice's row lock), so lists and the "overdue" filter read the
balance off the invoice row without a join.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Money, UTCDateTime, utcnow


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CARD = "card"
    CASH = "cash"
    DIRECT_DEBIT = "direct_debit"
    OTHER = "other"


_METHODS = ", ".join(f"'{m.value}'" for m in PaymentMethod)


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("CAST(amount AS NUMERIC) > 0", name="amount"),
        CheckConstraint(f"method IN ({_METHODS})", name="method"),
        CheckConstraint("actor_type IN ('user', 'token', 'customer', 'system')",
                        name="actor_type"),
        # An invoice's payments in order (the detail page, the API list, the statement).
        Index("ix_payments_invoice_id_id", "invoice_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    amount = mapped_column(Money(), nullable=False)
    date: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20), default=PaymentMethod.OTHER.value)
    reference: Mapped[str] = mapped_column(String(200), default="")
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column()
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice = relationship("Invoice", back_populates="payments")
