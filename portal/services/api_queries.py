"""The invoice, order and customer lists of the JSON API: filters, stable ordering, pages.

Each list answers with a constant number of queries whatever the page size: one count, one
page (with its many-to-one relations joined) and one `selectin` query per child collection.
Every ordering ends with the primary key, so equal dates or numbers never make a row appear
on two pages or on none.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, selectinload

from ..domain.lifecycle import InvoiceStatus
from ..errors import NotFoundError
from ..extensions import db
from ..models import ApiToken, Customer, Event, Invoice, Order, token_events
from .representation import INVOICE_LOAD

# ordering value -> ORDER BY; drafts (no number, no date) always come last.
INVOICE_ORDERINGS = {
    "number": (Invoice.number.is_(None), Invoice.number, Invoice.id),
    "-number": (Invoice.number.is_(None), Invoice.number.desc(), Invoice.id.desc()),
    "date": (Invoice.issue_date.is_(None), Invoice.issue_date, Invoice.id),
    "-date": (Invoice.issue_date.is_(None), Invoice.issue_date.desc(), Invoice.id.desc()),
    "id": (Invoice.id,),
}


@dataclass(frozen=True)
class Page:
    count: int
    items: list


def paginate(query: Select, *, page: int, page_size: int) -> Page:
    """Count the rows of `query`, then load one page of it (`query` is already ordered)."""
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    offset = (page - 1) * page_size
    items = list(db.session.scalars(query.limit(page_size).offset(offset))) \
        if offset < (count or 0) else []
    return Page(count=count or 0, items=items)


def event_invoices(event: Event) -> Select:
    return select(Invoice).where(Invoice.event_id == event.id)


def organizer_invoices(token: ApiToken) -> Select:
    """Invoices of every event the token may see."""
    query = select(Invoice).where(Invoice.organizer_id == token.organizer_id)
    if not token.all_events:
        query = query.where(Invoice.event_id.in_(
            select(token_events.c.event_id).where(token_events.c.token_id == token.id)))
    return query


def filter_invoices(query: Select, filters: dict) -> Select:
    """Apply the cleaned SPEC §6 filters (absent keys do not filter)."""
    if filters.get("type"):
        query = query.where(Invoice.type.in_(filters["type"]))
    if filters.get("status"):
        query = query.where(Invoice.status.in_(filters["status"]))
    if filters.get("is_cancellation") is not None:
        query = query.where(Invoice.is_cancellation.is_(filters["is_cancellation"]))
    if filters.get("order") is not None:
        query = query.where(Invoice.order_code == filters["order"])
    if filters.get("refers") is not None:
        referred = aliased(Invoice)
        query = query.where(Invoice.refers_id.in_(
            select(referred.id).where(referred.number == filters["refers"],
                                      referred.event_id == Invoice.event_id)))
    if filters.get("locale") is not None:
        query = query.where(Invoice.locale == filters["locale"])
    if filters.get("customer") is not None:
        query = query.where(Invoice.customer_id.in_(
            select(Customer.id).where(Customer.reference == filters["customer"],
                                      Customer.organizer_id == Invoice.organizer_id)))
    if filters.get("number") is not None:
        query = query.where(Invoice.number == filters["number"])
    if filters.get("issued_after") is not None:
        query = query.where(Invoice.issue_date >= filters["issued_after"])
    if filters.get("issued_before") is not None:
        query = query.where(Invoice.issue_date <= filters["issued_before"])
    if filters.get("event") is not None:
        query = query.where(Invoice.event_id.in_(
            select(Event.id).where(Event.slug == filters["event"],
                                   Event.organizer_id == Invoice.organizer_id)))
    return query


def invoice_page(query: Select, *, filters: dict, ordering: str, page: int,
                 page_size: int) -> Page:
    query = filter_invoices(query, filters).order_by(*INVOICE_ORDERINGS[ordering])
    return paginate(query.options(*INVOICE_LOAD), page=page, page_size=page_size)


def customer_invoice_slice(customer: Customer, *, ids: list[int] | None, type: str | None,
                           after: int | None, first: int, limit: int) -> Page:
    """The Open2b conditions: the customer's closed invoices in id order."""
    query = select(Invoice).where(Invoice.customer_id == customer.id,
                                  Invoice.organizer_id == customer.organizer_id,
                                  Invoice.status != InvoiceStatus.DRAFT.value)
    if ids is not None:
        query = query.where(Invoice.id.in_(ids))
    if type:
        query = query.where(Invoice.type == type)
    if after is not None:
        query = query.where(Invoice.id > after)
    count = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(
        query.options(*INVOICE_LOAD).order_by(Invoice.id).offset(first).limit(limit)))
    return Page(count=count, items=items)


def event_orders(event: Event, *, customer: str | None, page: int, page_size: int) -> Page:
    query = select(Order).where(Order.event_id == event.id)
    if customer is not None:
        query = query.where(Order.customer_id.in_(select(Customer.id).where(
            Customer.reference == customer, Customer.organizer_id == event.organizer_id)))
    query = query.options(selectinload(Order.lines), selectinload(Order.customer))
    return paginate(query.order_by(Order.id), page=page, page_size=page_size)


def order_in_event(event: Event, code: str) -> Order:
    """An order of the event by its code; anything else is the same 404."""
    order = db.session.scalar(select(Order).where(Order.event_id == event.id, Order.code == code)
                              .options(selectinload(Order.lines)))
    if order is None:
        raise NotFoundError()
    return order


def organizer_customers(organizer_id: int, *, reference: str | None, email: str | None,
                        page: int, page_size: int) -> Page:
    query = select(Customer).where(Customer.organizer_id == organizer_id)
    if reference is not None:
        query = query.where(Customer.reference == reference)
    if email is not None:
        query = query.where(func.lower(Customer.email) == email.lower())
    return paginate(query.order_by(Customer.id), page=page, page_size=page_size)
