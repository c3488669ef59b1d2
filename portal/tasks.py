"""The job functions. Each takes ids and is safe to run twice (see jobs.py)."""

from __future__ import annotations

from .jobs import job


@job("portal.render_document")
def render_document(invoice_id: int) -> None:
    """Make and store the document of record of a closed invoice (documents issue)."""
    from .services.documents import store_document_of_record
    store_document_of_record(invoice_id)


@job("portal.deliver_sending")
def deliver_sending(sending_id: int) -> None:
    """Deliver one recorded sending by e-mail (documents issue)."""
    from .services.mail import deliver_sending as deliver
    deliver(sending_id)
