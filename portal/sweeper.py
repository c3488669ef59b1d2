"""Nothing left behind: the relay that re-drives the outbox (jobs.py), run periodically.

Every background job is a row written with the step that needs it, so a job lost on its way —
the broker away when the app handed it on, a worker killed mid-render or mid-delivery, the app
process dying right after its commit — is still a row, `pending` or `running` past its lock.
`jobs.relay_jobs` hands such rows out again and enqueues the periodic jobs that are due, every
`JOBS_RELAY_INTERVAL` seconds:

- **with Celery**, Celery beat queues `portal.relay_jobs` (see worker_setup.py); run beat once
  per deployment: `celery -A portal.worker beat`, or `-B` on exactly one worker (two beats
  only relay twice as often, which is harmless);
- **in the embedded default**, a daemon thread per app-server process, started by the first
  request the process serves (so it runs under `flask run` and in each gunicorn worker, never
  in a CLI command, a Celery worker or a test that does not ask for it); the workers of one
  host take turns through a file lock in the instance folder, and the relay runs the jobs
  it re-drives in its own thread.

This replaces the former document sweep: a closed invoice without its document always has a
render job row, which the relay re-drives; `flask render-missing-pdfs` remains for invoices
closed before the outbox existed.

The bound: a job whose after-commit hand-off failed runs within `JOBS_RELAY_GRACE` +
`JOBS_RELAY_INTERVAL` seconds after the broker is back; a job whose worker died runs again
within `JOBS_VISIBILITY_TIMEOUT` + `JOBS_RELAY_INTERVAL` seconds after it was claimed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from .extensions import db
from .jobs import RelayResult, relay_jobs

logger = logging.getLogger(__name__)


class EmbeddedRelay:
    """One daemon thread per process that relays every `interval` seconds.

    Started by `ensure_started`, called before each request: a process that serves requests
    relays, and a forked gunicorn worker starts its own (threads do not survive a fork).
    """

    def __init__(self, app: Flask, *, interval: float):
        self.app, self.interval = app, interval
        self._pid: int | None = None
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self.rounds = 0  # finished relay rounds in this process (for tests and the curious)

    def ensure_started(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self.stopped = threading.Event()
            threading.Thread(target=self._run, name="portal-job-relay", daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        # A short pause first, so a fresh process answers its first requests unhindered.
        while not self.stopped.wait(min(self.interval, 5.0) if self.rounds == 0
                                    else self.interval):
            self.relay_once()

    def relay_once(self) -> RelayResult | None:
        started = time.monotonic()
        with self.app.app_context(), _host_lock(self.lock_path) as ours:
            try:
                if not ours:  # another process on this host is relaying right now
                    return None
                return relay_jobs()
            except Exception:  # the database away: try again next time
                logger.exception("job relay failed")
                db.session.rollback()
                return None
            finally:
                db.session.remove()
                self.rounds += 1
                logger.debug("job relay took %.3fs", time.monotonic() - started)

    @property
    def lock_path(self) -> Path:
        return Path(self.app.instance_path) / "job-relay.lock"


@contextmanager
def _host_lock(path: Path) -> Iterator[bool]:
    """An advisory file lock, not waited for: the gunicorn workers of one host take turns.
    Correctness does not rest on it (a job is claimed once); without fcntl every process
    relays."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
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


def init_relay(app: Flask) -> None:
    """Start the embedded relay with the app server (not with Celery: beat relays there)."""
    interval = float(app.config.get("JOBS_RELAY_INTERVAL") or 0)
    if interval <= 0 or app.extensions.get("celery") is not None:
        return
    relay = EmbeddedRelay(app, interval=interval)
    app.extensions["job_relay"] = relay
    app.before_request(relay.ensure_started)
