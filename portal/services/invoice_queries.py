"""THE read path for invoices: one filter object, one ordering table, one paginator, one
visibility rule, and the loader options, shared by the back office, the customer area and
the JSON API.

The audiences differ on purpose in three declared ways, each chosen by the caller:
- text filters (`number`, `customer`) match `Match.CONTAINS` in the back office (a fuzzy
  search) and `Match.EXACT` in the API (SPEC §6);
- each audience exposes its own subset of `ORDERINGS`;
- a page past the end is the last page (`PastEnd.LAST`, the HTML lists) or a 404
  (`PastEnd.NOT_FOUND`, the API, SPEC §6).

The seed dialects (portal/compat, SPEC §12) read through the same pieces: `InvoiceFilter`
with `ids` (Akinon's and OM's `{id}`) or `CLOSED_STATUSES` (pretix lists no drafts),
`one_invoice` for a detail by id or full number, and the API's orderings under their names.

A page costs a fixed number of queries whatever its size: one count, one page (with its
many-to-one relations joined) and one `selectin` query per child collection, never one query
per row. Every ordering ends with the primary key, so equal dates or numbers never make a row
appear on two pages or on none. The filters lean on the invoice indexes: (event_id, status),
(event_id, issue_date), (event_id, order_code), (customer_id, id).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal

from sqlalchemy import Select, case, cast, func, or_, select, tuple_
from sqlalchemy.orm import aliased, contains_eager, joinedload, load_only, selectinload
from sqlalchemy.types import Numeric

from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..errors import NotFoundError, ValidationError
from ..extensions import db
from ..i18n import _
from ..models import ApiToken, AuditEntry, Customer, Event, Invoice, Payment, token_events
from ..models.invoice import OVERDUE_STATUSES, overdue_clause
from . import tallies
from .input import FieldErrors, clean_date, clean_int

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
FILTER_KEYS = ("type", "status", "customer", "order", "number", "issued_after",
               "issued_before", "is_cancellation", "refers", "locale", "overdue")
DEFAULT_ORDERING = "-created"

# ---------------------------------------------------------------- loader options

# Everything `representation.invoice_to_dict` reads, for lists and details of whole invoices.
INVOICE_LOAD = (
    joinedload(Invoice.organizer), joinedload(Invoice.event), joinedload(Invoice.customer),
    joinedload(Invoice.refers), selectinload(Invoice.lines), selectinload(Invoice.discounts),
    selectinload(Invoice.taxes), selectinload(Invoice.payments),
)
# What a back-office list row shows besides the invoice's own columns.
ROW_LOAD = (joinedload(Invoice.customer), joinedload(Invoice.refers))

# What a customer list row shows. Loading only these skips the JSON snapshots and the other
# money columns, which were half the cost of the page (measured in bench/).
LIST_COLUMNS = (Invoice.id, Invoice.number, Invoice.type, Invoice.status, Invoice.currency,
                Invoice.issue_date, Invoice.due_date, Invoice.expires_at, Invoice.gross_total,
                Invoice.event_id, Invoice.refers_id, Invoice.customer_id, Invoice.organizer_id,
                Invoice.is_cancellation, Invoice.amount_paid)


# ---------------------------------------------------------------- pages


class PastEnd(enum.Enum):
    """What a page number past the last page gives."""

    LAST = "last"            # the last page (HTML lists: a stale link still shows something)
    NOT_FOUND = "not_found"  # NotFoundError, except page 1 of an empty list (the API)


@dataclass
class Page:
    items: list
    count: int
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

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


def paginate(statement: Select, page: int, page_size: int, *, past_end: PastEnd,
             count: Select | None = None, rows: bool = False) -> Page:
    """Any ordered SELECT as a page: a count query and a page query. Its items are objects,
    or with `rows` the statement's rows (the frozen read path's columns)."""
    if count is None:
        count = select(func.count()).select_from(statement.order_by(None).subquery())
    count = db.session.scalar(count) or 0
    page = max(1, page)
    if (page - 1) * page_size >= count and page > 1:
        if past_end is PastEnd.NOT_FOUND:
            raise NotFoundError(_("This page does not exist."), code="invalid_page")
        page = max(1, math.ceil(count / page_size))
    items = []
    if count:
        statement = statement.limit(page_size).offset((page - 1) * page_size)
        items = (db.session.execute(statement).all() if rows
                 else list(db.session.scalars(statement).unique()))
    return Page(items=items, count=count, page=page, page_size=page_size)


def page_number(args: Mapping) -> int:
    """The `page` query argument, 1 when missing or not a positive number."""
    try:
        return max(1, min(int(args.get("page") or 1), 10**9))
    except ValueError:
        return 1


# ---------------------------------------------------------------- filters


class Match(enum.Enum):
    """How the text filters `number` and `customer` compare."""

    EXACT = "exact"        # number == value; customer by its reference (the API)
    CONTAINS = "contains"  # case-insensitive part of the number; customer by exact reference
    #                        or part of its name (the back office and the customer area)


@dataclass
class InvoiceFilter:
    """Which invoices a list shows. Empty values do not filter."""

    type: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    customer: str | None = None
    order: str | None = None
    number: str | None = None
    refers: str | None = None
    locale: str | None = None
    event: str | None = None
    issued_after: dt.date | None = None
    issued_before: dt.date | None = None
    is_cancellation: bool | None = None
    # Only these ids (the dialects' detail views: Akinon `{id}`, OM `{id}`).
    ids: tuple[int, ...] = ()
    # True: only invoices with a balance after their due date (SPEC §10), as of `today`.
    overdue: bool | None = None
    today: dt.date | None = None
    match: Match = Match.EXACT

    def only_status_and_type(self) -> bool:
        """True when no filter but `status` and `type` is set (the kept tallies count it)."""
        return all(getattr(self, f.name) in (None, (), [], "") for f in fields(self)
                   if f.name not in _TALLIED)

    def conditions(self) -> list:
        """WHERE clauses; the caller adds the scope (event, organizer, customer)."""
        conditions = []
        if self.ids:
            conditions.append(Invoice.id.in_(self.ids))
        if self.type:
            conditions.append(Invoice.type.in_(self.type))
        if self.status:
            conditions.append(Invoice.status.in_(self.status))
        if self.is_cancellation is not None:
            conditions.append(Invoice.is_cancellation.is_(self.is_cancellation))
        if self.overdue is not None:
            overdue = overdue_clause(self.today or dt.date.today())
            conditions.append(overdue if self.overdue else ~overdue)
        if self.order:
            conditions.append(Invoice.order_code == self.order)
        if self.locale:
            conditions.append(Invoice.locale == self.locale)
        if self.number:
            if self.match is Match.CONTAINS:
                conditions.append(func.lower(Invoice.number).like(_like(self.number),
                                                                  escape="\\"))
            else:
                conditions.append(Invoice.number == self.number)
        if self.issued_after:
            conditions.append(Invoice.issue_date >= self.issued_after)
        if self.issued_before:
            conditions.append(Invoice.issue_date <= self.issued_before)
        if self.customer:
            if self.match is Match.CONTAINS:
                text = self.customer
                matches = or_(func.lower(Customer.reference) == text.lower(),
                              func.lower(Customer.name).like(_like(text), escape="\\"))
            else:
                matches = Customer.reference == self.customer
            conditions.append(Invoice.customer_id.in_(select(Customer.id).where(
                matches, Customer.organizer_id == Invoice.organizer_id)))
        if self.refers:
            referred = aliased(Invoice)
            conditions.append(Invoice.refers_id.in_(
                select(referred.id).where(referred.number == self.refers,
                                          referred.event_id == Invoice.event_id)))
        if self.event:
            conditions.append(Invoice.event_id.in_(
                select(Event.id).where(Event.slug == self.event,
                                       Event.organizer_id == Invoice.organizer_id)))
        return conditions


# What the kept tallies can answer (`match` and `today` only qualify other filters); any
# other InvoiceFilter field, present or future, makes a list count directly.
_TALLIED = ("status", "type", "match", "today")


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@dataclass
class InvoiceQuery:
    """Cleaned back-office list parameters; `errors` names each one that was ignored and why."""

    filters: InvoiceFilter = field(default_factory=lambda: InvoiceFilter(match=Match.CONTAINS))
    ordering: str = DEFAULT_ORDERING
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    errors: FieldErrors = field(default_factory=FieldErrors)

    def add_error(self, key: str, message: str) -> None:
        self.errors.add(key, message)


# ---------------------------------------------------------------- orderings

# The one ordering table: name -> ORDER BY. Empty values (drafts have no number or date)
# always sort last. Each audience exposes a subset (BACK_OFFICE_ORDERINGS, API_ORDERINGS).
# SQLite keeps amounts as exact text, so totals compare as numbers.
_total = cast(Invoice.gross_total, Numeric(16, 3))
ORDERINGS = {
    "number": (Invoice.number.is_(None), Invoice.number.asc(), Invoice.id.asc()),
    "-number": (Invoice.number.is_(None), Invoice.number.desc(), Invoice.id.desc()),
    # Newest first: drafts (by when they were made) above closed documents, then by issue
    # date, then by counter within a date (closing order), so numbers read downwards.
    "newest": (Invoice.number.is_not(None), Invoice.issue_date.desc(),
               Invoice.sequence_value.desc(), Invoice.id.desc()),
    "date": (Invoice.issue_date.is_(None), Invoice.issue_date.asc(), Invoice.id.asc()),
    "-date": (Invoice.issue_date.is_(None), Invoice.issue_date.desc(), Invoice.id.desc()),
    "due": (Invoice.due_date.is_(None), Invoice.due_date.asc(), Invoice.id.asc()),
    "-due": (Invoice.due_date.is_(None), Invoice.due_date.desc(), Invoice.id.desc()),
    "total": (_total.is_(None), _total.asc(), Invoice.id.asc()),
    "-total": (_total.is_(None), _total.desc(), Invoice.id.desc()),
    "created": (Invoice.id.asc(),),
    "-created": (Invoice.id.desc(),),
    "id": (Invoice.id.asc(),),
}
BACK_OFFICE_ORDERINGS = ("newest", "number", "-number", "date", "-date", "due", "-due",
                         "total", "-total", "created", "-created")
BACK_OFFICE_DEFAULT_ORDERING = "newest"
API_ORDERINGS = ("number", "-number", "date", "-date")

# The customer's list: newest first, a credit note right after the invoice it refers to (it
# takes that invoice's place in the order), so a cancellation reads next to what it cancels.
# Needs `referred` outer-joined. Built once: a fresh alias per request made SQLAlchemy
# re-adapt all of Invoice's columns (about 2 ms a page, measured).
referred = aliased(Invoice, name="referred")
_anchored = (Invoice.type == InvoiceType.CREDIT_NOTE.value) & referred.id.is_not(None)
CUSTOMER_ORDER = (case((_anchored, referred.issue_date), else_=Invoice.issue_date).desc(),
                  case((_anchored, referred.id), else_=Invoice.id).desc(),
                  case((_anchored, 1), else_=0), Invoice.id)


# ---------------------------------------------------------------- visibility

# What a customer can see and filter by: every status but draft.
VISIBLE_STATUSES = tuple(s for s in InvoiceStatus if s != InvoiceStatus.DRAFT)
# The same as values, for `InvoiceFilter(status=CLOSED_STATUSES)`: lists without drafts.
CLOSED_STATUSES = tuple(s.value for s in VISIBLE_STATUSES)


def visible_to(customer: Customer) -> tuple:
    """The one customer-visibility rule (SPEC §2: "never drafts, never anyone else's"): the
    customer's own closed invoices and credit notes, in any event of its organizer."""
    return (Invoice.customer_id == customer.id,
            Invoice.organizer_id == customer.organizer_id,
            Invoice.status != InvoiceStatus.DRAFT.value)


