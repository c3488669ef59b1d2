"""The one way an invoice PDF leaves the server, for the back office, the customer area and
the API alike.

A closed invoice answers with its stored document of record: the same bytes on every download,
`ETag` = its SHA-256, so a conditional GET costs a 304 and no database read of the bytes. A
draft answers with a fresh preview stamped DRAFT that is never stored nor cached. While a closed
invoice's document is still being made, `DocumentPendingError` (409 + Retry-After) is raised;
HTML views catch it and show a "being prepared" page that refreshes itself.
"""

from __future__ import annotations

import hashlib

from flask import Response, request

from .errors import ConflictError
from .models import Invoice
from .services import documents
from .services.documents import DocumentPendingError

# The bytes never change, but who may see them can (a rotated customer key, a revoked
# token): only private caches, and they revalidate (cheaply, by ETag) after a while.
STORED_CACHE_CONTROL = "private, max-age=300, must-revalidate"


def pdf_response(invoice: Invoice, *, as_attachment: bool = False) -> Response:
    """The PDF of `invoice` as a response; raises DocumentPendingError while it is made."""
    disposition = "attachment" if as_attachment else "inline"
    filename = documents.pdf_filename(invoice)
    if invoice.is_draft:
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
        document = documents.stored_document(invoice)
        if document is None:  # the hash is written with the bytes, so this cannot happen
            raise DocumentPendingError()
        response = Response(document.content, mimetype="application/pdf")
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
    document = documents.stored_document(invoice)
    data = None if document is None else getattr(document, syntax)
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
