"""The frozen read model (issue 16): a closed invoice is read from what close stored.

A closed invoice never changes its content again (SPEC §4: frozen documents), so its API
representation is built once, in the close's own transaction (`freeze`), and kept as JSON
text in `invoices.frozen`. What may still change after close — status, payments and balance,
the document hashes, `updated_at`, and the slugs and customer reference that live on other
rows — is `representation.LIVE_KEYS`, read from columns on every read by the same
`representation.live_values` the slow path uses. So a list page is one query for its rows
(plus one for its payments, only when a row on it has any) and no ORM objects: the stored
text is a template that the live values fill in one step, never parsed unless `fields=`
asks for a projection (then orjson parses the filled text).
The count comes from the kept tallies (services/tallies.py) where they apply.

Drafts, invoices closed before the read model existed, and invoices frozen by an older
`FROZEN_VERSION` are read the slow way (`representation.invoice_to_dict` over the loaded
objects), in one batch per page; `flask --app portal rebuild-representations` renews the
stored ones (`rebuild_batch`). Bump FROZEN_VERSION whenever `representation.frozen_part`
changes what it answers, so that stored representations never answer an older shape.

`FROZEN_READS = False` in the config reads everything the slow way: the property test
(tests/api/test_frozen_reads.py) compares both answers field by field.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Customer, Event, Invoice, Organizer, Payment
from . import invoice_queries
from .invoice_queries import (
    INVOICE_LOAD,
    InvoiceFilter,
    Page,
    visible_to,
)
from .representation import LIVE_KEYS, frozen_part, invoice_to_dict, live_values

FROZEN_VERSION = 2  # 2: the stored text is a %-format template (1: NUL placeholders)

# Aliases, so that the filters' correlated subqueries over `customers` and `events` stay
# correlated to the invoice only, never to these joins.
_organizer = aliased(Organizer, name="frozen_organizer")
_event = aliased(Event, name="frozen_event")
_customer = aliased(Customer, name="frozen_customer")

# What one row of the frozen read path carries: the stored text and every live value.
READ_COLUMNS = (
    Invoice.id, Invoice.status, Invoice.currency, Invoice.gross_total, Invoice.amount_paid,
    Invoice.chain_hash, Invoice.cii_sha256, Invoice.ubl_sha256, Invoice.pdf_sha256,
    Invoice.updated_at, Invoice.frozen, Invoice.frozen_version,
    _organizer.slug.label("organizer_slug"), _event.slug.label("event_slug"),
    _customer.reference.label("customer_reference"),
)
PAYMENT_COLUMNS = (Payment.invoice_id, Payment.id, Payment.amount, Payment.date,
                   Payment.method, Payment.reference, Payment.actor_type, Payment.created_at)


# ---------------------------------------------------------------- writing


# The stored text is a %-format template of the invoice object's JSON: each live value's
# place holds `%s`, in LIVE_KEYS order, and every `%` of the text itself is doubled. Filling
# it is one C-level `template % values`, never a parse. To find the places, the object is
# first written with the string NUL + key in each, which orjson writes as `"\u0000<key>"`: no
# other text can hold that (a NUL never gets in, portal/input_guard refuses it, and a quote
# or backslash inside a string is written escaped).
_MARK = "\x00"


def _frozen_text(invoice: Invoice) -> str | None:
    body = frozen_part(invoice)
    for key in LIVE_KEYS:
        body[key] = _MARK + key
    try:
        text = orjson.dumps(body).decode().replace("%", "%%")
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits in a free-form address
        return None  # read the slow way, always
    slots = [f'"\\u0000{key}"' for key in LIVE_KEYS]
    places = [text.find(slot) for slot in slots]
    if -1 in places or places != sorted(places):
        return None  # cannot happen with frozen_part's key order; read the slow way if so
    for slot in slots:
        text = text.replace(slot, "%s", 1)
    return text


def freeze(invoice: Invoice) -> None:
    """Store the invoice's frozen part; called by close (and cancel, for its credit note) in
    their transaction, after the number, the XML hashes and the ledger link are set."""
    text = _frozen_text(invoice)
    invoice.frozen, invoice.frozen_version = text, FROZEN_VERSION if text else None


def rebuild_batch(after_id: int = 0, *, batch: int = 200, everything: bool = False,
                  ) -> tuple[int, int | None]:
    """Freeze the next `batch` closed invoices after `after_id` whose stored representation
    is missing or older than FROZEN_VERSION (every closed one with `everything`). Answers
    how many were written and the last id looked at (None: nothing left); the caller
    commits each batch. `updated_at` is kept: nothing about the invoice changed."""
    query = select(Invoice).where(Invoice.status != "draft", Invoice.id > after_id)
    if not everything:
        query = query.where(Invoice.frozen_version.is_(None)
                            | (Invoice.frozen_version != FROZEN_VERSION))
    invoices = list(db.session.scalars(query.options(*INVOICE_LOAD)
                                       .order_by(Invoice.id).limit(batch)).unique())
    texts = [{"row_id": invoice.id, "text": text} for invoice in invoices
             if (text := _frozen_text(invoice)) is not None]
    if texts:  # one executemany on the table, past the ORM (no session synchronizing)
        table = Invoice.__table__
        db.session.execute(
            table.update().where(table.c.id == bindparam("row_id")).values(
                frozen=bindparam("text"), frozen_version=FROZEN_VERSION,
                updated_at=table.c.updated_at), texts)
    return len(texts), (invoices[-1].id if invoices else None)


# ---------------------------------------------------------------- reading


def _enabled() -> bool:
    return current_app.config.get("FROZEN_READS", True)


def rows_of(statement: Select) -> Select:
    """`statement` (a SELECT of invoices: a scope and its filters) as the read path's rows."""
    return (statement.with_only_columns(*READ_COLUMNS)
            .join(_organizer, _organizer.id == Invoice.organizer_id)
            .join(_event, _event.id == Invoice.event_id)
            .outerjoin(_customer, _customer.id == Invoice.customer_id))


