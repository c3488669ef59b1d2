"""List queries over an event's invoices: filters, ordering and pagination.

Shared by the back office list and the API, so both filter and order the same way. A page
costs a fixed number of queries whatever its size: one count, one page (with its customers
and referred invoices joined in), never one query per row. The filters lean on the invoice
indexes: (event_id, status), (event_id, issue_date), (event_id, order_code).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Select, cast, func, or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.types import Numeric

from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..extensions import db
from ..models import Customer, Event, Invoice
from .invoice_input import FieldErrors, clean_date, clean_int

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
FILTER_KEYS = ("type", "status", "customer", "order", "number", "issued_after",
               "issued_before", "is_cancellation", "refers", "locale")
ORDERINGS = ("number", "-number", "date", "-date", "due", "-due", "total", "-total",
             "created", "-created")
DEFAULT_ORDERING = "-created"


@dataclass
class Page:
    items: list
    count: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.count else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.page_size, self.count)


@dataclass
class InvoiceQuery:
    """Cleaned list parameters; `errors` names each parameter that was ignored and why."""

    filters: dict = field(default_factory=dict)
    ordering: str = DEFAULT_ORDERING
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    errors: FieldErrors = field(default_factory=FieldErrors)

    def add_error(self, key: str, message: str) -> None:
        self.errors.add(key, message)


def clean_invoice_query(args: Mapping, *, default_page_size: int = DEFAULT_PAGE_SIZE,
                        ordering_default: str = DEFAULT_ORDERING) -> InvoiceQuery:
    """Read filters, ordering and paging from query-string arguments.

    Empty values mean "no filter". Invalid values are left out and reported in `errors`, so
    the HTML list can show them next to the filter and the API can answer 400.
    """
    query = InvoiceQuery(ordering=ordering_default, page_size=default_page_size)
    values = {key: (args.get(key) or "").strip() for key in
              (*FILTER_KEYS, "ordering", "page", "page_size")}
    choices = {"type": [t.value for t in InvoiceType], "status": [s.value for s in InvoiceStatus]}
    for key, allowed in choices.items():
        if values[key]:
            if values[key] in allowed:
                query.filters[key] = values[key]
            else:
                query.add_error(key, "Choose one of: " + ", ".join(allowed) + ".")
    for key in ("customer", "order", "number", "refers", "locale"):
        if values[key]:
            if len(values[key]) > 100:
                query.add_error(key, "Use at most 100 characters.")
            else:
                query.filters[key] = values[key]
    for key in ("issued_after", "issued_before"):
        if values[key]:
            day = clean_date(query.errors, key, values[key])
            if day is not None:
                query.filters[key] = day
    if values["is_cancellation"]:
        flag = values["is_cancellation"].lower()
        if flag in {"true", "1", "yes"}:
            query.filters["is_cancellation"] = True
        elif flag in {"false", "0", "no"}:
            query.filters["is_cancellation"] = False
        else:
            query.add_error("is_cancellation", "Enter true or false.")
    if values["ordering"]:
        if values["ordering"] in ORDERINGS:
            query.ordering = values["ordering"]
        else:
            query.add_error("ordering", "Choose one of: " + ", ".join(ORDERINGS) + ".")
    if values["page"]:
        query.page = clean_int(query.errors, "page", values["page"], minimum=1, maximum=10**9) or 1
    if values["page_size"]:
        query.page_size = clean_int(query.errors, "page_size", values["page_size"], minimum=1,
                               maximum=MAX_PAGE_SIZE) or default_page_size
    return query


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def invoice_conditions(event: Event, filters: Mapping) -> list:
    """WHERE clauses for an event's invoices matching `filters` (as cleaned above)."""
    conditions = [Invoice.event_id == event.id]
    if filters.get("type"):
        conditions.append(Invoice.type == filters["type"])
    if filters.get("status"):
        conditions.append(Invoice.status == filters["status"])
    if filters.get("order"):
        conditions.append(Invoice.order_code == filters["order"])
    if filters.get("locale"):
        conditions.append(Invoice.locale == filters["locale"])
    if "is_cancellation" in filters:
        conditions.append(Invoice.is_cancellation.is_(filters["is_cancellation"]))
    if filters.get("number"):
        conditions.append(func.lower(Invoice.number).like(_like(filters["number"]),
                                                          escape="\\"))
    if filters.get("issued_after"):
        conditions.append(Invoice.issue_date >= filters["issued_after"])
    if filters.get("issued_before"):
        conditions.append(Invoice.issue_date <= filters["issued_before"])
    if filters.get("customer"):
        # A customer by exact reference, or by a part of its name.
        text = filters["customer"]
        conditions.append(Invoice.customer_id.in_(
            select(Customer.id).where(
                Customer.organizer_id == event.organizer_id,
                or_(func.lower(Customer.reference) == text.lower(),
                    func.lower(Customer.name).like(_like(text), escape="\\")))))
    if filters.get("refers"):
        referred = select(Invoice.id).where(Invoice.event_id == event.id,
                                            Invoice.number == filters["refers"])
        conditions.append(Invoice.refers_id.in_(referred.scalar_subquery()))
    return conditions


def _ordering(ordering: str) -> list:
    """ORDER BY clauses; empty values (drafts have no number or date) always sort last."""
    descending = ordering.startswith("-")
    key = ordering.lstrip("-")
    column = {
        "number": Invoice.number,
        "date": Invoice.issue_date,
        "due": Invoice.due_date,
        # SQLite keeps amounts as exact text; compare them as numbers.
        "total": cast(Invoice.gross_total, Numeric(16, 3)),
        "created": Invoice.id,
    }[key]
    tiebreak = Invoice.id.desc() if descending else Invoice.id.asc()
    if key == "created":
        return [tiebreak]
    return [column.is_(None), column.desc() if descending else column.asc(), tiebreak]


def invoice_page(event: Event, query: InvoiceQuery, *options) -> Page:
    """One page of the event's invoices: a count query and a page query, whatever the size.

    A page number past the end shows the last page.
    """
    conditions = invoice_conditions(event, query.filters)
    statement = (
        select(Invoice).where(*conditions).order_by(*_ordering(query.ordering))
        .options(*(options or (joinedload(Invoice.customer), joinedload(Invoice.refers))))
    )
    return paginate(statement, query.page, query.page_size,
                    count=select(func.count(Invoice.id)).where(*conditions))


def status_counts(event: Event) -> dict[str, int]:
    """How many invoices the event has in each status (one grouped query)."""
    rows = db.session.execute(
        select(Invoice.status, func.count(Invoice.id)).where(Invoice.event_id == event.id)
        .group_by(Invoice.status)).all()
    counts = {status.value: 0 for status in InvoiceStatus}
    counts.update({status: number for status, number in rows})
    return counts


def paginate(statement: Select, page: int, page_size: int, *, count: Select | None = None) -> Page:
    """Any ordered SELECT as a page: a count query and a page query.

    A page number past the end shows the last page.
    """
    if count is None:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
    count = db.session.scalar(count) or 0
    page = min(max(1, page), max(1, math.ceil(count / page_size)))
    items = list(db.session.scalars(
        statement.limit(page_size).offset((page - 1) * page_size)).unique())
    return Page(items=items, count=count, page=page, page_size=page_size)


def page_number(args: Mapping) -> int:
    """The `page` query argument, 1 when missing or not a positive number."""
    try:
        return max(1, min(int(args.get("page") or 1), 10**9))
    except ValueError:
        return 1
