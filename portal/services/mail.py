"""E-mail delivery of invoices (filled in by the documents issue)."""

from __future__ import annotations

import uuid

from ..extensions import db
from ..models import Sending
from .invoices import complete_sending


def deliver_sending(sending_id: int) -> None:
    """Deliver one queued sending; a sending that is no longer queued is left alone."""
    sending = db.session.get(Sending, sending_id)
    if sending is None or sending.outcome == "sent":
        return
    complete_sending(sending, message_id=f"<{uuid.uuid4().hex}@invoice-portal>")
