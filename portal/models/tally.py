"""Kept invoice counts (issue 16): how many invoices each event has per status and type, so a
list's count stays flat however large the table grows.

The table is append-only for the writers. Database triggers on `invoices` (made by migration
0014, on SQLite and PostgreSQL alike) add a delta row for every insert (+1), delete (-1) and
change of status or type (-1 for the old key, +1 for the new one); nobody updates a shared
counter row, so concurrent lifecycle steps never wait on or deadlock over one. A count is
`sum(n)` over an event's rows for the statuses and types asked; the periodic compaction
(`services.tallies.compact_tallies`) folds each key's deltas into one row, so the rows a count
reads follow the write rate since the last compaction, not the number of invoices.

No foreign keys: the rows are derived data the triggers write, also while an event and its
invoices are deleted by a cascade (their deltas sum to 0 and compaction drops them).
A later migration that rebuilds `invoices` on SQLite (a batch "move and copy") drops the
triggers with the old table and must create them again.
"""

from __future__ import annotations

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class InvoiceTally(db.Model):
    __tablename__ = "invoice_tallies"
    __table_args__ = (
        Index("ix_invoice_tallies_event_id_status_type", "event_id", "status", "type"),
        Index("ix_invoice_tallies_organizer_id_status_type", "organizer_id", "status", "type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    organizer_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    n: Mapped[int] = mapped_column(Integer)
