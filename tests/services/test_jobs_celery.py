"""Real Celery on the local Redis: a worker process started here, on a database with real
commits, making the PDF of record and delivering mail through a real SMTP server.

Each run uses its own queue on Redis database 13, so runs beside each other do not meet.
Every wait is bounded and every process started here is stopped here.
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
from portal.extensions import db
from portal.models import Invoice, Sending
from portal.services import invoices as svc
from portal.services import mail

from ..conftest import make_app
from ..factories import ACTOR, Factory
from .test_mail import SmtpServer, free_port

REDIS_URL = "redis://127.0.0.1:6379/13"
VISIBILITY_TIMEOUT = 2  # seconds before a killed worker's unacknowledged job is handed out again
WAIT = 60  # the bound on every wait, in seconds

pytestmark = pytest.mark.concurrency


def wait_for(condition, what: str, timeout: float = WAIT, interval: float = 0.1, logs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs() if logs else ''}")


class Workers:
    """Start `celery -A portal.worker worker` processes; kill them; always clean up."""

    def __init__(self, env: dict, queue: str, log_dir: Path):
        self.env, self.queue, self.log_dir = env, queue, log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = (self.log_dir / f"worker-{len(self.processes) + 1}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal.worker", "worker", "--pool=solo",
             "--queues", self.queue, "--hostname", f"{self.queue}-{len(self.processes)}@%h",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, as when a machine dies."""
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


@pytest.fixture
def celery_portal(committed_app, tmp_path):
    """An app that queues jobs on Redis, a worker factory with the same settings, and SMTP."""
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    queue = f"portal-test-{uuid.uuid4().hex[:12]}"
    with SmtpServer() as smtp:
        settings = {"CELERY_BROKER_URL": REDIS_URL, "MAIL_SERVER": "127.0.0.1",
                    "MAIL_PORT": smtp.port, "MAIL_FOLDER": str(tmp_path / "mail")}
        app = make_app(url, **settings)
        app.extensions["celery"].conf.task_default_queue = queue
        env = {**os.environ, **{key: str(value) for key, value in settings.items()},
               "PORTAL_ENV": "testing", "DATABASE_URL": url,
               "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
               "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT), "MAIL_TIMEOUT": "20"}
        workers = Workers(env, queue, tmp_path)
        try:
            yield app, workers, smtp
        finally:
            smtp.hold.clear()
            workers.stop_all()
            release(app, queue)


def release(app, queue: str) -> None:
    """After a worker test: forget its Redis queue and close the app's connections."""
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    client.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def read(app, model, ident):
    """A fresh read in its own session (the worker writes from another process)."""
    with app.app_context():
        obj = db.session.get(model, ident)
        db.session.expunge_all()
        return obj


def settled(app, sending_id: int, what: str, logs=None) -> Sending:
    def outcome():
        sending = read(app, Sending, sending_id)
        return sending if sending.outcome != "queued" else None

    return wait_for(outcome, what, logs=logs)


def test_a_worker_makes_the_pdf_and_a_killed_delivery_never_sends_twice(celery_portal):
    app, workers, smtp = celery_portal
    with app.app_context():
        make = Factory()
        event = make.event()
        customer = make.customer(event.organizer, email="buyer@example.com")
        invoice = make.invoice(event, customer)
        token = make.token(event.organizer, read_only=True)
        jobs.commit()
        svc.close_invoice(invoice, actor=ACTOR)
        jobs.commit()  # the render job goes to Redis; nothing runs in this process
        invoice_id, auth = invoice.id, {"Authorization": f"Token {token.plain}"}
        url = (f"/api/v1/organizers/{event.organizer.slug}/events/{event.slug}"
               f"/invoices/{invoice_id}/pdf/")
    client = app.test_client()

    # No worker yet: the document is being prepared.
    first = client.get(url, headers=auth)
    assert first.status_code == 409
    assert first.headers["Retry-After"] == "3"
    assert first.get_json()["error"]["code"] == "document_pending"

    workers.start()

    def stored():
        response = client.get(url, headers=auth)
        if response.status_code == 409:
            assert response.headers["Retry-After"] == "3"
            return None
        return response

    response = wait_for(stored, "the worker to store the PDF", logs=workers.logs)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = response.get_data()
    digest = read(app, Invoice, invoice_id).pdf_sha256
    assert hashlib.sha256(pdf).hexdigest() == digest
    assert response.headers["ETag"] == f'"{digest}"'

    # A mail through the worker: the attachment is the stored PDF.
    with app.app_context():
        sending_id = svc.send_invoice(db.session.get(Invoice, invoice_id), actor=ACTOR).id
        jobs.commit()
    done = settled(app, sending_id, "the first mail", workers.logs)
    assert done.outcome == "sent"
    assert read(app, Invoice, invoice_id).status == "sent"
    assert len(smtp.messages) == 1
    message = email.message_from_bytes(smtp.messages[0][1], policy=email.policy.default)
    assert message["Message-ID"] == done.message_id
    (attachment,) = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_content() == pdf

    # Another mail; the worker is killed after the server has the message but before it
    # answered, so the job is neither finished nor acknowledged.
    smtp.hold.set()
    with app.app_context():
        sending_id = svc.send_invoice(db.session.get(Invoice, invoice_id), actor=ACTOR).id
        jobs.commit()
    wait_for(lambda: len(smtp.messages) == 2, "the second mail to reach the server",
             logs=workers.logs)
    handed_out = time.monotonic()
    workers.kill(workers.processes[0])
    smtp.hold.clear()
    claimed = read(app, Sending, sending_id)
    assert claimed.outcome == "queued" and claimed.claimed_at is not None

    # Restarted: Redis hands the unacknowledged job out again once its visibility timeout
    # has passed; the job finds its sending claimed and does not send it again.
    time.sleep(max(0.0, handed_out + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    workers.start()
    again = settled(app, sending_id, "the redelivered job", workers.logs)
    assert again.outcome == "failed"
    assert again.error == mail.INTERRUPTED
    assert again.message_id == claimed.message_id
    time.sleep(1)
    assert len(smtp.messages) == 2  # one mail per sending, none twice


def test_a_broker_that_is_away_never_fails_a_committed_step(committed_app, caplog):
    """The close is committed; the lost render job is logged and the operator command
    makes the missing PDF."""
    app = make_app(committed_app.config["SQLALCHEMY_DATABASE_URI"],
                   CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        with app.app_context():
            make = Factory()
            invoice = make.invoice(make.event())
            jobs.commit()
            started = time.monotonic()
            svc.close_invoice(invoice, actor=ACTOR)
            jobs.commit()
            assert time.monotonic() - started < 10
            invoice_id = invoice.id
        assert "could not queue job portal.render_document" in caplog.text
        closed = read(app, Invoice, invoice_id)
        assert closed.status == "open" and closed.pdf_sha256 is None

        result = app.test_cli_runner().invoke(args=["render-missing-pdfs"])
        assert f"Invoice {invoice_id}: stored" in result.output
        assert read(app, Invoice, invoice_id).pdf_sha256 is not None
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