# ---------------------------------------------------------------- the back office


def clean_invoice_query(args: Mapping, *, default_page_size: int = DEFAULT_PAGE_SIZE,
                        ordering_default: str = DEFAULT_ORDERING) -> InvoiceQuery:
    """Read filters, ordering and paging from query-string arguments.

    Empty values mean "no filter". Invalid values are left out and reported in `errors`, so
    the HTML list can show them next to the filter and the API can answer 400.
    """
    query = InvoiceQuery(ordering=ordering_default, page_size=default_page_size)
    filters = query.filters
    values = {key: (args.get(key) or "").strip() for key in
              (*FILTER_KEYS, "ordering", "page", "page_size")}
    choices = {"type": [t.value for t in InvoiceType], "status": [s.value for s in InvoiceStatus]}
    for key, allowed in choices.items():
        if values[key]:
            if values[key] in allowed:
                setattr(filters, key, (values[key],))
            else:
                query.add_error(key, "Choose one of: " + ", ".join(allowed) + ".")
    for key in ("customer", "order", "number", "refers", "locale"):
        if values[key]:
            if len(values[key]) > 100:
                query.add_error(key, "Use at most 100 characters.")
            else:
                setattr(filters, key, values[key])
    for key in ("issued_after", "issued_before"):
        if values[key]:
            day = clean_date(query.errors, key, values[key])
            if day is not None:
                setattr(filters, key, day)
    for key in ("is_cancellation", "overdue"):
        if values[key]:
            flag = values[key].lower()
            if flag in {"true", "1", "yes"}:
                setattr(filters, key, True)
            elif flag in {"false", "0", "no"}:
                setattr(filters, key, False)
            else:
                query.add_error(key, "Enter true or false.")
    if values["ordering"]:
        if values["ordering"] in BACK_OFFICE_ORDERINGS:
            query.ordering = values["ordering"]
        else:
            query.add_error("ordering",
                            "Choose one of: " + ", ".join(BACK_OFFICE_ORDERINGS) + ".")
    if values["page"]:
        query.page = clean_int(query.errors, "page", values["page"], minimum=1, maximum=10**9) or 1
    if values["page_size"]:
        query.page_size = clean_int(query.errors, "page_size", values["page_size"], minimum=1,
                               maximum=MAX_PAGE_SIZE) or default_page_size
    return query


