"""Orders placed by customers, from which invoices can be made."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import Money, UTCDateTime, utcnow


class Order(db.Model):
    __tablename__ = "orders"
    # AUTOINCREMENT on SQLite: an id once handed out is never reused (SPEC §3).
    __table_args__ = (UniqueConstraint("event_id", "code"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"),
                                             index=True)
    code: Mapped[str] = mapped_column(String(32))
    placed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    event = relationship("Event")
    customer = relationship("Customer")
    lines = relationship("OrderLine", back_populates="order", order_by="OrderLine.position",
                         cascade="all, delete-orphan")


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        CheckConstraint("CAST(quantity AS NUMERIC) > 0", name="quantity"),
        CheckConstraint("CAST(tax_rate AS NUMERIC) >= 0 AND CAST(tax_rate AS NUMERIC) <= 100",
                        name="tax_rate"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    sku: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(255))
    quantity = mapped_column(Money(10, 2), nullable=False)
    unit_price = mapped_column(Money(15, 3), nullable=False)
    tax_rate = mapped_column(Money(5, 2), nullable=False)
    tax_code: Mapped[str] = mapped_column(String(32), default="VAT")

    order = relationship("Order", back_populates="lines")
