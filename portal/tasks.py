"""The job functions. Each takes ids and is safe to run twice."""

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


@job("portal.sweep_documents")
def sweep_documents() -> None:
    """Make the documents of record whose job died (Celery beat runs it; see sweeper.py)."""
    from flask import current_app

    from .sweeper import WORKER_FAILURES
    from .sweeper import sweep_documents as sweep
    config = current_app.config
    sweep(grace=float(config["DOCUMENT_SWEEP_GRACE"]),
          limit=int(config["DOCUMENT_SWEEP_BATCH"]), failures=WORKER_FAILURES)


@job("portal.mail_password_reset")
def mail_password_reset(reset_id: int) -> None:
    """Mail a password reset link (issue 18); a used, voided or expired reset is not mailed."""
    from .services.mail import send_password_reset
    send_password_reset(reset_id)