def invoice_count(scope: Select, filters: InvoiceFilter) -> Select:
    """The SELECT that counts the invoices of `scope` matching `filters`: the sum of the kept
    tallies (services/tallies.py) when the scope is an event or a token's events and the
    filters are only status and type, whose cost stays flat with the table; else count(*)."""
    kept = _tally_scope(scope)
    if kept is not None and filters.only_status_and_type():
        return tallies.tally_count(**kept, statuses=filters.status or (),
                                   types=filters.type or ())
    return scope.where(*filters.conditions()).with_only_columns(
        func.count(Invoice.id)).order_by(None)


def invoice_page(scope: Select, filters: InvoiceFilter, *, ordering: str, page: int,
                 page_size: int, past_end: PastEnd, options=INVOICE_LOAD,
                 rows: Callable[[Select], Select] | None = None) -> Page:
    """One page of the invoices in `scope` (event_invoices, organizer_invoices) that match
    `filters`: a count query (`invoice_count`) and a page query, whatever the size. Its
    items are objects, or the rows of `rows(statement)` (the frozen read path)."""
    statement = scope.where(*filters.conditions())
    statement = rows(statement) if rows is not None else statement.options(*options)
    return paginate(statement.order_by(*ORDERINGS[ordering]), page, page_size,
                    past_end=past_end, count=invoice_count(scope, filters),
                    rows=rows is not None)


