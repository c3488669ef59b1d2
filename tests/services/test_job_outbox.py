"""The job outbox in-process (the embedded default): rows written with their step, claimed
once, re-driven by the relay, retried with backoff, and listed for the operator.

The processes-and-broker side (Celery, Redis, kill -9) is in test_jobs_celery.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.config import load_config
from portal.db_setup import reading
from portal.extensions import db
from portal.models import Invoice, InvoiceDocument, Job
from portal.models.types import utcnow
from portal.services import invoices as svc
from portal.sweeper import EmbeddedRelay

from ..conftest import make_app
from ..factories import ACTOR, Factory
from ..servers import Gunicorn

RUNS: list[tuple] = []  # what the test jobs below did, in order
GATE = threading.Event()


@jobs.job("tests.record")
def _record(value) -> None:
    RUNS.append(("record", value))


@jobs.job("tests.slow_record")
def _slow_record(value) -> None:
    RUNS.append(("slow", value))
    GATE.wait(10)


@jobs.job("tests.explode")
def _explode(value) -> None:
    RUNS.append(("explode", value))
    raise RuntimeError(f"boom {value}")


@pytest.fixture(autouse=True)
def _clean_runs():
    RUNS.clear()
    GATE.clear()
    yield
    GATE.set()


def rows(**where) -> list[Job]:
    db.session.expire_all()
    return list(db.session.scalars(select(Job).filter_by(**where).order_by(Job.id)))


def test_a_close_writes_its_job_row_in_its_own_transaction_and_a_rollback_drops_it(app, make):
    invoice = make.invoice(make.event())
    jobs.commit()
    svc.close_invoice(invoice, actor=ACTOR)
    (row,) = [r for r in db.session.new if isinstance(r, Job)]  # not written before the commit
    assert (row.name, row.args, row.state) == ("portal.render_document", [invoice.id],
                                               "pending")
    assert row.organizer_id == invoice.organizer_id
    db.session.rollback()
    jobs.discard_pending()
    assert rows(name="portal.render_document") == []

    svc.close_invoice(db.session.get(Invoice, invoice.id), actor=ACTOR)
    jobs.commit()  # embedded: the job ran right after the commit
    (done,) = rows(name="portal.render_document")
    assert done.state == "done" and done.attempts == 1 and done.locked_until is None
    assert db.session.get(InvoiceDocument, invoice.id) is not None


def test_the_outbox_adds_one_insert_to_a_close(app, make, count_queries, monkeypatch):
    event = make.event()
    warm, plain, outboxed = make.invoice(event), make.invoice(event), make.invoice(event)
    jobs.commit()
    svc.close_invoice(warm, actor=ACTOR)  # the event's first close starts its number sequence
    db.session.flush()
    with monkeypatch.context() as patch:
        patch.setattr(svc, "enqueue", lambda *args, **kwargs: None)  # a close without outbox
        with count_queries() as without:
            svc.close_invoice(plain, actor=ACTOR)
            db.session.flush()
    with count_queries() as with_outbox:
        svc.close_invoice(outboxed, actor=ACTOR)
        db.session.flush()
    jobs.discard_pending()
    added = [s for s in with_outbox.statements if s not in without.statements]
    assert len(added) == 1 and added[0].lstrip().upper().startswith("INSERT INTO JOBS")
    assert with_outbox.count == without.count + 1


def test_a_done_job_is_never_run_again_and_a_running_one_not_twice(app):
    row = jobs.enqueue("tests.record", "a")
    jobs.discard_pending()
    jobs.commit()
    assert jobs.run_job(row.id) is True
    assert jobs.run_job(row.id) is False  # a duplicate message: refused by the claim
    assert RUNS == [("record", "a")]
    (done,) = rows(id=row.id)
    assert done.state == "done"

    running = jobs.enqueue("tests.record", "b")
    jobs.discard_pending()
    jobs.commit()
    db.session.execute(db.update(Job).where(Job.id == running.id).values(
        state="running", locked_until=utcnow() + dt.timedelta(seconds=60)))
    jobs.commit()
    assert jobs.run_job(running.id) is False  # another worker holds it within its lock
    assert RUNS == [("record", "a")]


def test_two_workers_racing_for_one_job_run_it_once(committed_app):
    app = committed_app
    with app.app_context():
        row = jobs.enqueue("tests.slow_record", "race")
        jobs.discard_pending()
        jobs.commit()
        job_id = row.id
        db.session.remove()
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def worker():
        with app.app_context():
            barrier.wait(10)
            try:
                results.append(jobs.run_job(job_id))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(results) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    GATE.set()  # the winner finishes only after the three losers were refused
    for thread in threads:
        thread.join(20)
    assert sorted(results) == [False, False, False, True]
    assert RUNS == [("slow", "race")]
    with app.app_context():
        assert db.session.get(Job, job_id).state == "done"


def test_a_failing_job_backs_off_then_fails_with_its_error(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RAISE", False)
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "JOBS_RETRY_BACKOFF", 10)
    row = jobs.enqueue("tests.explode", 7)
    started = utcnow()
    jobs.commit()  # runs at once and fails
    (first,) = rows(id=row.id)
    assert first.state == "pending" and first.attempts == 1
    assert first.last_error == "RuntimeError: boom 7"
    # Backoff 10 s * 2**(1-1) = 10 s after the failure.
    assert dt.timedelta(seconds=9) <= first.run_after - started <= dt.timedelta(seconds=12)
    assert jobs.relay_jobs().redriven == []  # not due yet

    later = first.run_after + dt.timedelta(seconds=1)
    assert jobs.relay_jobs(now=later).redriven == [row.id]  # run again: fails for good
    (second,) = rows(id=row.id)
    assert second.state == "failed" and second.attempts == 2 and second.redriven == 1
    assert RUNS == [("explode", 7), ("explode", 7)]
    assert jobs.relay_jobs(now=later + dt.timedelta(hours=1)).redriven == []


def test_the_relay_re_drives_lost_and_orphaned_jobs_and_leaves_fresh_ones(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RELAY_GRACE", 30)
    lost = jobs.enqueue("tests.record", "lost")  # its hand-off never happened (broker away)
    orphan = jobs.enqueue("tests.record", "orphan")  # its worker was killed
    fresh = jobs.enqueue("tests.record", "fresh")  # its hand-off is under way
    later = jobs.enqueue("tests.record", "later", delay=3600)
    jobs.discard_pending()
    now = utcnow()
    db.session.flush()
    db.session.execute(db.update(Job).where(Job.id == lost.id).values(
        created_at=now - dt.timedelta(seconds=31), run_after=now - dt.timedelta(seconds=31)))
    db.session.execute(db.update(Job).where(Job.id == orphan.id).values(
        state="running", attempts=1, locked_until=now - dt.timedelta(seconds=1)))
    jobs.commit()

    result = jobs.relay_jobs(now=now)
    assert sorted(result.redriven) == sorted([lost.id, orphan.id])
    assert sorted(RUNS) == [("record", "lost"), ("record", "orphan")]
    states = {r.id: (r.state, r.redriven, r.attempts) for r in rows()}
    assert states[lost.id] == ("done", 1, 1)
    assert states[orphan.id] == ("done", 1, 2)
    assert states[fresh.id] == ("pending", 0, 0)
    assert states[later.id] == ("pending", 0, 0)

    # The delayed one runs when its time has come, without waiting for the grace.
    result = jobs.relay_jobs(now=now + dt.timedelta(seconds=3601))
    assert later.id in result.redriven and fresh.id in result.redriven
    assert sorted(RUNS)[-1] == ("record", "orphan") and ("record", "later") in RUNS


def test_periodic_jobs_are_enqueued_once_per_slot_by_any_number_of_relays(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_PURGE_INTERVAL", 0)  # only the test's periodic job
    monkeypatch.setitem(jobs._PERIODIC, "tests.record", ("TEST_PERIOD", 60))
    monkeypatch.setitem(app.config, "TEST_PERIOD", 60)
    monkeypatch.setitem(jobs._REGISTRY, "tests.record", lambda *args: RUNS.append(("tick",)))
    slot = dt.datetime(2026, 11, 29, 12, 0, 5, tzinfo=dt.UTC)
    assert jobs.relay_jobs(now=slot).periodic == ["tests.record"]
    assert jobs.relay_jobs(now=slot + dt.timedelta(seconds=30)).periodic == []  # same slot
    assert jobs.relay_jobs(now=slot + dt.timedelta(seconds=60)).periodic == ["tests.record"]
    assert RUNS == [("tick",), ("tick",)]
    keys = [r.dedupe_key for r in rows(name="tests.record")]
    # 12:00:05 and 12:01:05 fall in slots floor(t / 60): two keys, one apart.
    base = int(slot.timestamp() // 60)
    assert keys == [f"tests.record@{base}", f"tests.record@{base + 1}"]


def test_the_embedded_relay_makes_the_pdf_whose_job_was_lost(committed_app, tmp_path):
    app = make_app(committed_app.config["SQLALCHEMY_DATABASE_URI"], JOBS_RELAY_INTERVAL=0.2,
                   JOBS_RELAY_GRACE=0.5, MAIL_FOLDER=str(tmp_path / "mail"))
    relay = app.extensions["job_relay"]
    assert isinstance(relay, EmbeddedRelay)
    with app.app_context():
        make = Factory()
        invoice = make.invoice(make.event())
        jobs.commit()
        svc.close_invoice(invoice, actor=ACTOR)
        jobs.discard_pending()  # as if the process died right after the commit
        db.session.commit()
        invoice_id = invoice.id
        db.session.remove()
    client = app.test_client()
    client.get("/")  # the first request starts the relay thread
    started = time.monotonic()
    try:
        deadline = started + 20
        stored = None
        while time.monotonic() < deadline and stored is None:
            time.sleep(0.1)
            with app.app_context():
                stored = db.session.get(InvoiceDocument, invoice_id)
                db.session.remove()
        assert stored is not None, "the relay did not make the PDF"
        # Bound: grace 0.5 s + first pause min(interval, 5) = 0.2 s + a render, well under 20 s.
        with app.app_context():
            (row,) = [r for r in db.session.scalars(select(Job)) if r.args == [invoice_id]]
            assert (row.state, row.redriven, row.attempts) == ("done", 1, 1)
            assert db.session.get(Invoice, invoice_id).pdf_sha256 == stored.sha256
    finally:
        relay.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_flask_jobs_lists_pending_running_failed_and_redriven_with_ages(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_RAISE", False)
    monkeypatch.setitem(app.config, "JOBS_MAX_ATTEMPTS", 1)
    waiting = jobs.enqueue("tests.record", "waiting")
    jobs.discard_pending()
    broken = jobs.enqueue("tests.explode", "x")
    jobs.commit()  # fails for good at once (one attempt)
    db.session.execute(db.update(Job).where(Job.id == waiting.id).values(
        created_at=utcnow() - dt.timedelta(minutes=5), redriven=2))
    db.session.commit()

    output = app.test_cli_runner().invoke(args=["jobs"]).output
    sections = output.split("\n")
    assert "pending (1):" in sections and "failed (1):" in sections
    assert "running (0):" in sections and "redriven (1):" in sections
    assert f"  #{waiting.id} tests.record('waiting',) pending, age 5m, attempts 0, " \
           "re-driven 2" in output
    assert f"#{broken.id} tests.explode('x',) failed" in output
    assert "last error: RuntimeError: boom x" in output


def test_the_settings_of_the_outbox_and_the_rate_limits_come_from_the_environment(
        monkeypatch, tmp_path):
    monkeypatch.setenv("JOBS_VISIBILITY_TIMEOUT", "42")
    monkeypatch.setenv("JOBS_RELAY_INTERVAL", "3")
    monkeypatch.setenv("CELERY_KEY_PREFIX", "deploy-b:")
    monkeypatch.setenv("LOGIN_LIMIT_PER_IP", "5 per minute")
    config = load_config(str(tmp_path))
    assert config["JOBS_VISIBILITY_TIMEOUT"] == 42.0 and config["JOBS_RELAY_INTERVAL"] == 3.0
    assert config["CELERY_KEY_PREFIX"] == "deploy-b:"
    assert config["LOGIN_LIMIT_PER_IP"] == "5 per minute"
    # The others keep today's values.
    assert config["LOGIN_LIMIT_PER_ACCOUNT"] == "10 per 15 minutes"
    assert config["API_AUTH_FAILURE_LIMIT"] == "30 per minute"
    assert config["CUSTOMER_ACCESS_RATE_LIMIT"] == "10 per minute;100 per day"
    assert config["JOBS_RELAY_GRACE"] == 30.0 and config["JOBS_MAX_ATTEMPTS"] == 5


def test_no_job_row_is_left_unfinished_by_a_normal_close_and_send(app, make):
    event = make.event()
    customer = make.customer(event.organizer, email="buyer@example.com")
    invoice = make.invoice(event, customer)
    jobs.commit()
    svc.close_invoice(invoice, actor=ACTOR)
    jobs.commit()
    svc.send_invoice(db.session.get(Invoice, invoice.id), actor=ACTOR)
    jobs.commit()
    counts = dict(db.session.execute(select(Job.name, func.count()).where(
        Job.state == "done").group_by(Job.name)).all())
    assert counts == {"portal.render_document": 1, "portal.deliver_sending": 1}
    assert rows(state="pending") == [] and rows(state="running") == []


def test_the_periodic_purge_forgets_old_done_jobs_and_keeps_the_rest(app, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_KEEP_DONE_DAYS", 7)
    now = utcnow()
    table = [("old_done", "done", 8), ("new_done", "done", 6), ("old_failed", "failed", 30),
             ("old_pending", "pending", 30)]  # label, state, days since its last change
    made = {label: jobs.enqueue("tests.record", label) for label, _, _ in table}
    jobs.discard_pending()
    db.session.flush()
    for label, state, age_days in table:
        db.session.execute(db.update(Job).where(Job.id == made[label].id).values(
            state=state, updated_at=now - dt.timedelta(days=age_days)))
    jobs.commit()
    assert "portal.purge_jobs" in jobs.periodic_jobs()
    result = jobs.relay_jobs()  # enqueues the purge (its slot is due) and runs it
    assert "portal.purge_jobs" in result.periodic
    left = {r.args[0] for r in rows(name="tests.record")}
    assert left == {"new_done", "old_failed", "old_pending"}
    (purge,) = rows(name="portal.purge_jobs")
    assert purge.state == "done"


def test_under_gunicorn_each_worker_relays_and_every_lost_job_runs_once(committed_app,
                                                                       tmp_path):
    """The production server with two forked workers, each with its own relay thread, and
    three closes whose hand-off never happened (the process died after the commit)."""
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    assert "job_relay" not in committed_app.extensions  # tests never relay unasked
    with committed_app.app_context():
        make = Factory()
        event_ = make.event()
        lost = []
        for _ in range(3):
            invoice = make.invoice(event_)
            svc.close_invoice(invoice, actor=ACTOR)
            jobs.discard_pending()
            db.session.commit()
            lost.append(invoice.id)
        db.session.remove()
    with Gunicorn(url, tmp_path, workers=2, JOBS_RELAY_INTERVAL=0.3,
                  JOBS_RELAY_GRACE=0.5) as server:
        started = time.monotonic()
        for _ in range(4):  # a request or two reaches each worker: each starts its relay
            with urllib.request.urlopen(f"{server.base}/", timeout=10) as response:
                assert response.status == 200

        def documents():
            with committed_app.app_context(), reading():
                found = {i: db.session.get(InvoiceDocument, i) for i in lost}
                found = {i: (d.content, d.sha256) if d else None for i, d in found.items()}
                db.session.remove()
                return found

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(documents().values()):
            time.sleep(0.1)
        recovered = time.monotonic() - started
        found = documents()
        assert all(found.values()), server.errors()
        time.sleep(1.0)  # a few more rounds in both workers change nothing
        assert documents() == found
        with committed_app.app_context(), reading():
            rows = [r for r in db.session.scalars(select(Job))
                    if r.name == "portal.render_document"]
            assert sorted(r.args[0] for r in rows) == sorted(lost)
            assert all((r.state, r.attempts, r.redriven) == ("done", 1, 1) for r in rows)
            db.session.remove()
        errors = server.errors()
    for content, sha in found.values():
        assert hashlib.sha256(content).hexdigest() == sha
    assert "job relay re-drives job(s)" in errors
    assert "Traceback" not in errors, errors
    print(f"gunicorn relays made {len(lost)} lost documents {recovered:.2f}s after the first "
          "request")
