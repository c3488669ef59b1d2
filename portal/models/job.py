"""The outbox: one row per background job, written in the transaction of the step that needs it.

See portal/jobs.py for the states and who moves a row between them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

JOB_STATES = ("pending", "running", "done", "failed")


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'done', 'failed')", name="state"),
        # The relay's question: what is pending and due, or running past its lock.
        Index("ix_jobs_state_run_after", "state", "run_after"),
        Index("ix_jobs_organizer_id", "organizer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    args: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # How often the relay handed it out again (a broker outage, a dead worker).
    redriven: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Optional: at most one job per key (periodic work takes one per time slot).
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Whose work it is, where there is one: the back-office jobs page shows an owner theirs.
    organizer_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizers.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
