"""Background jobs: one outbox (the `jobs` table) for every one of them.

This module is the queue only and imports no job: the job functions register themselves
(tasks.py, `@job`), and portal/wiring.py connects the queue to them, to mail, to Celery and to
the relay when the app is made.

How a job travels
-----------------
1. `enqueue(name, *args)` adds a `Job` row (state `pending`) to the session: it is written by
   the very transaction of the step that needs it (one INSERT), so the job exists exactly when
   the step is committed — a rollback drops both, a crash after the commit loses neither.
2. After the commit, `dispatch_pending` hands the new rows on: to Celery (`portal.run_job`
   with the row id) when `CELERY_BROKER_URL` is set, else it runs them in this process (the
   embedded default). A broker that is away costs nothing but a log line: the row waits.
3. `run_job(id)` *claims* the row with one conditional UPDATE (pending -> running, or running
   whose `locked_until` has passed -> running again), commits the claim, runs the function,
   and marks the row `done` in the job's own final commit. Only one claim can win, and a row
   that is done is never claimed again: a duplicate message, a re-drive racing a slow worker
   or two relays at once do not run a finished job twice. A job that raises goes back to
   `pending` with a backoff (`run_after`), and to `failed` after `JOBS_MAX_ATTEMPTS`.
4. The relay (`relay_jobs`, run every `JOBS_RELAY_INTERVAL` seconds by Celery beat or by the
   embedded thread of sweeper.py) re-drives what nobody finished: rows still `pending`
   `JOBS_RELAY_GRACE` seconds after they were written or last handed out (the broker was
   away, the app died after its commit), rows whose delay or backoff is over, and rows
   `running` past `locked_until` (the worker was killed: `JOBS_VISIBILITY_TIMEOUT`). It also
   enqueues the periodic jobs (`periodic`), one per time slot (`dedupe_key`).

A job may still run twice in one case: a worker that works past its visibility timeout while
the relay hands its job to another. So jobs take ids, never ORM objects, and are idempotent
(services/mail.py says how a mail is never sent twice, services/documents/store.py how a
document is never stored twice); keep `JOBS_VISIBILITY_TIMEOUT` above the longest job.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import and_, delete, inspect, or_, select, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models.job import Job
from .models.types import utcnow

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, Callable] = {}
# Periodic jobs: name -> (config setting holding the interval in seconds, its default).
_PERIODIC: dict[str, tuple[str, float]] = {}
# After a failed publish, skip the broker for this long (a request should not wait on it).
BROKER_PAUSE = 5.0
_broker_away_until = 0.0


def job(name: str):
    """Register a job function under a stable name."""

    def decorator(func: Callable) -> Callable:
        _REGISTRY[name] = func
        return func

    return decorator


def periodic(name: str, *, every: str, default: float) -> None:
    """Run the registered job `name` (no arguments) every `config[every]` seconds (0: never),
    through the outbox: the relay enqueues one per time slot, whoever relays."""
    _PERIODIC[name] = (every, default)


def enqueue(name: str, *args, delay: float | None = None, run_after: dt.datetime | None = None,
            dedupe_key: str | None = None, organizer_id: int | None = None) -> Job:
    """Write a job row in the current transaction; it runs after the commit (or at
    `run_after` / `delay` seconds from now). Dropped with the transaction on rollback."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    now = utcnow()
    due = run_after or (now + dt.timedelta(seconds=delay) if delay else now)
    row = Job(name=name, args=list(args), state="pending", attempts=0, redriven=0,
              run_after=due, created_at=now, updated_at=now, dedupe_key=dedupe_key,
              organizer_id=organizer_id)
    db.session.add(row)
    db.session.info.setdefault("pending_jobs", []).append((row, due))
    return row


def discard_pending() -> None:
    db.session.info.pop("pending_jobs", None)


def commit() -> None:
    """Commit the unit of work (its job rows with it), then hand on the jobs it queued."""
    db.session.commit()
    dispatch_pending()


def _setting(name: str, default: float) -> float:
    value = current_app.config.get(name)
    return float(default if value is None else value)


