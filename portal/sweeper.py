"""No document left behind: a periodic sweep makes the PDFs whose job died.

Closing an invoice queues `portal.render_document` after the commit. If that job is lost — a
worker killed mid-render, the app process crashing right after the commit, the broker away —
the invoice is closed without a document of record and stays "being prepared". The sweep
finds such invoices (closed over `DOCUMENT_SWEEP_GRACE` seconds ago, so it never races the
normal job) and makes their documents, every `DOCUMENT_SWEEP_INTERVAL` seconds:

- **with Celery**, Celery beat queues the job `portal.sweep_documents` (see worker_setup.py);
  run beat once per deployment: `celery -A portal.worker beat`, or `-B` on exactly one worker;
- **in the embedded default**, a daemon thread per app-server process, started by the first
  request the process serves (so it runs under `flask run` and in each gunicorn worker, never
  in a CLI command, a Celery worker or a test that does not ask for it); the workers of one
  host take turns through a file lock in the instance folder.

Safe to run anywhere, any number of times at once: a document is only ever stored by
`store_pdf`, which locks the invoice row, keeps a document that is there already, and the
`invoice_documents` primary key (the invoice id) refuses a second row. The worst two sweeps
at once can do is render the same PDF twice; one is stored.

On SQLite every transaction outside a read request takes the write lock; the sweep's reads
are marked as reads (`db_setup.reading`), so it holds the write lock only to store: each
invoice is read in one short transaction, rendered outside any, and stored in another.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask

from .db_setup import reading
from .extensions import db
from .models.types import utcnow

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    stored: list[int] = field(default_factory=list)   # documents this sweep made
    kept: list[int] = field(default_factory=list)     # someone else stored one meanwhile
    failed: list[int] = field(default_factory=list)   # rendering or storing raised; retried later

    def __bool__(self) -> bool:
        return bool(self.stored or self.kept or self.failed)


class Failures:
    """The invoices whose document failed to render or store in this process, and when.

    A sweep leaves them out for `retry_after` seconds, so an invoice that always fails (a
    renderer bug on its data) cannot fill every batch and starve the others; it is logged
    each time it is tried, and retried later.
    """

    def __init__(self, retry_after: float = 900.0):
        self.retry_after = retry_after
        self._at: dict[int, float] = {}
        self._lock = threading.Lock()

    def resting(self) -> list[int]:
        now = time.monotonic()
        with self._lock:
            self._at = {i: t for i, t in self._at.items() if now - t < self.retry_after}
            return sorted(self._at)

    def failed(self, invoice_id: int) -> None:
        with self._lock:
            self._at[invoice_id] = time.monotonic()

    def succeeded(self, invoice_id: int) -> None:
        with self._lock:
            self._at.pop(invoice_id, None)


# A Celery worker process's memory of failed invoices (its sweeps run one after another).
WORKER_FAILURES = Failures()


def sweep_documents(*, grace: float, limit: int = 50, now: dt.datetime | None = None,
                    failures: Failures | None = None) -> SweepResult:
    """Make the documents of record of closed invoices that have none; commits per invoice.

    The unit of work of a sweep (like a CLI command): it owns its transactions, so call it
    with no work pending in the session.
    """
    from .jobs import commit
    from .services import documents

    result = SweepResult()
    cutoff = (now or utcnow()) - dt.timedelta(seconds=grace)
    try:
        with reading():
            invoice_ids = documents.missing_document_ids(
                closed_before=cutoff, limit=limit,
                excluding=failures.resting() if failures else ())
    finally:
        db.session.rollback()
    for invoice_id in invoice_ids:
        try:
            with reading():
                context = documents.pending_document_context(invoice_id)
            db.session.rollback()  # end the read before rendering: no lock held meanwhile
            if context is None:
                continue
            pdf = documents.make_pdf(context)
            document = documents.store_pdf(invoice_id, pdf, context["einvoice"])
            # store_pdf hands back the row it made from these very bytes, or the one it found.
            ours = document is not None and document.content is pdf
            commit()
        except Exception:
            db.session.rollback()
            logger.exception("document sweep: invoice %s failed", invoice_id)
            result.failed.append(invoice_id)
            if failures is not None:
                failures.failed(invoice_id)
            continue
        if failures is not None:
            failures.succeeded(invoice_id)
        (result.stored if ours else result.kept).append(invoice_id)
    if result.stored:
        logger.warning("document sweep made the missing PDF of invoice(s) %s",
                       ", ".join(map(str, result.stored)))
    return result


class EmbeddedSweeper:
    """One daemon thread per process that sweeps every `interval` seconds.

    Started by `ensure_started`, called before each request: a process that serves requests
    sweeps, and a forked gunicorn worker starts its own (threads do not survive a fork).
    """

    def __init__(self, app: Flask, *, interval: float, grace: float, limit: int):
        self.app, self.interval, self.grace, self.limit = app, interval, grace, limit
        self._pid: int | None = None
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self.sweeps = 0  # finished sweeps in this process (for tests and the curious)
        self.failures = Failures()

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.stopped = threading.Event()
            threading.Thread(target=self._run, name="portal-document-sweep",
                             daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        # A short pause first, so a fresh process answers its first requests unhindered.
        while not self.stopped.wait(min(self.interval, 5.0) if self.sweeps == 0
                                    else self.interval):
            self.sweep_once()

    def sweep_once(self) -> SweepResult | None:
        started = time.monotonic()
        with self.app.app_context(), _host_lock(self.lock_path) as ours:
            try:
                if not ours:  # another process on this host is sweeping right now
                    return None
                return sweep_documents(grace=self.grace, limit=self.limit,
                                       failures=self.failures)
            except Exception:  # the database away: try again next time
                logger.exception("document sweep failed")
                return None
            finally:
                db.session.remove()
                self.sweeps += 1
                logger.debug("document sweep took %.3fs", time.monotonic() - started)

    @property
    def lock_path(self) -> Path:
        return Path(self.app.instance_path) / "document-sweep.lock"


@contextmanager
def _host_lock(path: Path) -> Iterator[bool]:
    """An advisory file lock, not waited for: the gunicorn workers of one host take turns
    instead of rendering the same missing PDFs side by side. Correctness does not rest on it
    (store_pdf stores once); where there is no fcntl, every process sweeps."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield True
        return
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def init_sweeper(app: Flask) -> None:
    """Start the embedded sweeper with the app server (not with Celery: beat sweeps there)."""
    interval = float(app.config.get("DOCUMENT_SWEEP_INTERVAL") or 0)
    if interval <= 0 or app.extensions.get("celery") is not None:
        return
    sweeper = EmbeddedSweeper(app, interval=interval,
                              grace=float(app.config.get("DOCUMENT_SWEEP_GRACE") or 0),
                              limit=int(app.config.get("DOCUMENT_SWEEP_BATCH") or 50))
    app.extensions["document_sweeper"] = sweeper
    app.before_request(sweeper.ensure_started)
