"""What a customer may read: its closed invoices across every event of its organizer.

Every query here starts from the customer, so another customer's invoices and drafts never
enter a result (SPEC §2: "never drafts, never anyone else's"). The list costs two queries
(count + page) whatever the number of invoices, and both walk the (customer_id, id) index, so
their cost follows the customer's own invoices, not the size of the table.
"""

from __future__ import annotations

import math

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased, contains_eager, load_only, selectinload

from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..extensions import db
from ..models import Customer, Event, Invoice
from .queries import Page

# What a list row shows. Loading only these skips the JSON snapshots and the other money
# columns, which were half the cost of the page (measured in bench/).
LIST_COLUMNS = (Invoice.id, Invoice.number, Invoice.type, Invoice.status, Invoice.currency,
                Invoice.issue_date, Invoice.due_date, Invoice.expires_at, Invoice.gross_total,
                Invoice.event_id, Invoice.refers_id, Invoice.customer_id, Invoice.organizer_id,
                Invoice.is_cancellation)

# The invoice a credit note refers to, and the sort that puts a credit note right after it.
# Built once: a fresh alias per request made SQLAlchemy re-adapt all of Invoice's columns
# (about 2 ms a page, measured).
referred = aliased(Invoice, name="referred")
_anchored = (Invoice.type == InvoiceType.CREDIT_NOTE.value) & referred.id.is_not(None)
_ORDER = (case((_anchored, referred.issue_date), else_=Invoice.issue_date).desc(),
          case((_anchored, referred.id), else_=Invoice.id).desc(),
          case((_anchored, 1), else_=0), Invoice.id)

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

    query = (
        select(Invoice)
        .join(Invoice.event)
        .outerjoin(referred, Invoice.refers_id == referred.id)
        .where(*conditions)
        .options(load_only(*LIST_COLUMNS),
                 contains_eager(Invoice.event).load_only(Event.id, Event.name, Event.slug),
                 contains_eager(Invoice.refers.of_type(referred)).load_only(
                     referred.id, referred.number, referred.issue_date, referred.type))
        .order_by(*_ORDER)
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