def dispatch_pending() -> None:
    """Hand the jobs of the unit of work just committed on (Celery, or run them here)."""
    pending = db.session.info.pop("pending_jobs", [])
    now = utcnow()
    ids = []
    for row, due in pending:
        identity = inspect(row).identity  # no query, even though the commit expired the row
        if identity is not None and due <= now:
            ids.append(identity[0])
    hand_out(ids)


def hand_out(ids: list[int]) -> None:
    global _broker_away_until
    celery = current_app.extensions.get("celery")
    for job_id in ids:
        if celery is None:
            run_job(job_id)
            continue
        if time.monotonic() < _broker_away_until:
            continue  # the relay will hand it out once the broker is back
        try:
            celery.send_task("portal.run_job", args=[job_id])
        except Exception:  # noqa: BLE001 - the row is committed; the relay re-drives it
            _broker_away_until = time.monotonic() + BROKER_PAUSE
            current_app.logger.warning(
                "could not queue job %s: the broker is away; the relay hands it out later",
                job_id, exc_info=True)


def run_job(job_id: int) -> bool:
    """Claim the job row, run it in its own unit of work, mark it done. False when the job
    was not ours to run (done already, or running elsewhere within its visibility timeout)."""
    now = utcnow()
    visibility = _setting("JOBS_VISIBILITY_TIMEOUT", 300)
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, or_(Job.state == "pending",
                                     and_(Job.state == "running", Job.locked_until < now)))
        .values(state="running", attempts=Job.attempts + 1, updated_at=now,
                locked_until=now + dt.timedelta(seconds=visibility))
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        return False
    name, args, attempts = db.session.execute(
        select(Job.name, Job.args, Job.attempts).where(Job.id == job_id)).one()
    db.session.commit()  # the claim is seen by every relay and worker before the work starts
    try:
        _REGISTRY[name](*args)
        db.session.execute(
            update(Job).where(Job.id == job_id)
            .values(state="done", locked_until=None, last_error=None, updated_at=utcnow())
            .execution_options(synchronize_session=False))
        db.session.commit()  # the job's work and its "done" in one transaction
    except Exception as exc:
        db.session.rollback()
        discard_pending()
        current_app.logger.exception("job %s %s%r failed (attempt %s)", job_id, name,
                                     tuple(args), attempts)
        _record_failure(job_id, attempts, exc)
        if current_app.config.get("JOBS_RAISE"):
            raise
        return False
    dispatch_pending()
    return True


def _record_failure(job_id: int, attempts: int, exc: Exception) -> None:
    give_up = attempts >= int(_setting("JOBS_MAX_ATTEMPTS", 5))
    backoff = _setting("JOBS_RETRY_BACKOFF", 30) * 2 ** (attempts - 1)
    now = utcnow()
    db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == "running")
        .values(state="failed" if give_up else "pending", locked_until=None, updated_at=now,
                run_after=now + dt.timedelta(seconds=backoff),
                last_error=f"{type(exc).__name__}: {exc}"[:2000])
        .execution_options(synchronize_session=False))
    db.session.commit()


def run_now(name: str, *args):
    """Run a job function in this process, in its own transaction, without an outbox row
    (an operator command, a test)."""
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


@dataclass
class RelayResult:
    redriven: list[int] = field(default_factory=list)  # rows handed out again
    periodic: list[str] = field(default_factory=list)  # periodic jobs enqueued

    def __bool__(self) -> bool:
        return bool(self.redriven or self.periodic)


def due_condition(now: dt.datetime, grace: float):
    """Rows the relay hands out: pending and due — a fresh row only once its own after-commit
    dispatch had `grace` seconds — or running past their lock."""
    stale = now - dt.timedelta(seconds=grace)
    return or_(
        and_(Job.state == "pending", Job.run_after <= now,
             or_(Job.run_after > Job.created_at, Job.run_after <= stale)),
        and_(Job.state == "running", Job.locked_until < now))


