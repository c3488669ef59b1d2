"""The outbox with real processes: Celery workers (with their embedded beat, which runs the
relay) started here, a real Redis, a real SMTP server (aiosmtpd), real commits.

- The broker outage uses a private `redis-server` on a free port, stopped and started again.
- The killed workers use the local Redis (127.0.0.1:6379) under a key prefix and a queue of
  this run's own (`CELERY_KEY_PREFIX`, `CELERY_QUEUE`), so nothing here meets a deployment's
  queues or another run's; the test checks that every key it made carries the prefix.

Every wait is bounded and every process started here is stopped here. The intervals are
short (relay every second, visibility timeout 3 s) so the bounds are too.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from portal import jobs
from portal.config import ROOT
from portal.db_setup import reading
from portal.extensions import db
from portal.models import Invoice, InvoiceDocument, Job, Sending
from portal.services import invoices as svc
from portal.services import mail

from ..conftest import make_app
from ..factories import ACTOR, Factory, line
from .test_mail import SmtpServer, free_port

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
RELAY_INTERVAL = 1  # seconds between relay rounds (beat)
RELAY_GRACE = 1  # seconds a fresh job is left to its own hand-off
VISIBILITY_TIMEOUT = 3  # seconds a claimed job may run before it is handed out again
WAIT = 60  # the bound on every wait, in seconds
# A job whose worker died is done within: the visibility timeout, a relay interval, the new
# worker's start (a few seconds on a busy machine) and the work itself.
RECOVERY_BOUND = 40

pytestmark = pytest.mark.concurrency


def wait_for(condition, what: str, timeout: float = WAIT, interval: float = 0.05, logs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs() if logs else ''}")


class RedisServer:
    """A private redis-server on a free port, without persistence; stop and start at will."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.log_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.log_dir)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        wait_for(lambda: _pings(client), "redis-server to answer", timeout=10)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=WAIT)
        self.process = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class Workers:
    """`celery -A portal.worker worker -B` processes (the beat inside runs the relay); kill
    them; always clean up."""

    def __init__(self, env: dict, queue: str, log_dir: Path):
        self.env, self.queue, self.log_dir = env, queue, log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        number = len(self.processes) + 1
        log = (self.log_dir / f"worker-{number}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal.worker", "worker", "-B",
             "--schedule", str(self.log_dir / f"celerybeat-schedule-{number}"),
             "--pool=solo", "--queues", self.queue,
             "--hostname", f"{self.queue}-{number}@%h", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: no warm shutdown, nothing finished or recorded, as when a machine dies."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.kill(process)

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-4000:]
                         for path in sorted(self.log_dir.glob("worker-*.log")))


def portal_with_workers(committed_app, tmp_path, smtp: SmtpServer, broker: str, **extra):
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    queue = f"portal-test-{uuid.uuid4().hex[:12]}"
    settings = {"CELERY_BROKER_URL": broker, "CELERY_QUEUE": queue,
                "CELERY_KEY_PREFIX": f"{queue}:", "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": smtp.port, "MAIL_FOLDER": str(tmp_path / "mail"),
                "JOBS_RELAY_INTERVAL": RELAY_INTERVAL, "JOBS_RELAY_GRACE": RELAY_GRACE,
                "JOBS_VISIBILITY_TIMEOUT": VISIBILITY_TIMEOUT, **extra}
    app = make_app(url, **settings)
    jobs._broker_away_until = 0.0  # a broker found away by an earlier test is not this one's
    env = {**os.environ, **{key: str(value) for key, value in settings.items()},
           "PORTAL_ENV": "testing", "DATABASE_URL": url, "MAIL_TIMEOUT": "20",
           "PORTAL_INSTANCE_PATH": str(tmp_path / "instance")}
    return app, Workers(env, queue, tmp_path), queue


def read(app, model, ident):
    """A fresh read in its own session (the workers write from other processes); marked as a
    read, so on SQLite it does not wait for a worker's write transaction."""
    with app.app_context(), reading():
        obj = db.session.get(model, ident)
        db.session.expunge_all()
        return obj


def job_rows(app) -> list[Job]:
    with app.app_context(), reading():
        found = list(db.session.scalars(db.select(Job).order_by(Job.id)))
        db.session.expunge_all()
        return found


