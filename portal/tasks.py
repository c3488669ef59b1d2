"""The job functions. Each takes ids and is safe to run twice (see jobs.py)."""

from __future__ import annotations

import datetime as dt

from .jobs import job, periodic, purge_done


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


@job("portal.purge_jobs")
def purge_jobs() -> None:
    """Forget done jobs after JOBS_KEEP_DONE_DAYS (the relay runs it every JOBS_PURGE_INTERVAL
    seconds); failed ones stay until an operator has looked."""
    from flask import current_app
    days = float(current_app.config.get("JOBS_KEEP_DONE_DAYS") or 7)
    purge_done(older_than=dt.timedelta(days=days))


@job("portal.mail_recovery_link")
def mail_recovery_link(customer_id: int) -> None:
    """Mail a customer who lost the key a link that signs them in (SPEC §14)."""
    from .services.notifications import mail_recovery_link as send
    send(customer_id)


@job("portal.mail_dispute")
def mail_dispute(invoice_id: int) -> None:
    """Tell the organizer's owners and managers about a dispute, each in their language."""
    from .services.notifications import mail_dispute as send
    send(invoice_id)


@job("portal.mail_resolution")
def mail_resolution(invoice_id: int) -> None:
    """Tell the customer their dispute was resolved, in the customer's language."""
    from .services.notifications import mail_resolution as send
    send(invoice_id)


periodic("portal.purge_jobs", every="JOBS_PURGE_INTERVAL", default=3600)


@job("portal.mail_password_reset")
def mail_password_reset(reset_id: int) -> None:
    """Mail a password reset link (issue 18); a used, voided or expired reset is not mailed."""
    from .services.mail import send_password_reset
    send_password_reset(reset_id)


@job("portal.compact_tallies")
def compact_tallies() -> None:
    """Fold the kept invoice counts' delta rows into one row per key (issue 16), so a list's
    count reads a few rows whatever the table size; the relay runs it every
    TALLY_COMPACT_INTERVAL seconds."""
    from .services.tallies import compact_tallies as compact
    compact()


periodic("portal.compact_tallies", every="TALLY_COMPACT_INTERVAL", default=300)
