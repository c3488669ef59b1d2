"""The order and customer lists (back office and API): scoped, ordered by a stable key, paged
by `invoice_queries.paginate`. Invoice reads live in `invoice_queries`.

Each list answers with a constant number of queries whatever the page size: one count, one
page and one `selectin` query per child collection.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..errors import NotFoundError
from ..extensions import db
from ..models import Customer, Event, Order, Organizer
from .invoice_queries import Page, PastEnd, paginate

BACK_OFFICE_PAGE_SIZE = 25


def event_orders(event: Event, *, customer: str | None, page: int, page_size: int) -> Page:
    """The API's order list: oldest first, exact customer reference, past the end is 404."""
    query = select(Order).where(Order.event_id == event.id)
    if customer is not None:
        query = query.where(Order.customer_id.in_(select(Customer.id).where(
            Customer.reference == customer, Customer.organizer_id == event.organizer_id)))
    query = query.options(selectinload(Order.lines), selectinload(Order.customer))
    return paginate(query.order_by(Order.id), page, page_size, past_end=PastEnd.NOT_FOUND)


def order_in_event(event: Event, code: str) -> Order:
    """An order of the event by its code; anything else is the same 404."""
    order = db.session.scalar(select(Order).where(Order.event_id == event.id, Order.code == code)
                              .options(selectinload(Order.lines)))
    if order is None:
        raise NotFoundError()
    return order


def organizer_customers(organizer_id: int, *, reference: str | None, email: str | None,
                        page: int, page_size: int) -> Page:
    """The API's customer list: exact reference, case-insensitive email, past the end is 404."""
    query = select(Customer).where(Customer.organizer_id == organizer_id)
    if reference is not None:
        query = query.where(Customer.reference == reference)
    if email is not None:
        query = query.where(func.lower(Customer.email) == email.lower())
    return paginate(query.order_by(Customer.id), page, page_size, past_end=PastEnd.NOT_FOUND)


# ---------------------------------------------------------------- the back office


def back_office_orders(event: Event, *, search: str, page: int) -> Page:
    """The back office's order list: newest first, `search` an exact order code, past the end
    is the last page."""
    statement = (select(Order).where(Order.event_id == event.id)
                 .options(selectinload(Order.customer), selectinload(Order.lines))
                 .order_by(Order.id.desc()))
    if search:
        statement = statement.where(Order.code == search)
    return paginate(statement, page, BACK_OFFICE_PAGE_SIZE, past_end=PastEnd.LAST)


def order_of_event(event: Event, order_id: int) -> Order:
    """An order of the event by id, with its lines and customer; anything else is 404."""
    order = db.session.scalar(
        select(Order).where(Order.event_id == event.id, Order.id == order_id)
        .options(selectinload(Order.lines), selectinload(Order.customer)))
    if order is None:
        raise NotFoundError()
    return order


def order_choices(event: Event, *, limit: int = 200) -> list:
    """(code, customer name) of the event's newest orders, for a select box."""
    return db.session.execute(
        select(Order.code, Customer.name).join(Customer, Order.customer_id == Customer.id)
        .where(Order.event_id == event.id).order_by(Order.id.desc()).limit(limit)).all()


def customer_choices(organizer: Organizer) -> list:
    """(reference, name) of the organizer's customers by name, for a select box."""
    return db.session.execute(
        select(Customer.reference, Customer.name)
        .where(Customer.organizer_id == organizer.id).order_by(Customer.name)).all()


def back_office_customers(organizer: Organizer, *, search: str, page: int) -> Page:
    """The back office's customer list: by name, `search` a part of the reference, name or
    email, past the end is the last page."""
    statement = select(Customer).where(Customer.organizer_id == organizer.id)
    if search:
        like = f"%{search.lower()}%"
        statement = statement.where(or_(func.lower(Customer.reference).like(like),
                                        func.lower(Customer.name).like(like),
                                        func.lower(Customer.email).like(like)))
    return paginate(statement.order_by(Customer.name, Customer.id), page,
                    BACK_OFFICE_PAGE_SIZE, past_end=PastEnd.LAST)