# ---------------------------------------------------------------- keyset pages (issue 16)

# Per ordering: the sort key as NULL-free expressions, and whether it runs downwards. Each
# gives exactly the order of ORDERINGS[name]: drafts (no number, no date) last, equal values
# by id. NULL itself never takes part in a comparison: "has no number" is the key's first
# member (a boolean) and the missing value becomes a constant, so one row-value comparison
# `(key) > (the cursor's key)` finds the rows after the cursor on both databases.
_NO_DATE = dt.date(1, 1, 1)
KEYSET_ORDERINGS = {
    "id": ((Invoice.id,), False),
    "number": ((Invoice.number.is_(None), func.coalesce(Invoice.number, ""), Invoice.id),
               False),
    "-number": ((Invoice.number.is_not(None), func.coalesce(Invoice.number, ""), Invoice.id),
                True),
    "date": ((Invoice.issue_date.is_(None), func.coalesce(Invoice.issue_date, _NO_DATE),
              Invoice.id), False),
    "-date": ((Invoice.issue_date.is_not(None), func.coalesce(Invoice.issue_date, _NO_DATE),
               Invoice.id), True),
}


class Cursor(enum.Enum):
    """Which way a keyset page reads from its cursor."""

    AFTER = "starting_after"  # the rows after the cursor (none: from the start of the list)
    BEFORE = "ending_before"  # the rows before it (none: the end of the list)


@dataclass
class KeysetPage:
    """A page read from a cursor: `items` in list order, `has_more` rows further on in the
    direction read, and the ids the next and previous pages start after or end before."""

    items: list
    has_more: bool
    next_after: int | None
    previous_before: int | None
    page_size: int
    count: int | None = None


