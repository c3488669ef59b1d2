"""Gapless invoice numbers.

Each (event, sequence) has one counter row. Closing increments it with a single
`UPDATE … RETURNING` inside the closing transaction: on PostgreSQL the row lock is held until
commit, so concurrent closers queue; on SQLite the writing transaction already holds the
database's write lock (BEGIN IMMEDIATE, see db_setup). A close that fails rolls the increment
back with everything else, so no number is ever consumed without an invoice to show for it.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from ..domain.lifecycle import InvoiceType
from ..extensions import db
from ..models import NumberSequence

SEQUENCE_OF = {
    InvoiceType.INVOICE: "invoice",
    InvoiceType.CREDIT_NOTE: "invoice",
    InvoiceType.PROFORMA: "proforma",
    InvoiceType.SHIPPING_INVOICE: "shipping_invoice",
}
PAD = 5


def prefix_for(event, sequence: str) -> str:
    return {
        "invoice": event.invoice_prefix,
        "proforma": event.proforma_prefix,
        "shipping_invoice": event.shipping_prefix,
    }[sequence] or ""


def format_number(prefix: str, value: int) -> str:
    return f"{prefix}{value:0{PAD}d}"


def ensure_sequences(event_id: int) -> None:
    """Create the counter rows of an event if missing (safe under concurrency)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for name in ("invoice", "proforma", "shipping_invoice"):
        stmt = insert(NumberSequence).values(event_id=event_id, name=name, last_value=0)
        db.session.execute(stmt.on_conflict_do_nothing(index_elements=["event_id", "name"]))


def take_next_number(event, invoice_type: str) -> tuple[int, str]:
    """Consume the next number of the invoice type's sequence; part of the caller's transaction."""
    sequence = SEQUENCE_OF[InvoiceType(invoice_type)]
    stmt = (
        update(NumberSequence)
        .where(NumberSequence.event_id == event.id, NumberSequence.name == sequence)
        .values(last_value=NumberSequence.last_value + 1)
        .returning(NumberSequence.last_value)
    )
    value = db.session.execute(stmt).scalar_one_or_none()
    if value is None:
        ensure_sequences(event.id)
        value = db.session.execute(stmt).scalar_one()
    return value, format_number(prefix_for(event, sequence), value)


def check_prefixes(invoice_prefix: str, proforma_prefix: str, shipping_prefix: str) -> dict:
    """Field errors for prefixes that could make two sequences print the same number.

    A number is prefix + digits, so `A` + n and `B` + m can only coincide when one prefix is
    the other followed by digits alone (or they are equal): `SC-` and `SC-PF-` are fine,
    `SC-` and `SC-1` are not (SC-100001 could be either).
    """
    prefixes = {"invoice_prefix": invoice_prefix or "", "proforma_prefix": proforma_prefix or "",
                "shipping_prefix": shipping_prefix or ""}
    errors: dict[str, list[str]] = {}
    names = list(prefixes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            short, long_ = sorted((prefixes[a], prefixes[b]), key=len)
            rest = long_[len(short):]
            if long_.startswith(short) and (rest == "" or rest.isdigit()):
                errors.setdefault(b, []).append(
                    "Each number sequence needs its own prefix; this one could print the "
                    "same number as another sequence.")
    return errors
