"""The document of record (filled in by the documents issue)."""

from __future__ import annotations


def store_document_of_record(invoice_id: int) -> None:
    """Render, post-process, store and hash the PDF of a closed invoice (documents issue)."""
    return None