def invoice_keyset_page(scope: Select, filters: InvoiceFilter, *, ordering: str,
                        cursor: Cursor, cursor_id: int | None, page_size: int,
                        options=INVOICE_LOAD,
                        rows: Callable[[Select], Select] | None = None) -> KeysetPage:
    """The `page_size` invoices of the list after (or before) the invoice `cursor_id`, in one
    query of LIMIT page_size + 1: the cursor's sort key is read by a subquery of the same
    list, so an id outside the list matches nothing. Only when the page comes back empty is a
    second query asked whether the cursor is in the list at all: ValidationError if not.
    Rows inserted while a client walks never make another row appear twice or go missing.
    `count` is the kept tally when it applies (flat whatever the table size), else None.
    Its items are objects, or the rows of `rows(statement)` (the frozen read path)."""
    key, descending = KEYSET_ORDERINGS[ordering]
    statement = scope.where(*filters.conditions())
    forward = (cursor is Cursor.AFTER) != descending  # reading towards larger keys
    if cursor_id is not None:
        mark = (statement.where(Invoice.id == cursor_id).with_only_columns(*key)
                .order_by(None).correlate(None).scalar_subquery())
        left = key[0] if len(key) == 1 else tuple_(*key)
        statement = statement.where(left > mark if forward else left < mark)
    order = [k.asc() if forward else k.desc() for k in key]
    if rows is not None:
        found = db.session.execute(rows(statement).order_by(*order).limit(page_size + 1)).all()
    else:
        found = list(db.session.scalars(
            statement.order_by(*order).limit(page_size + 1).options(*options)).unique())
    has_more = len(found) > page_size
    found = found[:page_size]
    if cursor is Cursor.BEFORE:
        found.reverse()
    if not found and cursor_id is not None and db.session.scalar(
            scope.where(*filters.conditions(), Invoice.id == cursor_id)
            .with_only_columns(Invoice.id).order_by(None)) is None:
        raise ValidationError({cursor.value: [_("No invoice of this list has this id.")]})
    first, last = (found[0].id, found[-1].id) if found else (None, None)
    if cursor is Cursor.AFTER:
        next_after = last if has_more else None
        previous_before = first if cursor_id is not None else None
    else:
        next_after = last if cursor_id is not None else None
        previous_before = first if has_more else None
    count = None
    if _tally_scope(scope) is not None and filters.only_status_and_type():
        count = int(db.session.scalar(invoice_count(scope, filters)) or 0)
    return KeysetPage(items=found, has_more=has_more, next_after=next_after,
                      previous_before=previous_before, page_size=page_size, count=count)


def one_invoice(scope: Select, filters: InvoiceFilter, *, options=INVOICE_LOAD,
                rows: Callable[[Select], Select] | None = None):
    """The one invoice in `scope` matching `filters` (an id, a full number), or 404: its
    object, or its row of `rows(statement)` (the frozen read path)."""
    statement = scope.where(*filters.conditions())
    if rows is not None:
        found = db.session.execute(rows(statement).order_by(*ORDERINGS["id"]).limit(1)).first()
    else:
        found = db.session.scalars(statement.options(*options).order_by(*ORDERINGS["id"])
                                   .limit(1)).unique().first()
    if found is None:
        raise NotFoundError()
    return found


# The scopes remember what they are (an execution option of the SELECT), so `invoice_page`
# can count them from the kept tallies. A scope someone narrowed with another `.where()` has
# more criteria than it was made with, and is counted directly.
_TALLY_SCOPE = "portal_tally_scope"


def _with_tally_scope(query: Select, **scope) -> Select:
    return query.execution_options(**{_TALLY_SCOPE: (len(query._where_criteria), scope)})


def _tally_scope(query: Select) -> dict | None:
    kept = query.get_execution_options().get(_TALLY_SCOPE)
    if kept is None or kept[0] != len(query._where_criteria):
        return None
    return kept[1]


def event_invoices(event: Event) -> Select:
    return _with_tally_scope(select(Invoice).where(Invoice.event_id == event.id),
                             event_id=event.id)


def organizer_invoices(token: ApiToken) -> Select:
    """Invoices of every event the token may see."""
    query = select(Invoice).where(Invoice.organizer_id == token.organizer_id)
    if token.all_events:
        return _with_tally_scope(query, organizer_id=token.organizer_id)
    query = query.where(Invoice.event_id.in_(
        select(token_events.c.event_id).where(token_events.c.token_id == token.id)))
    return _with_tally_scope(query, organizer_id=token.organizer_id, token_id=token.id)


