"""Background jobs: queued inside a unit of work, dispatched only after it commits.

This module is the queue only and imports no job: the job functions register themselves
(tasks.py, `@job`), and portal/wiring.py connects the queue to them, to mail, to Celery and to
the sweep when the app is made.

Jobs take ids, never ORM objects, and must be idempotent: a retried job may run twice.
Without `CELERY_BROKER_URL` they run in-process right after the commit (the embedded default);
with it, they go to Celery workers over the broker (`celery -A portal.worker worker -B`).
A job lost on the way (a killed process, the broker away) is not lost for good: the periodic
sweep of sweeper.py makes the documents of record it left missing.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from .extensions import db

_REGISTRY: dict[str, Callable] = {}


def job(name: str):
    """Register a job function under a stable name (the Celery task name too)."""

    def decorator(func: Callable) -> Callable:
        _REGISTRY[name] = func
        return func

    return decorator


def enqueue(name: str, *args) -> None:
    """Queue a job to run after the current transaction commits; dropped on rollback."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    db.session.info.setdefault("pending_jobs", []).append((name, args))


def discard_pending() -> None:
    db.session.info.pop("pending_jobs", None)


def commit() -> None:
    """Commit the unit of work, then dispatch the jobs it queued."""
    db.session.commit()
    dispatch_pending()


def dispatch_pending() -> None:
    pending = db.session.info.pop("pending_jobs", [])
    celery = current_app.extensions.get("celery")
    for name, args in pending:
        if celery is None:
            run_now(name, *args)
            continue
        try:
            celery.send_task(name, args=list(args))
        except Exception:
            # The unit of work is committed already: failing the request now would only make
            # the user repeat a step that happened. What a lost job leaves behind is visible
            # and recoverable (a PDF still "being prepared": `flask render-missing-pdfs`;
            # a sending still queued: send again).
            current_app.logger.exception("could not queue job %s%r", name, args)


def run_now(name: str, *args):
    """Run a job in this process, in its own transaction."""
    try:
        result = _REGISTRY[name](*args)
        db.session.commit()
        dispatch_pending()
        return result
    except Exception:
        db.session.rollback()
        discard_pending()
        current_app.logger.exception("job %s%r failed", name, args)
        if current_app.config.get("JOBS_RAISE"):
            raise
        return None


def registered_jobs() -> dict[str, Callable]:
    """The job functions by name (tasks.py registers them; the Celery wiring reads them)."""
    return dict(_REGISTRY)


def init_jobs(app: Flask) -> None:
    """Drop the jobs of a rolled-back unit of work. The job functions, mail, Celery and the
    sweep are wired by portal/wiring.py: this module imports none of them."""
    from sqlalchemy import event

    @event.listens_for(db.session, "after_soft_rollback")
    def _drop_jobs_on_rollback(session, previous_transaction):
        if previous_transaction.parent is None:
            session.info.pop("pending_jobs", None)
