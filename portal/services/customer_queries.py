"""What a customer may read: its closed invoices across every event of its organizer.

Every query here starts from the customer, so another customer's invoices and drafts never
enter a result (SPEC §2: "never drafts, never anyone else's"). The list costs two queries
(count + page) whatever the number of invoices, and both walk the (customer_id, id) index, so
their cost follows the customer's own invoices, not the size of the table.
"""

from __future__ import annotations

import math

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, contains_eager, selectinload

from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..extensions import db
from ..models import Customer, Invoice
from .queries import Page

# What a customer can see and filter by: every status but draft.
VISIBLE_STATUSES = tuple(s for s in InvoiceStatus if s != InvoiceStatus.DRAFT)
PER_PAGE = 20


def _visible(customer: Customer):
    return (Invoice.customer_id == customer.id,
            Invoice.organizer_id == customer.organizer_id,
            Invoice.status != InvoiceStatus.DRAFT.value)


def customer_invoice_page(customer: Customer, *, type: str | None = None,
                          status: str | None = None, number: str | None = None,
                          page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the customer's closed invoices, newest first.

    A credit note sorts right after the invoice it refers to (it takes that invoice's place in
    the order), so a cancellation reads next to what it cancels.
    """
    conditions = list(_visible(customer))
    if type:
        conditions.append(Invoice.type == type)
    if status:
        conditions.append(Invoice.status == status)
    if number:
        conditions.append(func.lower(Invoice.number).contains(number.strip().lower(),
                                                               autoescape=True))
    total = db.session.scalar(select(func.count(Invoice.id)).where(*conditions)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)

    referred = aliased(Invoice)
    is_credit = Invoice.type == InvoiceType.CREDIT_NOTE.value
    anchored = is_credit & referred.id.is_not(None)
    anchor_date = case((anchored, referred.issue_date), else_=Invoice.issue_date)
    anchor_id = case((anchored, referred.id), else_=Invoice.id)
    query = (
        select(Invoice)
        .join(Invoice.event)
        .outerjoin(referred, Invoice.refers_id == referred.id)
        .where(*conditions)
        .options(contains_eager(Invoice.event), contains_eager(Invoice.refers.of_type(referred)))
        .order_by(anchor_date.desc(), anchor_id.desc(), case((anchored, 1), else_=0),
                  Invoice.id)
        .limit(per_page).offset((page - 1) * per_page)
    )
    invoices = list(db.session.scalars(query).unique())
    return Page(items=invoices, count=total, page=page, page_size=per_page)


def credit_notes_of(customer: Customer, invoice: Invoice) -> list[Invoice]:
    """The customer's closed credit notes that refer to `invoice`, oldest first."""
    return list(db.session.scalars(
        select(Invoice).where(*_visible(customer), Invoice.refers_id == invoice.id,
                              Invoice.type == InvoiceType.CREDIT_NOTE.value)
        .order_by(Invoice.id)))


def customer_invoices_with_documents(customer: Customer, *, batch: int = 50):
    """Every closed invoice of the customer, oldest first, its stored document loaded with it
    (for the ZIP download). Streamed in batches of `batch`, one document query per batch."""
    query = (select(Invoice).join(Invoice.event).where(*_visible(customer))
             .options(contains_eager(Invoice.event), selectinload(Invoice.document))
             .order_by(Invoice.id).execution_options(yield_per=batch))
    yield from db.session.scalars(query)