def status_counts(event: Event) -> dict[str, int]:
    """How many invoices the event has in each status, from the kept tallies (one query over
    a few rows per status, whatever the number of invoices)."""
    counts = {status.value: 0 for status in InvoiceStatus}
    counts.update(tallies.status_tallies(event.id))
    return counts


# ---------------------------------------------------------------- the customer


PER_PAGE = 20


def customer_invoice_page(customer: Customer, *, type: str | None = None,
                          status: str | None = None, number: str | None = None,
                          page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the customer's closed invoices in CUSTOMER_ORDER; past the end is the last
    page. Both queries walk the (customer_id, id) index, so their cost follows the customer's
    own invoices, not the size of the table."""
    filters = InvoiceFilter(type=(type,) if type else (), status=(status,) if status else (),
                            number=(number or "").strip() or None, match=Match.CONTAINS)
    conditions = (*visible_to(customer), *filters.conditions())
    statement = (
        select(Invoice)
        .join(Invoice.event)
        .outerjoin(referred, Invoice.refers_id == referred.id)
        .where(*conditions)
        .options(load_only(*LIST_COLUMNS),
                 contains_eager(Invoice.event).load_only(Event.id, Event.name, Event.slug),
                 contains_eager(Invoice.refers.of_type(referred)).load_only(
                     referred.id, referred.number, referred.issue_date, referred.type))
        .order_by(*CUSTOMER_ORDER)
    )
    return paginate(statement, page, per_page, past_end=PastEnd.LAST,
                    count=select(func.count(Invoice.id)).where(*conditions))


def credit_notes_of(customer: Customer, invoice: Invoice) -> list[Invoice]:
    """The customer's closed credit notes that refer to `invoice`, oldest first."""
    return list(db.session.scalars(
        select(Invoice).where(*visible_to(customer), Invoice.refers_id == invoice.id,
                              Invoice.type == InvoiceType.CREDIT_NOTE.value)
        .order_by(*ORDERINGS["id"])))


def customer_invoices_with_documents(customer: Customer, *, batch: int = 50):
    """Every closed invoice of the customer, oldest first, its stored document loaded with it
    (for the ZIP download). Streamed in batches of `batch`, one document query per batch."""
    query = (select(Invoice).join(Invoice.event).where(*visible_to(customer))
             .options(contains_eager(Invoice.event), selectinload(Invoice.document))
             .order_by(*ORDERINGS["id"]).execution_options(yield_per=batch))
    yield from db.session.scalars(query)


def customer_invoice_slice(customer: Customer, *, ids: list[int] | None, type: str | None,
                           after: int | None, first: int, limit: int,
                           rows: Callable[[Select], Select] | None = None) -> Page:
    """The Open2b conditions of the customer API: the customer's closed invoices in id
    order, `first` rows skipped (an offset, not a page: past the end is simply empty). Its
    items are objects, or the rows of `rows(statement)` (the frozen read path)."""
    query = select(Invoice).where(*visible_to(customer),
                                  *InvoiceFilter(type=(type,) if type else ()).conditions())
    if ids is not None:
        query = query.where(Invoice.id.in_(ids))
    if after is not None:
        query = query.where(Invoice.id > after)
    count = db.session.scalar(query.with_only_columns(func.count(Invoice.id))) or 0
    if rows is not None:
        items = db.session.execute(rows(query).order_by(*ORDERINGS["id"])
                                   .offset(first).limit(limit)).all() if count else []
    else:
        items = list(db.session.scalars(
            query.options(*INVOICE_LOAD).order_by(*ORDERINGS["id"]).offset(first).limit(limit)))
    return Page(items=items, count=count, page_size=limit)



# ---------------------------------------------------------------- back-office pages


def invoice_history(invoice: Invoice) -> list[AuditEntry]:
    """The audit entries of an invoice, oldest first."""
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.organizer_id == invoice.organizer_id,
                                 AuditEntry.invoice_id == invoice.id)
        .order_by(AuditEntry.id)))


