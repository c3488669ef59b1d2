"""The one way an invoice PDF leaves the server, for the back office, the customer area and
the API alike.

A closed invoice answers with its stored document of record: the same bytes on every download,
`ETag` = its SHA-256, so a conditional GET costs a 304 and no database read of the bytes. The
API's downloads read token, scope, invoice and bytes in one SELECT (`DOWNLOAD_LOAD` and
`pdf_content()` are what they add to api/auth's statement); the bytes are handed to the server
as they came from the driver, never copied. A
draft answers with a fresh preview stamped DRAFT that is never stored nor cached. While a closed
invoice's document is still being made, `DocumentPendingError` (409 + Retry-After) is raised;
HTML views catch it and show a "being prepared" page that refreshes itself.
"""

from __future__ import annotations

import hashlib

from flask import Response, request
from sqlalchemy import LargeBinary, bindparam, case, inspect, null, select, type_coerce
from sqlalchemy.orm import load_only

from .errors import ConflictError
from .extensions import db
from .models import Invoice, InvoiceDocument
from .services import documents
from .services.documents import DocumentPendingError

# The bytes never change, but who may see them can (a rotated customer key, a revoked
# token): only private caches, and they revalidate (cheaply, by ETag) after a while.
STORED_CACHE_CONTROL = "private, max-age=300, must-revalidate"


# What pdf_response reads of a closed invoice: the invoice's wide columns (the frozen seller,
# buyer and texts) stay unread on the download path.
DOWNLOAD_LOAD = (load_only(Invoice.id, Invoice.event_id, Invoice.status, Invoice.number,
                           Invoice.pdf_sha256),)
_STORED = object()


def pdf_content() -> tuple:
    """The stored PDF's bytes as a column of a statement that has `Invoice` and an outer join
    to `InvoiceDocument`, NULL when the client's copy is current (`If-None-Match` names the
    invoice's hash) so that a 304 reads no bytes; with its bind parameters and the statement
    shape it makes: (column, params, shape)."""
    tags = request.if_none_match
    if tags.star_tag:
        return type_coerce(null(), LargeBinary), {}, "any"
    current = tags.as_set(include_weak=True)
    if not current:
        return InvoiceDocument.content, {}, "none"
    column = case((Invoice.pdf_sha256.in_(bindparam("etags", expanding=True)), null()),
                  else_=InvoiceDocument.content)
    return type_coerce(column, LargeBinary), {"etags": sorted(current)}, "tags"


def _fully_loaded(invoice: Invoice) -> Invoice:
    """A draft read with DOWNLOAD_LOAD, all its columns read in one statement (not one
    statement per column the preview touches)."""
    if not inspect(invoice).unloaded:
        return invoice
    return db.session.scalar(select(Invoice).where(Invoice.id == invoice.id)
                             .execution_options(populate_existing=True))


def pdf_response(invoice: Invoice, *, as_attachment: bool = False,
                 content: bytes | None = _STORED) -> Response:
    """The PDF of `invoice` as a response; raises DocumentPendingError while it is made.

    `content`: the stored bytes when the caller read them with the invoice (`pdf_content()`);
    by default they are read here."""
    disposition = "attachment" if as_attachment else "inline"
    filename = documents.pdf_filename(invoice)
    if invoice.is_draft:
        invoice = _fully_loaded(invoice)
        response = Response(documents.preview_pdf(invoice), mimetype="application/pdf")
        response.headers["Cache-Control"] = "no-store"
        response.headers.set("Content-Disposition", disposition, filename=filename)
        return response

    digest = invoice.pdf_sha256
    if digest is None:
        raise DocumentPendingError()
    if request.if_none_match.contains_weak(digest):
        response = Response(status=304)
    else:
        if content is _STORED:
            document = documents.stored_document(invoice)
            content = None if document is None else document.content
        if content is None:  # the hash is written with the bytes, so this cannot happen
            raise DocumentPendingError()
        response = Response(content, mimetype="application/pdf")
        response.headers.set("Content-Disposition", disposition, filename=filename)
    response.set_etag(digest)
    response.headers["Cache-Control"] = STORED_CACHE_CONTROL
    return response


def statement_pdf_response(statement, *, locale: str, seller: dict) -> Response:
    """A statement of account as a PDF, made on each request (it is not a document of
    record: it changes with every payment), for every audience alike."""
    from .services.statements import statement_pdf

    response = Response(statement_pdf(statement, locale, seller), mimetype="application/pdf")
    filename = (f"statement-{statement.customer.reference}-{statement.start.isoformat()}"
                f"-{statement.end.isoformat()}.pdf")
    response.headers.set("Content-Disposition", "inline", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


class NoEInvoiceError(ConflictError):
    code = "no_einvoice"
    message = "This document has no e-invoice (a draft, a proforma, or e-invoicing is off)."


def xml_filename(invoice: Invoice, syntax: str) -> str:
    return documents.pdf_filename(invoice).removesuffix(".pdf") + f"-{syntax}.xml"


def xml_response(invoice: Invoice, syntax: str, *, as_attachment: bool = True) -> Response:
    """The stored CII or UBL of a closed invoice (SPEC §11): the bytes whose SHA-256 the
    invoice keeps, never re-made. 409 `no_einvoice` for documents without one; 409 + Retry-After
    while the document is still being made."""
    if invoice.is_draft or not documents.einvoice_enabled(invoice):
        raise NoEInvoiceError()
    if invoice.pdf_sha256 is None:
        raise DocumentPendingError()
    # close records each XML's hash: a current copy costs a 304 without reading the bytes.
    digest = invoice.cii_sha256 if syntax == "cii" else invoice.ubl_sha256
    if digest is not None and request.if_none_match.contains_weak(digest):
        response = Response(status=304)
        response.set_etag(digest)
        response.headers["Cache-Control"] = STORED_CACHE_CONTROL
        return response
    data = db.session.scalar(select(getattr(InvoiceDocument, syntax))
                             .where(InvoiceDocument.invoice_id == invoice.id))
    if data is None:
        raise NoEInvoiceError()
    digest = hashlib.sha256(data).hexdigest()
    if request.if_none_match.contains_weak(digest):
        response = Response(status=304)
    else:
        response = Response(data, mimetype="application/xml")
        response.headers.set("Content-Disposition",
                             "attachment" if as_attachment else "inline",
                             filename=xml_filename(invoice, syntax))
    response.set_etag(digest)
    response.headers["Cache-Control"] = STORED_CACHE_CONTROL
    return response