def close_up(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def worker_ready(workers: Workers, number: int) -> bool:
    path = workers.log_dir / f"worker-{number}.log"
    return path.exists() and " ready." in path.read_text(errors="replace")


def test_closes_and_sends_during_a_broker_outage_are_all_done_once_it_is_back(
        committed_app, tmp_path):
    broker = RedisServer(tmp_path)
    broker.start()
    with SmtpServer() as smtp:
        app, workers, _ = portal_with_workers(committed_app, tmp_path, smtp, broker.url)
        try:
            workers.start()
            wait_for(lambda: worker_ready(workers, 1), "the worker", logs=workers.logs)
            with app.app_context():
                make = Factory()
                event = make.event()
                buyer = make.customer(event.organizer, email="buyer@example.com")
                drafts = [make.invoice(event, buyer) for _ in range(4)]
                jobs.commit()
                broker.stop()  # the broker goes away; the app and the worker stay up

                slowest = 0.0
                for draft in drafts:
                    started = time.monotonic()
                    svc.close_invoice(draft, actor=ACTOR)
                    jobs.commit()  # committed; the hand-off fails and is only logged
                    slowest = max(slowest, time.monotonic() - started)
                sending_ids = []
                for draft in drafts[:2]:
                    started = time.monotonic()
                    invoice = db.session.get(Invoice, draft.id)
                    sending_ids.append(svc.send_invoice(invoice, actor=ACTOR).id)
                    jobs.commit()
                    slowest = max(slowest, time.monotonic() - started)
                invoice_ids = [draft.id for draft in drafts]
                db.session.remove()
            assert slowest < 3, f"a step waited {slowest:.2f}s on the broker"
            rows = [r for r in job_rows(app) if r.name != "portal.purge_jobs"]
            assert [(r.name, r.state) for r in rows] == (
                [("portal.render_document", "pending")] * 4
                + [("portal.deliver_sending", "pending")] * 2)
            time.sleep(RELAY_GRACE + RELAY_INTERVAL)
            assert all(read(app, Invoice, i).pdf_sha256 is None for i in invoice_ids)
            assert smtp.messages == []

            back = time.monotonic()
            broker.start()  # same port; nobody runs a command
            for invoice_id in invoice_ids:
                wait_for(lambda i=invoice_id: read(app, InvoiceDocument, i),
                         f"the PDF of invoice {invoice_id}", logs=workers.logs)
            for sending_id in sending_ids:
                wait_for(lambda s=sending_id: read(app, Sending, s).outcome != "queued",
                         f"sending {sending_id}", logs=workers.logs)
            recovered = time.monotonic() - back
            print(f"after the broker came back, 4 PDFs and 2 mails were done in "
                  f"{recovered:.1f}s")

            time.sleep(RELAY_GRACE + 2 * RELAY_INTERVAL)  # later relay rounds change nothing
            sendings = [read(app, Sending, s) for s in sending_ids]
            assert [s.outcome for s in sendings] == ["sent", "sent"]
            assert len(smtp.messages) == 2  # each mail exactly once
            assert sorted(smtp.parsed(i)["Message-ID"] for i in (0, 1)) == sorted(
                s.message_id for s in sendings)
            for invoice_id in invoice_ids:
                stored = read(app, InvoiceDocument, invoice_id)
                assert hashlib.sha256(stored.content).hexdigest() == read(
                    app, Invoice, invoice_id).pdf_sha256
            rows = job_rows(app)
            purges = [r for r in rows if r.name == "portal.purge_jobs"]
            assert len(purges) == 1 and purges[0].state == "done"  # one per hour's slot
            rows = [r for r in rows if r.name != "portal.purge_jobs"]
            assert len(rows) == 6  # the relay itself is beat's task, not a job row
            assert all(r.state == "done" and r.attempts == 1 and r.redriven >= 1 for r in rows)
            with app.app_context():
                documents = db.session.scalar(db.select(db.func.count()).select_from(
                    InvoiceDocument).where(InvoiceDocument.invoice_id.in_(invoice_ids)))
            assert documents == 4
        finally:
            smtp.hold.clear()
            workers.stop_all()
            broker.stop()
            close_up(app)


def test_a_worker_killed_mid_render_and_mid_delivery_is_replaced_within_the_bound(
        committed_app, tmp_path):
    with SmtpServer() as smtp:
        app, workers, queue = portal_with_workers(committed_app, tmp_path, smtp, LOCAL_REDIS)
        prefix = f"{queue}:"
        client = redis.Redis.from_url(LOCAL_REDIS)
        try:
            # A long invoice (150 lines) takes seconds to render: time to kill mid-render.
            with app.app_context():
                make = Factory()
                event = make.event()
                buyer = make.customer(event.organizer, email="buyer@example.com")
                invoice = make.invoice(event, buyer, lines=[
                    line(f"Item {i}", "1", "1.00") for i in range(150)])
                jobs.commit()
                invoice_id = invoice.id
                db.session.remove()
            first = workers.start()
            wait_for(lambda: worker_ready(workers, 1), "the first worker", logs=workers.logs)
            with app.app_context():
                svc.close_invoice(db.session.get(Invoice, invoice_id), actor=ACTOR)
                jobs.commit()
                db.session.remove()

            def running(name):
                return [r for r in job_rows(app) if r.name == name and r.state == "running"]

            (render,) = wait_for(lambda: running("portal.render_document"),
                                 "the worker to take the render job", logs=workers.logs)
            workers.kill(first)
            killed = time.monotonic()
            assert read(app, InvoiceDocument, invoice_id) is None  # killed mid-render
            assert read(app, Job, render.id).state == "running"

            second = workers.start()
            wait_for(lambda: read(app, InvoiceDocument, invoice_id),
                     "the replacement worker to make the PDF", timeout=RECOVERY_BOUND,
                     logs=workers.logs)
            rendered_after = time.monotonic() - killed
            done = read(app, Job, render.id)
            assert (done.state, done.attempts, done.redriven) == ("done", 2, 1)
            stored = read(app, InvoiceDocument, invoice_id)
            assert stored.content.startswith(b"%PDF-")
            assert hashlib.sha256(stored.content).hexdigest() == read(
                app, Invoice, invoice_id).pdf_sha256

            # Mid-delivery: the server has the message, the worker dies before the answer.
            smtp.hold.set()
            wait_for(lambda: worker_ready(workers, 2), "the second worker", logs=workers.logs)
            with app.app_context():
                sending_id = svc.send_invoice(db.session.get(Invoice, invoice_id),
                                              actor=ACTOR).id
                jobs.commit()
            wait_for(lambda: len(smtp.messages) == 1, "the mail to reach the server",
                     logs=workers.logs)
            workers.kill(second)
            killed = time.monotonic()
            smtp.hold.clear()
            claimed = read(app, Sending, sending_id)
            assert claimed.outcome == "queued" and claimed.message_id is not None

            workers.start()
            settled = wait_for(
                lambda: (s := read(app, Sending, sending_id)).outcome != "queued" and s,
                "the re-driven delivery to settle", timeout=RECOVERY_BOUND, logs=workers.logs)
            settled_after = time.monotonic() - killed
            # Never plainly failed, never sent twice: "unknown — check before resending".
            assert settled.outcome == "unknown" and settled.error == mail.INTERRUPTED
            assert settled.message_id == claimed.message_id
            message = email.message_from_bytes(smtp.messages[0][1],
                                               policy=email.policy.default)
            assert message["Message-ID"] == settled.message_id
            assert read(app, Invoice, invoice_id).status == "sent"
            time.sleep(RELAY_GRACE + 2 * RELAY_INTERVAL)
            assert len(smtp.messages) == 1
            (delivery,) = [r for r in job_rows(app) if r.name == "portal.deliver_sending"]
            assert (delivery.state, delivery.attempts, delivery.redriven) == ("done", 2, 1)
            print(f"killed mid-render: PDF made {rendered_after:.1f}s later; killed "
                  f"mid-delivery: settled {settled_after:.1f}s later (bound {RECOVERY_BOUND}s)")

            # Isolation: this run's broker keys all carry its prefix.
            ours = [key.decode() for key in client.scan_iter(match=f"*{queue}*")]
            assert ours and all(key.startswith(prefix) for key in ours), ours
        finally:
            smtp.hold.clear()
            workers.stop_all()
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
            client.close()
            close_up(app)


def test_the_worker_settings(database_url):
    app = make_app(database_url, CELERY_BROKER_URL=LOCAL_REDIS, JOBS_RELAY_INTERVAL=7,
                   CELERY_VISIBILITY_TIMEOUT=900, CELERY_KEY_PREFIX="deploy-a:",
                   CELERY_QUEUE="deploy-a")
    celery = app.extensions["celery"]
    conf = celery.conf
    # The outbox re-drives a dead worker's job: the broker acknowledges on receipt.
    assert conf.task_acks_late is False and conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options == {"visibility_timeout": 900,
                                             "global_keyprefix": "deploy-a:"}
    assert conf.beat_schedule == {"relay-jobs": {
        "task": "portal.relay_jobs", "schedule": 7.0,
        "options": {"queue": "deploy-a", "expires": 10.0}}}
    assert {"portal.run_job", "portal.relay_jobs", "portal.render_document",
            "portal.deliver_sending"} <= set(celery.tasks)
    # No embedded relay thread beside Celery.
    assert "job_relay" not in app.extensions

    quiet = make_app(database_url, CELERY_BROKER_URL=LOCAL_REDIS, JOBS_RELAY_INTERVAL=0)
    assert not quiet.extensions["celery"].conf.beat_schedule
    for made in (app, quiet):
        close_up(made)