def credit_notes_in_event(event: Event, invoice: Invoice) -> list[Invoice]:
    """Every invoice of the event that refers to `invoice` (drafts included), oldest first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.event_id == event.id, Invoice.refers_id == invoice.id)
        .order_by(*ORDERINGS["id"])))


def invoices_of_order(event: Event, order_id: int) -> list[Invoice]:
    """The event's invoices made from one order, oldest first."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.event_id == event.id, Invoice.order_id == order_id)
        .order_by(*ORDERINGS["id"])))


def invoices_by_order(event: Event, order_ids: list[int]) -> dict[int, list]:
    """(id, number, status, type) of the event's invoices per order id, in one query."""
    invoiced: dict[int, list] = {}
    if order_ids:
        rows = db.session.execute(
            select(Invoice.order_id, Invoice.id, Invoice.number, Invoice.status, Invoice.type)
            .where(Invoice.event_id == event.id, Invoice.order_id.in_(order_ids))
            .order_by(*ORDERINGS["id"])).all()
        for row in rows:
            invoiced.setdefault(row.order_id, []).append(row)
    return invoiced


def recent_invoices_of_customer(customer: Customer, event_ids: list[int], *,
                                limit: int = 50) -> list[Invoice]:
    """The customer's newest invoices (drafts included) in the events a member may see."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.customer_id == customer.id,
                              Invoice.event_id.in_(event_ids))
        .options(joinedload(Invoice.event)).order_by(*ORDERINGS["-created"]).limit(limit)))


# ---------------------------------------------------------------- balances (SPEC §10)

# Documents that are claims on the buyer: what the dashboard counts as open or overdue.
CLAIM_TYPES = (InvoiceType.INVOICE.value, InvoiceType.SHIPPING_INVOICE.value)


@dataclass
class OpenAmounts:
    """What an event's buyers still owe in one currency, and how much of it is overdue."""

    currency: str
    open: Decimal = Decimal(0)
    overdue: Decimal = Decimal(0)
    open_count: int = 0
    overdue_count: int = 0


def open_amounts(event_ids: list[int], *, today: dt.date | None = None,
                 ) -> dict[int, list[OpenAmounts]]:
    """Per event, per currency: the balance of its open, sent and disputed invoices and the
    part of it past due, in one query (the balance is on the invoice row, no join). Summed as
    Decimal here: SQLite would add the exact amounts as floats."""
    today = today or dt.date.today()
    result: dict[int, dict[str, OpenAmounts]] = {}
    if not event_ids:
        return {}
    rows = db.session.execute(
        select(Invoice.event_id, Invoice.currency, Invoice.gross_total, Invoice.amount_paid,
               Invoice.due_date)
        .where(Invoice.event_id.in_(event_ids), Invoice.status.in_(OVERDUE_STATUSES),
               Invoice.type.in_(CLAIM_TYPES))).all()
    for row in rows:
        balance = abs(row.gross_total) - row.amount_paid
        if balance <= 0:
            continue
        amounts = result.setdefault(row.event_id, {}).setdefault(
            row.currency, OpenAmounts(row.currency))
        amounts.open += balance
        amounts.open_count += 1
        if row.due_date is not None and row.due_date < today:
            amounts.overdue += balance
            amounts.overdue_count += 1
    return {event_id: sorted(by_currency.values(), key=lambda a: a.currency)
            for event_id, by_currency in result.items()}


# ---------------------------------------------------------------- statements (SPEC §10)

# What a statement lists: closed claims and credit notes (never drafts, never proformas).
STATEMENT_TYPES = (*CLAIM_TYPES, InvoiceType.CREDIT_NOTE.value)


def _statement_documents(customer: Customer, event_ids: list[int] | None) -> list:
    conditions = [*visible_to(customer), Invoice.type.in_(STATEMENT_TYPES)]
    if event_ids is not None:
        conditions.append(Invoice.event_id.in_(event_ids))
    return conditions


def statement_documents(customer: Customer, *, until: dt.date,
                        event_ids: list[int] | None = None) -> list[Invoice]:
    """The customer's closed invoices and credit notes issued on or before `until`, in date
    order, with only the columns a statement reads."""
    return list(db.session.scalars(
        select(Invoice).where(*_statement_documents(customer, event_ids),
                              Invoice.issue_date <= until)
        .options(load_only(Invoice.id, Invoice.number, Invoice.type, Invoice.status,
                           Invoice.currency, Invoice.issue_date, Invoice.due_date,
                           Invoice.gross_total, Invoice.amount_paid, Invoice.refers_id,
                           Invoice.is_cancellation, Invoice.customer_id,
                           Invoice.organizer_id, Invoice.event_id))
        .order_by(Invoice.issue_date, Invoice.id)))


