"""What goes into the API and what comes out of it, apart from the invoice itself.

In: the JSON envelope (content type, syntax, an object at the top), query parameters and the
small bodies of the lifecycle actions. Every problem is collected before one
`ValidationError(fields)` is raised, so a client sees all of them at once. NUL characters and
lone surrogates never get this far: `portal.input_guard` refuses them for every request (path,
query and body alike), before any view runs. The invoice, order
and customer bodies themselves are checked by the shared services (`clean_invoice_input`, …),
so the back office and the API accept exactly the same things; the field cleaners and the
problem collector are `services.input`'s. What stays here is API glue: reading the body,
the query strings, `fields=` projection and `no_query`.

JSON numbers are parsed as `Decimal`, never `float`: money may come as `"56.33"` or `56.33`
and stays exact either way.

Out: orders and customers as plain dicts (the invoice object is `representation.invoice_to_dict`),
the list envelope, and field projection.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from flask import Request

from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..errors import NotFoundError, ValidationError
from ..models import Order
from ..services.input import FieldErrors
from ..services.invoice_queries import API_ORDERINGS, Cursor, InvoiceFilter, Match
from ..services.representation import customer_to_dict, fixed  # noqa: F401 - the API's

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_ID = 2**31 - 1
MAX_PAGE = 10**7
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
CUSTOMER_LIMIT = 20
MAX_CUSTOMER_LIMIT = 100
MAX_FILTER_LENGTH = 64
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A keyset cursor: empty, or an id from 1 to MAX_ID (2147483647) without leading zeros, spelled
# as a pattern so the OpenAPI document states exactly what is accepted.
CURSOR_PATTERN = re.compile(
    "(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
    "|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
    "|21474836[0-3][0-9]|214748364[0-7])?")

# The top-level keys of the invoice object (SPEC §6), in its order: `fields` picks among them.
INVOICE_FIELDS = (
    "id", "number", "type", "status", "organizer", "event", "order", "customer", "refers",
    "is_cancellation", "issue_date", "due_date", "expires_at", "locale", "currency",
    "prices_include_tax", "rounding", "seller", "billing_address", "shipping_address", "lines",
    "discounts", "discounts_include_tax", "shipping_method", "payment_method", "totals", "taxes",
    "payments", "amount_paid", "balance", "shipping", "texts", "reference", "package_number",
    "channel", "delivery_date", "period", "buyer_reference", "payment_means",
    "preceding_invoice", "chain_hash", "xml", "pdf_sha256", "created_at", "closed_at",
    "updated_at",
)
ORDERINGS = API_ORDERINGS  # the subset of invoice_queries.ORDERINGS the API documents
INVOICE_FILTERS = ("type", "status", "is_cancellation", "order", "refers", "locale", "customer",
                   "number", "issued_after", "issued_before")
PAGING = ("page", "page_size")
CURSORS = tuple(cursor.value for cursor in Cursor)  # keyset paging: starting_after, ending_before


# The one collector of field problems (services.input), under the name this module has used.
_Problems = FieldErrors


# ---------------------------------------------------------------- bodies


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


def json_body(request: Request) -> dict:
    """The request's JSON object; an empty body counts as `{}`."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ValidationError({"body": [f"Send at most {MAX_BODY_BYTES} bytes."]})
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise ValidationError({"body": ["Send JSON with `Content-Type: application/json`."]})
    try:
        data = json.loads(raw.decode("utf-8"), parse_float=Decimal,
                          parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = exc.args[0] if isinstance(exc, ValueError) and exc.args else "bad encoding"
        raise ValidationError({"body": [f"Not valid JSON: {message}"]}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": ["Send a JSON object."]})
    return data


def action_body(request: Request, *, allowed: tuple[str, ...] = (),
                flags: tuple[str, ...] = ()) -> dict:
    """The body of a lifecycle action: an object with at most the `allowed` string fields
    and the `flags` (booleans)."""
    data = json_body(request)
    problems = _Problems()
    for key, value in data.items():
        if key in flags:
            if value is not None and not isinstance(value, bool):
                problems.add(key, "Enter true or false.")
        elif key not in allowed:
            problems.add(key, "Unknown field.")
        elif value is not None and not isinstance(value, str):
            problems.add(key, "Enter text.")
    problems.raise_if_any()
    return {key: value for key, value in data.items() if value is not None}


def object_id(raw: str) -> int:
    """A path id: anything but a positive integer in range names nothing, hence 404."""
    if not raw.isdigit() or not raw.isascii() or len(raw) > 10 or not 0 < int(raw) <= MAX_ID:
        raise NotFoundError()
    return int(raw)


# ---------------------------------------------------------------- query parameters


def _integer(problems, name, raw, *, minimum, maximum, default):
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        problems.add(name, "Enter a whole number.")
        return default
    value = int(text)
    if not minimum <= value <= maximum:
        problems.add(name, f"Must be between {minimum} and {maximum}.")
        return default
    return value


def _comma_list(raw: str, choices) -> tuple[list[str], list[str]]:
    """A comma list exactly as the OpenAPI document's pattern has it: names joined by commas,
    no spaces, no empty items. Returns (names, the items that are not among `choices`)."""
    parts = raw.split(",")
    return parts, [part for part in parts if part not in choices]


def _choices(problems, name, raw, choices):
    if raw is None:
        return None
    values, bad = _comma_list(raw, choices)
    if bad:
        problems.add(name, "Choose among: " + ", ".join(choices) + " (a comma list, no spaces).")
        return None
    return values


def _text(problems, name, raw):
    # A text filter left empty filters nothing (the document says so); every typed parameter
    # below (date, boolean, number, choice, field list) must hold a valid value, "" included.
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_FILTER_LENGTH:
        problems.add(name, f"Use at most {MAX_FILTER_LENGTH} characters.")
        return None
    return raw


def _date(problems, name, raw):
    if raw is None:
        return None
    try:
        if not ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.add(name, "Enter a date as YYYY-MM-DD.")
        return None


def _boolean(problems, name, raw):
    if raw is None:
        return None
    if raw in ("true", "false"):  # the document's boolean, spelled as JSON spells it
        return raw == "true"
    problems.add(name, "Enter true or false.")
    return None


def _fields(problems, raw):
    if raw is None:
        return None
    names, unknown = _comma_list(raw, INVOICE_FIELDS)
    if raw == "":
        problems.add("fields", "Name at least one field.")
        return None
    if unknown:
        problems.add("fields", "Name invoice fields, comma-separated without spaces; unknown: "
                     + ", ".join(repr(n) for n in unknown) + ".")
        return None
    return frozenset(names)


def _single_values(problems, args, allowed) -> dict:
    values = {}
    for name in args:
        if name not in allowed:
            problems.add(name, "Unknown query parameter.")
        elif len(args.getlist(name)) > 1:
            problems.add(name, "Give this parameter once.")
        else:
            values[name] = args.get(name)
    return values


def _paging(problems, raw: dict) -> tuple[int, int]:
    page = _integer(problems, "page", raw.get("page"), minimum=1, maximum=MAX_PAGE, default=1)
    size = _integer(problems, "page_size", raw.get("page_size"), minimum=1,
                    maximum=MAX_PAGE_SIZE, default=PAGE_SIZE)
    return page, size


def invoice_list_query(args, *, organizer_wide: bool = False) -> dict:
    """page, page_size, the SPEC §6 filters, ordering and fields of an invoice list."""
    problems = _Problems()
    allowed = (*PAGING, *CURSORS, *INVOICE_FILTERS, "ordering", "fields",
               *(("event",) if organizer_wide else ()))
    raw = _single_values(problems, args, allowed)
    page, page_size = _paging(problems, raw)
    cursor, cursor_id = _cursor(problems, raw)
    filters = {
        "type": _choices(problems, "type", raw.get("type"), [t.value for t in InvoiceType]),
        "status": _choices(problems, "status", raw.get("status"),
                           [s.value for s in InvoiceStatus]),
        "is_cancellation": _boolean(problems, "is_cancellation", raw.get("is_cancellation")),
        "issued_after": _date(problems, "issued_after", raw.get("issued_after")),
        "issued_before": _date(problems, "issued_before", raw.get("issued_before")),
    }
    for name in ("order", "refers", "locale", "customer", "number", "event"):
        filters[name] = _text(problems, name, raw.get(name))
    ordering = raw.get("ordering") or "id"
    if raw.get("ordering") is not None and raw["ordering"] not in ORDERINGS:
        problems.add("ordering", "Choose among: " + ", ".join(ORDERINGS) + ".")
    fields = _fields(problems, raw.get("fields"))
    problems.raise_if_any()
    return {"page": page, "page_size": page_size, "ordering": ordering,
            "filters": InvoiceFilter(**filters, match=Match.EXACT),
            "fields": fields, "cursor": cursor, "cursor_id": cursor_id}


def _cursor(problems, raw: dict) -> tuple[Cursor | None, int | None]:
    """Keyset paging (issue 16): `starting_after` or `ending_before`, an invoice id of the
    same list, or empty for the start (`starting_after=`) or the end (`ending_before=`) of
    the list. Never both, never with `page`."""
    given = [cursor for cursor in Cursor if raw.get(cursor.value) is not None]
    if not given:
        return None, None
    if len(given) > 1:
        for cursor in given:
            problems.add(cursor.value, "Give either starting_after or ending_before, not both.")
        return None, None
    cursor = given[0]
    if raw.get("page") is not None:
        problems.add("page", f"page does not go with {cursor.value}: follow `next` and "
                     "`previous` instead.")
    text = raw[cursor.value]
    if not CURSOR_PATTERN.fullmatch(text):
        problems.add(cursor.value, f"Enter an invoice id (1 to {MAX_ID}), or nothing.")
        return None, None
    return cursor, int(text) if text else None


def simple_list_query(args, *, filters: tuple[str, ...]) -> dict:
    """page, page_size and exact-match text filters (orders, customers)."""
    problems = _Problems()
    raw = _single_values(problems, args, (*PAGING, *filters))
    page, page_size = _paging(problems, raw)
    values = {name: _text(problems, name, raw.get(name)) for name in filters}
    problems.raise_if_any()
    return {"page": page, "page_size": page_size, "filters": values}


def customer_list_query(args) -> dict:
    """The Open2b conditions of the customer API: ids, type, after, fields, limit, first."""
    problems = _Problems()
    raw = _single_values(problems, args, ("ids", "type", "after", "fields", "limit", "first"))
    ids = None
    if raw.get("ids") is not None:
        parts = [part.strip() for part in raw["ids"].split(",") if part.strip()]
        if not parts or len(parts) > MAX_CUSTOMER_LIMIT or not all(
                p.isascii() and p.isdigit() and len(p) <= 10 and 0 < int(p) <= MAX_ID
                for p in parts):
            problems.add("ids", f"Give 1 to {MAX_CUSTOMER_LIMIT} invoice ids, comma-separated.")
        else:
            ids = sorted({int(p) for p in parts})
    kind = raw.get("type")
    if kind is not None and kind not in {t.value for t in InvoiceType}:
        problems.add("type", "Choose one of: " + ", ".join(t.value for t in InvoiceType) + ".")
    query = {
        "ids": ids,
        "type": kind,
        "after": _integer(problems, "after", raw.get("after"), minimum=0, maximum=MAX_ID,
                          default=None),
        "limit": _integer(problems, "limit", raw.get("limit"), minimum=1,
                          maximum=MAX_CUSTOMER_LIMIT, default=CUSTOMER_LIMIT),
        "first": _integer(problems, "first", raw.get("first"), minimum=0, maximum=MAX_PAGE,
                          default=0),
        "fields": _fields(problems, raw.get("fields")),
    }
    problems.raise_if_any()
    return query


def statement_query(args) -> dict:
    """`from` and `to` of a statement, each a date (YYYY-MM-DD) when given."""
    problems = _Problems()
    raw = _single_values(problems, args, ("from", "to"))
    values = {"start": _date(problems, "from", raw.get("from")),
              "end": _date(problems, "to", raw.get("to"))}
    problems.raise_if_any()
    return values


def no_query(args) -> None:
    """Detail and action endpoints take no query parameters but `fields` where stated."""
    problems = _Problems()
    _single_values(problems, args, ())
    problems.raise_if_any()


def xml_query(args) -> str:
    """`?syntax=cii|ubl` of the e-invoice download (SPEC §11); cii when not given."""
    problems = _Problems()
    raw = _single_values(problems, args, ("syntax",))
    syntax = raw.get("syntax") or "cii"
    if syntax not in ("cii", "ubl"):
        problems.add("syntax", "Choose cii or ubl.")
    problems.raise_if_any()
    return syntax


def detail_query(args) -> frozenset | None:
    problems = _Problems()
    raw = _single_values(problems, args, ("fields",))
    fields = _fields(problems, raw.get("fields"))
    problems.raise_if_any()
    return fields


# ---------------------------------------------------------------- out


def project(invoice: dict, fields: frozenset | None) -> dict:
    if fields is None:
        return invoice
    return {key: value for key, value in invoice.items() if key in fields}


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def order_to_dict(order: Order) -> dict:
    return {
        "id": order.id,
        "code": order.code,
        "customer": order.customer.reference,
        "placed_at": _iso(order.placed_at),
        "created_at": _iso(order.created_at),
        "lines": [
            {"position": line.position, "sku": line.sku, "name": line.name,
             "quantity": fixed(line.quantity, 2), "unit_price": fixed(line.unit_price, 3),
             "tax_rate": fixed(line.tax_rate, 2), "tax_code": line.tax_code}
            for line in order.lines
        ],
    }