def relay_jobs(*, now: dt.datetime | None = None) -> RelayResult:
    """Re-drive what nobody finished and enqueue the periodic jobs that are due. Its own unit
    of work (call it with nothing pending); safe anywhere, any number of times at once."""
    result = RelayResult()
    now = now or utcnow()
    grace = _setting("JOBS_RELAY_GRACE", 30)
    fresh = []
    for name, (every, default) in sorted(_PERIODIC.items()):
        interval = _setting(every, default)
        if interval <= 0:
            continue
        slot = int(now.timestamp() // interval)
        try:
            row = enqueue(name, dedupe_key=f"{name}@{slot}")
            db.session.commit()
            fresh.append(inspect(row).identity[0])
            result.periodic.append(name)
        except IntegrityError:  # another relay took this slot
            db.session.rollback()
        discard_pending()  # handed out below with everything else that is due
    query = (select(Job.id).where(due_condition(now, grace), Job.id.not_in(fresh))
             .order_by(Job.run_after, Job.id).limit(int(_setting("JOBS_RELAY_BATCH", 100))))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = []
    for job_id in list(db.session.scalars(query)):
        # Handed out now, so looked at again only after `grace`; the condition is asked
        # again, so of two relays at once only one takes a row.
        taken = db.session.execute(
            update(Job).where(Job.id == job_id, due_condition(now, grace))
            .values(state="pending", locked_until=None, redriven=Job.redriven + 1,
                    run_after=now + dt.timedelta(seconds=grace), updated_at=now)
            .execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            ids.append(job_id)
    db.session.commit()
    if ids:
        logger.warning("job relay re-drives job(s) %s", ", ".join(map(str, ids)))
    # Whoever finished a row meanwhile is not run again: the claim refuses a done row.
    hand_out(fresh + ids)
    result.redriven = ids
    return result


@dataclass
class JobView:
    id: int
    name: str
    args: list
    state: str
    attempts: int
    redriven: int
    age: float  # seconds since it was written
    run_after: dt.datetime
    locked_until: dt.datetime | None
    last_error: str | None


OVERVIEW = ("pending", "running", "failed", "redriven")


def overview(*, organizer_id: int | None = None, limit: int = 50,
             now: dt.datetime | None = None) -> dict[str, list[JobView]]:
    """What an operator looks at: pending, running and failed jobs (oldest first), and the
    unfinished or recent jobs the relay re-drove. `organizer_id`: only that organizer's."""
    now = now or utcnow()
    scope = [] if organizer_id is None else [Job.organizer_id == organizer_id]
    wheres = {"pending": [Job.state == "pending"], "running": [Job.state == "running"],
              "failed": [Job.state == "failed"], "redriven": [Job.redriven > 0]}
    found: dict[str, list[JobView]] = {}
    for kind in OVERVIEW:
        order = Job.id.desc() if kind == "redriven" else Job.id
        rows = db.session.scalars(select(Job).where(*scope, *wheres[kind]).order_by(order)
                                  .limit(limit))
        found[kind] = [JobView(row.id, row.name, row.args, row.state, row.attempts,
                               row.redriven, (now - row.created_at).total_seconds(),
                               row.run_after, row.locked_until, row.last_error)
                       for row in rows]
    return found


def purge_done(*, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete done jobs finished more than `older_than` ago (failed ones stay for a look)."""
    cutoff = (now or utcnow()) - older_than
    result = db.session.execute(
        delete(Job).where(Job.state == "done", Job.updated_at < cutoff)
        .execution_options(synchronize_session=False))
    return result.rowcount


def registered_jobs() -> dict[str, Callable]:
    """The job functions by name (tasks.py registers them)."""
    return dict(_REGISTRY)


def periodic_jobs() -> dict[str, tuple[str, float]]:
    return dict(_PERIODIC)


def init_jobs(app: Flask) -> None:
    """Drop the handed-on list of a rolled-back unit of work (its rows are rolled back)."""
    from sqlalchemy import event

    @event.listens_for(db.session, "after_soft_rollback")
    def _drop_jobs_on_rollback(session, previous_transaction):
        if previous_transaction.parent is None:
            session.info.pop("pending_jobs", None)
