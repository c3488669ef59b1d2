"""The invoice row lock every step on an invoice takes first (lock, then read)."""

from __future__ import annotations

from sqlalchemy import select

from ..errors import NotFoundError
from ..extensions import db
from ..models import (
    Invoice,
    InvoiceDiscount,
    InvoiceDocument,
    InvoiceLine,
    InvoiceTax,
    Payment,
    Sending,
)

# What a lifecycle step reads of an invoice: re-read under the lock (lock_invoice).
_INVOICE_STATE = (Invoice, InvoiceLine, InvoiceDiscount, InvoiceTax, Sending, InvoiceDocument,
                  Payment)


def lock_invoice(invoice: Invoice) -> Invoice:
    """Take the invoice's row lock and re-read it, so the step decides on fresh state.

    The caller loaded the invoice (and maybe its lines, sendings, document) before any lock was
    held; on PostgreSQL another request may have changed or deleted it since, and committed
    while this one waited. `SELECT … FOR UPDATE` queues every step on the row; then all the
    invoice-side objects this session holds are expired, so everything the step reads next is
    what was committed before the lock was granted. (Re-selecting with `populate_existing`
    alone is not enough: it refreshes only the rows it returns, and only once they are fetched.)
    On SQLite the writing transaction holds the database's write lock from its first read
    (BEGIN IMMEDIATE, see db_setup), so nothing there can be stale; the same re-read keeps the
    two paths one. An invoice deleted meanwhile is NotFoundError.
    """
    session = db.session
    session.flush()
    statement = select(Invoice.id).where(Invoice.id == invoice.id)
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    if session.scalar(statement) is None:
        raise NotFoundError()
    for held in list(session.identity_map.values()):
        if isinstance(held, _INVOICE_STATE):
            session.expire(held)
    return invoice
