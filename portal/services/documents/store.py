"""Step 3: the document of record stored and hashed, once; and the ways to get at it.

A document of record never changes: store_pdf locks the invoice row and keeps a document that
is there already. A draft is never stored; its PDF is a preview made on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Collection

from sqlalchemy import exists, or_, select

from ...domain.lifecycle import InvoiceStatus
from ...errors import ConflictError
from ...extensions import db
from ...models import Invoice, InvoiceDocument
from .. import webhook_events
from .context import build_pdf_context
from .einvoices import enabled as einvoice_enabled
from .einvoices import render as render_einvoice
from .render import count_pages, make_pdf, render_invoice_pdf

PENDING_RETRY_AFTER = 3  # seconds; a typical invoice renders well under one


class DocumentPendingError(ConflictError):
    """A closed invoice's PDF is not stored yet; ask again after `retry_after` seconds."""

    code = "document_pending"
    message = "The PDF of this invoice is being prepared. Please try again in a moment."

    def __init__(self, message: str | None = None, *, retry_after: int = PENDING_RETRY_AFTER):
        super().__init__(message, code=self.code, retry_after=retry_after)


def pdf_filename(invoice: Invoice) -> str:
    """`<number>.pdf`, or `draft-<id>.pdf` for a draft; safe in a Content-Disposition."""
    stem = invoice.number if invoice.number else f"draft-{invoice.id}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-") + ".pdf"


def stored_document(invoice: Invoice) -> InvoiceDocument | None:
    """The document of record, or None while it is not made yet (always None for a draft)."""
    if invoice.id is None or invoice.is_draft:
        return None
    return db.session.get(InvoiceDocument, invoice.id)


def document_context(invoice: Invoice) -> dict:
    """The PDF context of a closed invoice plus its e-invoice XMLs (`"einvoice"`: (CII, UBL)
    or None), which post-processing embeds and `store_pdf` keeps beside the PDF."""
    context = build_pdf_context(invoice)
    context["einvoice"] = render_einvoice(invoice) if einvoice_enabled(invoice) else None
    return context


def store_pdf(invoice_id: int, pdf: bytes,
              xmls: tuple[bytes, bytes] | None = None) -> InvoiceDocument | None:
    """Keep `pdf` (and the e-invoice `xmls`, (CII, UBL)) as the invoice's document of record,
    unless it has one already.

    The invoice row is locked first, so of two jobs racing for one invoice the first to store
    wins and the second gets the stored document back: a document of record never changes.
    """
    from ..invoices import lock_invoice

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft:
        return None
    lock_invoice(invoice)
    existing = stored_document(invoice)
    if existing is not None:
        return existing
    digest = hashlib.sha256(pdf).hexdigest()
    cii, ubl = xmls or (None, None)
    document = InvoiceDocument(invoice_id=invoice.id, content=pdf, sha256=digest,
                               size=len(pdf), pages=count_pages(pdf), cii=cii, ubl=ubl)
    db.session.add(document)
    invoice.pdf_sha256 = digest
    if cii is not None:
        hashes = hashlib.sha256(cii).hexdigest(), hashlib.sha256(ubl).hexdigest()
        if invoice.cii_sha256 is not None and (invoice.cii_sha256, invoice.ubl_sha256) != hashes:
            # close hashed the XMLs; bytes that differ must never become the record
            raise RuntimeError(f"invoice {invoice.id}: the e-invoice XML differs from the one "
                               "hashed at close")
        invoice.cii_sha256, invoice.ubl_sha256 = hashes
    db.session.flush()
    # Not an audit action (the trail tells of people's steps); the webhook says it is there.
    webhook_events.emit_for_invoice("invoice.document_ready", invoice)
    return document


def store_document_of_record(invoice_id: int) -> InvoiceDocument | None:
    """The job run after close: render -> post-process -> store + hash. Safe to run twice.

    Rendering needs no lock: on PostgreSQL the invoice row is locked only for the store step.
    (On SQLite a job's transaction holds the database write lock from its first read, so
    other writers wait for the rendering — fine for the embedded single-server default.)
    """
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft:
        return None
    existing = stored_document(invoice)
    if existing is not None:
        return existing
    context = document_context(invoice)
    return store_pdf(invoice_id, make_pdf(context), context["einvoice"])


def missing_document_ids(*, closed_before: dt.datetime, limit: int,
                         excluding: Collection[int] = ()) -> list[int]:
    """Closed invoices without a stored document that closed before `closed_before`.

    What a sweep picks up: a job that died (worker killed, process crash, broker away) leaves
    exactly this. `closed_before` keeps a grace period, so an invoice whose job is merely
    still queued or rendering is left to it. Oldest first, at most `limit`, none of
    `excluding` (those that failed a moment ago).
    """
    has_document = exists().where(InvoiceDocument.invoice_id == Invoice.id)
    query = (select(Invoice.id)
             .where(Invoice.status != InvoiceStatus.DRAFT.value, ~has_document,
                    or_(Invoice.closed_at.is_(None), Invoice.closed_at < closed_before))
             .order_by(Invoice.closed_at, Invoice.id)
             .limit(limit))
    if excluding:
        query = query.where(Invoice.id.not_in(list(excluding)))
    return list(db.session.scalars(query))


def pending_document_context(invoice_id: int) -> dict | None:
    """The PDF context of a closed invoice that has no document yet; None when there is
    nothing to make (a draft, a missing invoice, a document already stored)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft or stored_document(invoice) is not None:
        return None
    return document_context(invoice)


def ensure_document(invoice: Invoice) -> InvoiceDocument:
    """The stored document, made now if its job has not run yet (mail needs the bytes)."""
    document = stored_document(invoice)
    if document is None:
        document = store_document_of_record(invoice.id)
    if document is None:
        raise DocumentPendingError()
    return document


def preview_pdf(invoice: Invoice) -> bytes:
    """A fresh rendering, never stored: the draft preview stamped DRAFT."""
    return render_invoice_pdf(build_pdf_context(invoice))