def statement_payments(customer: Customer, *, until: dt.date,
                       event_ids: list[int] | None = None) -> list:
    """(payment, invoice id) of those documents' payments dated on or before `until`."""
    return list(db.session.execute(
        select(Payment.id, Payment.invoice_id, Payment.amount, Payment.date, Payment.method,
               Payment.reference)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(*_statement_documents(customer, event_ids), Payment.date <= until)
        .order_by(Payment.date, Payment.id)).all())


# ---------------------------------------------------------------- dashboard figures (issue 18)

_MILLI = Decimal("0.001")


def _exact_sum(expression):
    """SUM of a Money expression, exact on both databases: PostgreSQL adds NUMERICs; SQLite
    (amounts kept as text) adds whole thousandths as INTEGERs, never floats."""
    if db.engine.dialect.name == "sqlite":
        return func.sum(cast(func.round(cast(expression, Numeric) * 1000), db.Integer))
    return func.sum(cast(expression, Numeric(16, 3)))


def _summed(value) -> Decimal:
    if value is None:
        return Decimal(0)
    if db.engine.dialect.name == "sqlite":
        return (Decimal(int(value)) * _MILLI).quantize(_MILLI)
    return Decimal(value).quantize(_MILLI)


@dataclass
class EventFigures:
    """What the dashboard shows for one event in one currency."""

    currency: str
    open: Decimal = Decimal(0)
    open_count: int = 0
    overdue: Decimal = Decimal(0)
    overdue_count: int = 0
    paid_this_month: Decimal = Decimal(0)
    drafts: int = 0


def dashboard_figures(event_ids: list[int], *, today: dt.date | None = None,
                      ) -> dict[int, list[EventFigures]]:
    """Per event and currency: open and overdue balances (amount, count), payments received
    this month, drafts waiting. Three queries whatever the number of invoices, one per
    figure family, each grouped by (event, currency) in the database."""
    today = today or dt.date.today()
    if not event_ids:
        return {}
    result: dict[int, dict[str, EventFigures]] = {}

    def figures(event_id: int, currency: str) -> EventFigures:
        return result.setdefault(event_id, {}).setdefault(currency, EventFigures(currency))

    gross = cast(Invoice.gross_total, Numeric(16, 3))
    paid = cast(Invoice.amount_paid, Numeric(16, 3))
    balance = func.abs(gross) - paid
    late = Invoice.due_date.is_not(None) & (Invoice.due_date < today)
    rows = db.session.execute(
        select(Invoice.event_id, Invoice.currency, func.count(Invoice.id),
               _exact_sum(balance), func.sum(case((late, 1), else_=0)),
               _exact_sum(case((late, balance), else_=0)))
        .where(Invoice.event_id.in_(event_ids), Invoice.status.in_(OVERDUE_STATUSES),
               Invoice.type.in_(CLAIM_TYPES), paid < func.abs(gross))
        .group_by(Invoice.event_id, Invoice.currency)).all()
    for event_id, currency, count, open_sum, late_count, late_sum in rows:
        item = figures(event_id, currency)
        item.open_count, item.open = count, _summed(open_sum)
        item.overdue_count, item.overdue = int(late_count or 0), _summed(late_sum)

    month_start = today.replace(day=1)
    rows = db.session.execute(
        select(Invoice.event_id, Invoice.currency, _exact_sum(Payment.amount))
        .join(Invoice, Payment.invoice_id == Invoice.id)
        .where(Invoice.event_id.in_(event_ids), Invoice.type.in_(CLAIM_TYPES),
               Payment.date >= month_start, Payment.date <= today)
        .group_by(Invoice.event_id, Invoice.currency)).all()
    for event_id, currency, total in rows:
        figures(event_id, currency).paid_this_month = _summed(total)

    rows = db.session.execute(
        select(Invoice.event_id, Invoice.currency, func.count(Invoice.id))
        .where(Invoice.event_id.in_(event_ids), Invoice.status == InvoiceStatus.DRAFT.value)
        .group_by(Invoice.event_id, Invoice.currency)).all()
    for event_id, currency, count in rows:
        figures(event_id, currency).drafts = count
    return {event_id: sorted(by_currency.values(), key=lambda f: f.currency)
            for event_id, by_currency in result.items()}
