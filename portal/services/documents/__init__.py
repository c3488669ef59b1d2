"""The document of record: the invoice PDF, made once when an invoice closes.

The pipeline has three steps, kept apart so an e-invoice step (PDF/A-3 with embedded
EN 16931 XML) can slot in between rendering and storing without touching either:

1. **render**: `build_pdf_context(invoice)` turns the invoice into a plain dict (no ORM objects,
   every figure already formatted in the invoice's locale) and `render_invoice_pdf(context)`
   turns that dict into PDF bytes with xhtml2pdf from `templates/pdf/`;
2. **post-process**: `postprocess_pdf(pdf, context)` makes it a Factur-X PDF/A-3b (pdfa.py);
3. **store + hash**: `store_pdf(invoice_id, pdf)` keeps the bytes in the database (so every app
   server and worker sees them) and their SHA-256 on the invoice.

`store_document_of_record(invoice_id)` runs the three as the job queued by closing an invoice.
It is idempotent: an invoice that has its document keeps it, whoever asks again. A draft is
never stored; its PDF is a preview stamped DRAFT, made on every request.

Rendering reads nothing from outside the repository: the link callback maps `fonts/<name>` to
the DejaVu fonts shipped in `static/fonts/`, and xhtml2pdf's resource policy confines every
fetch to `static/` with the network switched off, so no free text in an invoice can make the
renderer read a file or a URL. Free text is escaped by Jinja's autoescaping.

The package, step by step: labels.py (the words, per locale), context.py (step 1, the dict),
render.py (step 1, the bytes, through engine.py: xhtml2pdf with fonts and static CSS built once
per process; step 2 calls pdfa.py: PDF/A-3b + factur-x.xml), store.py (step 3,
and reading the stored document). E-invoices (SPEC §11): domain/einvoice.py is the EN 16931
model, xml.py writes CII and UBL, validate.py checks them offline, einvoices.py is the glue
from the ORM invoice (and the close check).
Everything a caller needs is importable from here: `documents.store_pdf(…)`.
"""

from .context import build_pdf_context, context_from_dict
from .einvoices import EInvoiceInvalidError, einvoice_findings, refuse_if_invalid
from .einvoices import enabled as einvoice_enabled
from .einvoices import stamp_hashes as stamp_einvoice_hashes
from .engine import FONT_DIR, STATIC_DIR
from .labels import LABELS, document_language, document_title, labels_for
from .render import (
    TEMPLATE_DIR,
    count_pages,
    make_pdf,
    postprocess_pdf,
    render_invoice_pdf,
    render_pdf,
    render_template_file,
)
from .store import (
    PENDING_RETRY_AFTER,
    DocumentPendingError,
    document_context,
    ensure_document,
    missing_document_ids,
    pdf_filename,
    pending_document_context,
    preview_pdf,
    store_document_of_record,
    store_pdf,
    stored_document,
)

__all__ = [
    "FONT_DIR", "LABELS", "PENDING_RETRY_AFTER", "STATIC_DIR", "TEMPLATE_DIR",
    "DocumentPendingError", "EInvoiceInvalidError", "build_pdf_context", "document_context",
    "einvoice_enabled", "einvoice_findings", "refuse_if_invalid", "stamp_einvoice_hashes", "context_from_dict", "count_pages",
    "document_language", "document_title", "ensure_document", "labels_for", "make_pdf",
    "missing_document_ids", "pdf_filename", "pending_document_context", "postprocess_pdf",
    "preview_pdf", "render_invoice_pdf", "render_pdf", "render_template_file",
    "store_document_of_record", "store_pdf", "stored_document",
]
