"""The ledger an auditor can check (SPEC §9): a hash chain over every closed document.

Each closed document of a number sequence (invoices and credit notes share one; proformas and
shipping invoices have their own) gets `chain_hash` = SHA-256 over, canonically encoded: the
previous document's chain hash (64 zeros for the first), its number, type, issue date,
currency, gross total, the SHA-256 of its frozen content and the SHA-256s of its e-invoice
XMLs (CII, UBL; null without e-invoicing). It is set inside the closing
transaction (`link`, called by `close_invoice` and by `cancel_invoice` for the credit note it
issues), right after the number is taken, so the sequence's row lock that serializes numbering
also serializes the chain.

What the chain covers, and why not the PDF's hash: the document of record is rendered after
commit by a job (`portal.render_document`), so when the chain link is made the PDF does not
exist yet. The link therefore covers the *frozen content* the PDF is made from: every
figure, party, line, tax row, date and text that close froze (`content_digest`, read from the
stored columns, never from the API representation, which may gain fields). The e-invoice XMLs
are built deterministically at close and their SHA-256s kept before the link is made, so the
link covers those hashes. The stored bytes are checked on their own: the PDF must hash to
`invoice_documents.sha256` and to `invoices.pdf_sha256`, each XML to `cii_sha256` /
`ubl_sha256`. An altered figure breaks the chain; altered PDF bytes are an
"altered document"; a changed number, a changed hash, a removed or an extra document show as
broken links, gaps or duplicates.

`verify` walks every sequence of an event (or of all events) and returns the report the CLI
(`flask --app portal verify-ledger`), the API (`GET …/events/{event}/ledger/`) and the back
office show. It reads only; a finding is never repaired here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..domain.lifecycle import InvoiceType
from ..extensions import db
from ..models import Event, Invoice, InvoiceDocument, NumberSequence
from .numbering import PAD, SEQUENCE_OF

GENESIS = "0" * 64
SEQUENCES = ("invoice", "proforma", "shipping_invoice")
TYPES_OF = {name: sorted(t.value for t, s in SEQUENCE_OF.items() if s == name)
            for name in SEQUENCES}

_HEADER = ("number", "type", "is_cancellation", "issue_date", "due_date", "delivery_date",
           "period_start", "period_end", "currency", "prices_include_tax", "rounding_mode",
           "rounding_rule", "discounts_include_tax", "seller", "billing_address",
           "shipping_address", "buyer_reference", "payment_means", "order_code",
           "reference_type", "reference_number", "shipping_method_name", "shipping_cost",
           "shipping_tax_rate", "shipping_tax_code", "shipping_tax_category",
           "payment_method_name", "payment_fee", "payment_tax_rate", "payment_tax_code",
           "payment_tax_category", "prediscount_net", "prediscount_gross", "discount_total",
           "subtotal_net", "subtotal_gross", "net_total", "tax_total", "gross_total",
           "introductory_text", "additional_text", "payment_text", "footer_text", "terms_text")
_LINE = ("position", "sku", "description", "quantity", "unit", "unit_price", "tax_code",
         "tax_rate", "tax_category", "exemption_reason", "exemption_code", "discount_rate",
         "discount_amount", "net_amount", "tax_amount", "gross_amount")
_DISCOUNT = ("position", "type", "value", "amount")
_TAX = ("position", "category", "code", "rate", "taxable", "amount", "exemption_reason")


def _plain(value):
    """A canonical JSON value: decimals without trailing zeros (a value reads back from the
    database with the column's scale), dates as ISO text."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _plain(Decimal(str(value)))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _sha(data) -> str:
    encoded = json.dumps(_plain(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def content_digest(invoice: Invoice) -> str:
    """SHA-256 of what close froze (see the module docstring)."""
    return _sha({
        **{key: getattr(invoice, key) for key in _HEADER},
        "refers": invoice.refers.number if invoice.refers is not None else None,
        "lines": [{k: getattr(line, k) for k in _LINE} for line in invoice.lines],
        "discounts": [{k: getattr(d, k) for k in _DISCOUNT} for d in invoice.discounts],
        "taxes": [{k: getattr(t, k) for k in _TAX} for t in invoice.taxes],
    })


def link_hash(previous: str | None, invoice: Invoice) -> str:
    return _sha({"previous": previous or GENESIS, "number": invoice.number,
                 "type": invoice.type, "issue_date": invoice.issue_date,
                 "currency": invoice.currency, "gross": invoice.gross_total,
                 "content": content_digest(invoice),
                 "xml": [invoice.cii_sha256, invoice.ubl_sha256]})


def _previous(invoice: Invoice) -> Invoice | None:
    sequence = SEQUENCE_OF[InvoiceType(invoice.type)]
    return db.session.scalar(select(Invoice).where(
        Invoice.event_id == invoice.event_id, Invoice.type.in_(TYPES_OF[sequence]),
        Invoice.sequence_value == invoice.sequence_value - 1, Invoice.number.is_not(None)))


def link(invoice: Invoice) -> str:
    """Set the chain hash of a document being closed (numbered, figures final)."""
    db.session.flush()
    previous = _previous(invoice) if invoice.sequence_value and invoice.sequence_value > 1 \
        else None
    invoice.chain_hash = link_hash(previous.chain_hash if previous is not None else None,
                                   invoice)
    return invoice.chain_hash


# ---------------------------------------------------------------- verification


def _finding(kind: str, sequence: str, message: str, invoice: Invoice | None = None,
             number: str | None = None) -> dict:
    return {"kind": kind, "sequence": sequence,
            "number": number if number is not None else (invoice.number if invoice else None),
            "invoice": invoice.id if invoice is not None else None, "message": message}


def _check_sequence(event: Event, sequence: str, last_value: int) -> tuple[dict, list[dict]]:
    docs = db.session.scalars(
        select(Invoice).where(Invoice.event_id == event.id,
                              Invoice.type.in_(TYPES_OF[sequence]),
                              Invoice.number.is_not(None))
        .order_by(Invoice.sequence_value, Invoice.id)
        .options(selectinload(Invoice.lines), selectinload(Invoice.discounts),
                 selectinload(Invoice.taxes), selectinload(Invoice.refers))).all()
    findings: list[dict] = []
    seen: dict[int, Invoice] = {}
    for doc in docs:
        value = doc.sequence_value
        if value in seen:
            findings.append(_finding("duplicate", sequence, f"{doc.number} has sequence value "
                                     f"{value}, as {seen[value].number} has.", doc))
        else:
            seen[value] = doc
        if value is None or not doc.number.endswith(f"{value:0{PAD}d}"):
            findings.append(_finding("number_mismatch", sequence,
                                     f"{doc.number} does not carry its sequence value "
                                     f"{value}.", doc))
    top = max([last_value, *[v for v in seen if v is not None]], default=0)
    for value in range(1, top + 1):
        if value not in seen:
            findings.append(_finding("gap", sequence, f"No document holds number {value} of "
                                     "this sequence.", number=str(value)))
    if top > last_value:
        findings.append(_finding("gap", sequence, f"Documents go up to {top}, but the counter "
                                 f"stands at {last_value}."))
    previous: str | None = None
    for doc in docs:
        if doc.chain_hash is None:
            findings.append(_finding("unchained", sequence, f"{doc.number} has no chain hash "
                                     "(closed before the ledger existed?).", doc))
        elif link_hash(previous, doc) != doc.chain_hash:
            findings.append(_finding("broken_link", sequence,
                                     f"The chain hash of {doc.number} does not match its "
                                     "content and the previous hash: the document, its number "
                                     "or a hash was changed after close.", doc))
        previous = doc.chain_hash
    findings.extend(_check_documents(sequence, docs))
    head = docs[-1] if docs else None
    summary = {"name": sequence, "documents": len(docs), "counter": last_value,
               "last_number": head.number if head else None,
               "head": head.chain_hash if head else None}
    return summary, findings


def _check_documents(sequence: str, docs: list[Invoice]) -> list[dict]:
    """The stored PDFs against their recorded SHA-256 (bytes read one at a time)."""
    findings = []
    by_id = {doc.id: doc for doc in docs}
    if not by_id:
        return findings
    stored = dict(db.session.execute(
        select(InvoiceDocument.invoice_id, InvoiceDocument.sha256)
        .where(InvoiceDocument.invoice_id.in_(by_id))).all())
    for invoice_id, doc in by_id.items():
        if invoice_id not in stored:
            if doc.pdf_sha256:
                findings.append(_finding("missing_document", sequence,
                                         f"The PDF of {doc.number} is gone.", doc))
            continue
        content, cii, ubl = db.session.execute(
            select(InvoiceDocument.content, InvoiceDocument.cii, InvoiceDocument.ubl)
            .where(InvoiceDocument.invoice_id == invoice_id)).one()
        actual = hashlib.sha256(content or b"").hexdigest()
        if actual != stored[invoice_id] or actual != doc.pdf_sha256:
            findings.append(_finding("altered_document", sequence,
                                     f"The stored PDF of {doc.number} does not match its "
                                     "recorded SHA-256.", doc))
        for name, data, recorded in (("CII", cii, doc.cii_sha256), ("UBL", ubl, doc.ubl_sha256)):
            if recorded is not None and (data is None
                                         or hashlib.sha256(data).hexdigest() != recorded):
                findings.append(_finding("altered_document", sequence,
                                         f"The stored {name} of {doc.number} does not match "
                                         "its recorded SHA-256.", doc))
    return findings


def verify_event(event: Event) -> dict:
    counters = dict(db.session.execute(
        select(NumberSequence.name, NumberSequence.last_value)
        .where(NumberSequence.event_id == event.id)).all())
    sequences, findings = [], []
    for name in SEQUENCES:
        summary, found = _check_sequence(event, name, counters.get(name, 0))
        sequences.append(summary)
        findings.extend(found)
    return {"organizer": event.organizer.slug, "event": event.slug, "ok": not findings,
            "checked_at": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "documents": sum(s["documents"] for s in sequences),
            "sequences": sequences, "findings": findings}


def verify(events: list[Event] | None = None) -> list[dict]:
    """One report per event (every event when none are given)."""
    if events is None:
        events = list(db.session.scalars(select(Event).order_by(Event.id)))
    return [verify_event(event) for event in events]