@dataclass
class _Read:
    """One batch of rows, prepared: which are read frozen, the others' objects as dicts, and
    the payments of the frozen ones."""

    rows: list
    fresh: set[int]
    slow: dict[int, dict]
    payments: dict[int, list]

    def live(self, row) -> dict:
        return live_values(row, self.payments.get(row.id, ()), organizer=row.organizer_slug,
                           event=row.event_slug, customer=row.customer_reference)


def _read(rows) -> _Read:
    enabled = _enabled()
    fresh = {row.id for row in rows if enabled and row.frozen_version == FROZEN_VERSION
             and row.frozen is not None and row.status != "draft"}
    slow_ids = [row.id for row in rows if row.id not in fresh]
    slow = {}
    if slow_ids:
        slow = {invoice.id: invoice_to_dict(invoice) for invoice in db.session.scalars(
            select(Invoice).where(Invoice.id.in_(slow_ids)).options(*INVOICE_LOAD)).unique()}
    payments: dict[int, list] = {}
    paid_ids = [row.id for row in rows if row.id in fresh and row.amount_paid]
    if paid_ids:
        for payment in db.session.execute(
                select(*PAYMENT_COLUMNS).where(Payment.invoice_id.in_(paid_ids))
                .order_by(Payment.invoice_id, Payment.id)):
            payments.setdefault(payment.invoice_id, []).append(payment)
    return _Read(rows=rows, fresh=fresh, slow=slow, payments=payments)


def _filled(row, read: _Read) -> str:
    """A frozen row's invoice object as JSON text: its stored template, filled."""
    live = read.live(row)
    return row.frozen % tuple(orjson.dumps(live[key]).decode() for key in LIVE_KEYS)


def representations(rows) -> list[dict]:
    """The invoice object of each row, in the rows' order: frozen rows from their stored text
    and live columns; the others (drafts, older or missing versions) from their objects,
    loaded in one batch."""
    read = _read(rows)
    return [orjson.loads(_filled(row, read)) if row.id in read.fresh else read.slow[row.id]
            for row in rows]


def representation_texts(rows) -> list[str]:
    """`representations` as JSON text, the stored templates filled without parsing them (the
    answer when nothing is projected)."""
    read = _read(rows)
    return [_filled(row, read) if row.id in read.fresh else
            orjson.dumps(read.slow[row.id]).decode() for row in rows]


def page_text(envelope: dict, texts: list[str], *, key: str = "results") -> bytes:
    """A list answer's body: the `envelope` (its keys in order) with `key` being the list of
    the invoice objects' texts, as written by `representation_texts`."""
    body = orjson.dumps({**envelope, key: _MARK + "list"})
    return body.replace(b'"\\u0000list"', b"[" + ",".join(texts).encode() + b"]", 1)


def _items(rows, as_text: bool) -> list:
    return representation_texts(rows) if as_text else representations(rows)


def invoice_page(scope: Select, filters: InvoiceFilter, *, as_text: bool = False,
                 **paging) -> Page:
    """`invoice_queries.invoice_page` with invoice objects as its items: dicts, or JSON
    texts with `as_text` (for `page_text`)."""
    found = invoice_queries.invoice_page(scope, filters, rows=rows_of, **paging)
    found.items = _items(found.items, as_text)
    return found


def invoice_keyset_page(scope: Select, filters: InvoiceFilter, *, as_text: bool = False,
                        **paging) -> invoice_queries.KeysetPage:
    """`invoice_queries.invoice_keyset_page` with invoice objects as its items."""
    found = invoice_queries.invoice_keyset_page(scope, filters, rows=rows_of, **paging)
    found.items = _items(found.items, as_text)
    return found


def one_invoice(scope: Select, filters: InvoiceFilter, *, as_text: bool = False):
    """The invoice object (a dict, or JSON text with `as_text`) of the one invoice in
    `scope` matching `filters`, or 404."""
    row = invoice_queries.one_invoice(scope, filters, rows=rows_of)
    return _items([row], as_text)[0]


def customer_slice(customer: Customer, *, as_text: bool = False, **conditions) -> Page:
    """`invoice_queries.customer_invoice_slice` with invoice objects as its items."""
    found = invoice_queries.customer_invoice_slice(customer, rows=rows_of, **conditions)
    found.items = _items(found.items, as_text)
    return found


def customer_invoice(customer: Customer, invoice_id: int, *, as_text: bool = False):
    """The invoice object of one of the customer's own closed invoices, or 404 (drafts and
    everyone else's alike, as `permissions.invoice_of_customer`)."""
    return one_invoice(select(Invoice).where(*visible_to(customer)),
                       InvoiceFilter(ids=(invoice_id,)), as_text=as_text)
