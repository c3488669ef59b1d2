""""Download all as ZIP": the customer's stored documents of record in one archive."""

from __future__ import annotations

import tempfile
import zipfile
from typing import IO

from werkzeug.utils import secure_filename

from ..extensions import db
from ..models import Customer
from ..services import documents, invoice_queries

# Archives up to this size stay in memory; larger ones spill to a temporary file.
IN_MEMORY_LIMIT = 16 * 1024 * 1024
PENDING_NOTE = "still-being-prepared.txt"


def zip_filename(customer: Customer) -> str:
    return f"invoices-{secure_filename(customer.reference) or customer.id}.zip"


def build_invoices_zip(customer: Customer) -> IO[bytes] | None:
    """Every stored PDF of the customer's closed invoices, with its CII and UBL where it has
    them, or None when none is stored yet.

    PDFs are compressed already, so entries are stored, not deflated. Documents still being
    made are named in a note inside the archive rather than silently left out.
    """
    names: set[str] = set()
    pending: list[str] = []
    buffer = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_LIMIT)  # noqa: SIM115 - returned
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for invoice in invoice_queries.customer_invoices_with_documents(customer):
            document = documents.stored_document(invoice)
            if document is None:
                pending.append(invoice.number)
                continue
            name = _unique(documents.pdf_filename(invoice), invoice.event.slug, names)
            stamp = invoice.closed_at or document.created_at
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            archive.writestr(info, document.content)
            # the e-invoice XMLs beside their PDF (SPEC §11), under the same stem
            for syntax in ("cii", "ubl"):
                data = getattr(document, syntax)
                if data is not None:
                    xml_name = name.removesuffix(".pdf") + f"-{syntax}.xml"
                    archive.writestr(zipfile.ZipInfo(xml_name, date_time=info.date_time), data)
            db.session.expunge(document)  # the bytes are in the archive: let them go
        if pending:
            archive.writestr(PENDING_NOTE, "These documents are still being prepared; download "
                             "them again in a moment:\n" + "\n".join(pending) + "\n")
    if not names:
        buffer.close()
        return None
    buffer.seek(0)
    return buffer


def _unique(name: str, event_slug: str, taken: set[str]) -> str:
    """Numbers are unique per event only: two events may share one, so prefix the event."""
    if name in taken:
        name = f"{event_slug}-{name}"
    taken.add(name)
    return name
