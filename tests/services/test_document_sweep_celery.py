"""The document sweep on real Celery: a worker started here with its embedded beat
(`celery -A portal.worker worker -B`, as the README says) on the local Redis finds a closed
invoice whose render job died and makes its PDF, and leaves stored documents alone.

Each run uses its own queue on Redis database 13; every wait is bounded and every process
started here is stopped here.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from portal import jobs
from portal.config import ROOT
from portal.extensions import db
from portal.models import Invoice, InvoiceDocument
from portal.services import invoices as svc

from ..conftest import make_app
from ..factories import ACTOR, Factory
from .test_jobs_celery import REDIS_URL, Workers, read, release, wait_for

SWEEP_INTERVAL = 1  # seconds, beat's schedule for this test (production: 60)
SWEEP_GRACE = 1  # seconds an invoice is left to its own job (production: 120)
RECOVERY_BOUND = 30  # seconds from the worker's start to the recovered document

pytestmark = pytest.mark.concurrency


class BeatWorkers(Workers):
    """`celery -A portal.worker worker -B`: one worker that also runs beat."""

    def start(self) -> subprocess.Popen:
        log = (self.log_dir / f"worker-{len(self.processes) + 1}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal.worker", "worker", "-B",
             "--schedule", str(self.log_dir / "celerybeat-schedule"), "--pool=solo",
             "--hostname", f"{self.queue}-{len(self.processes)}@%h",
             "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        self.processes.append(process)
        return process


@pytest.fixture
def beat_portal(committed_app, tmp_path):
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    queue = f"portal-test-{uuid.uuid4().hex[:12]}"
    settings = {"CELERY_BROKER_URL": REDIS_URL, "CELERY_QUEUE": queue,
                "MAIL_FOLDER": str(tmp_path / "mail")}
    app = make_app(url, **settings)
    env = {**os.environ, **{key: str(value) for key, value in settings.items()},
           "PORTAL_ENV": "testing", "DATABASE_URL": url,
           "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
           "DOCUMENT_SWEEP_INTERVAL": str(SWEEP_INTERVAL),
           "DOCUMENT_SWEEP_GRACE": str(SWEEP_GRACE)}
    workers = BeatWorkers(env, queue, tmp_path)
    try:
        yield app, workers
    finally:
        workers.stop_all()
        release(app, queue)


def document(app, invoice_id: int) -> tuple[bytes, str, str | None] | None:
    stored = read(app, InvoiceDocument, invoice_id)
    if stored is None:
        return None
    return stored.content, stored.sha256, read(app, Invoice, invoice_id).pdf_sha256


def sweeps_done(logs: str) -> int:
    return len(re.findall(r"Task portal\.sweep_documents\[[^\]]+\] succeeded", logs))


def test_beat_sweeps_and_the_worker_makes_the_pdf_whose_job_died(beat_portal):
    app, workers = beat_portal
    assert app.extensions["celery"].conf.task_acks_late is True
    assert app.extensions["celery"].conf.task_reject_on_worker_lost is True
    with app.app_context():
        make = Factory()
        event = make.event()
        lost = make.invoice(event)
        present = make.invoice(event)
        jobs.commit()
        # The close is committed but its render job is dropped: as if the process that
        # should have sent it, or the worker that took it, died.
        svc.close_invoice(lost, actor=ACTOR)
        jobs.discard_pending()
        lost_id = lost.id
        db.session.commit()
        # Another one got its document the ordinary way (run here, before any worker).
        svc.close_invoice(present, actor=ACTOR)
        present_id = present.id
        jobs.discard_pending()
        db.session.commit()
        jobs.run_now("portal.render_document", present_id)
        db.session.remove()
    kept = document(app, present_id)
    assert kept is not None and document(app, lost_id) is None
    # Nothing in this process will make it: no worker, no embedded sweeper with Celery.
    assert "document_sweeper" not in app.extensions
    time.sleep(SWEEP_GRACE + 0.5)
    assert document(app, lost_id) is None

    started = time.monotonic()
    workers.start()
    made = wait_for(lambda: document(app, lost_id), "beat's sweep to make the lost PDF",
                    timeout=RECOVERY_BOUND, logs=workers.logs)
    recovered = time.monotonic() - started
    content, sha, invoice_sha = made
    assert hashlib.sha256(content).hexdigest() == sha == invoice_sha
    assert content.startswith(b"%PDF-")
    logs = workers.logs()
    assert "Sending due task sweep-documents (portal.sweep_documents)" in logs, logs
    assert "document sweep made the missing PDF of invoice(s)" in logs, logs
    print(f"beat + worker recovered the lost document {recovered:.2f}s after the worker "
          "started")

    # Later sweeps find nothing to do: both documents stay byte for byte as they are.
    done = sweeps_done(workers.logs())
    wait_for(lambda: sweeps_done(workers.logs()) >= done + 2, "two more sweeps",
             logs=workers.logs)
    assert document(app, lost_id) == made
    assert document(app, present_id) == kept
    with app.app_context():
        rows = db.session.scalar(db.select(db.func.count()).select_from(InvoiceDocument)
                                 .where(InvoiceDocument.invoice_id.in_([lost_id, present_id])))
    assert rows == 2


def test_the_worker_settings_redeliver_a_killed_job_and_schedule_the_sweep(database_url):
    app = make_app(database_url, CELERY_BROKER_URL=REDIS_URL, DOCUMENT_SWEEP_INTERVAL=60,
                   CELERY_VISIBILITY_TIMEOUT=900)
    conf = app.extensions["celery"].conf
    assert conf.task_acks_late is True and conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_transport_options["visibility_timeout"] == 900
    assert conf.beat_schedule == {"sweep-documents": {
        "task": "portal.sweep_documents", "schedule": 60.0,
        "options": {"queue": "celery", "expires": 60.0}}, "webhooks-tick": {
        "task": "portal.webhooks_tick", "schedule": 60.0,
        "options": {"queue": "celery", "expires": 60.0}}}
    assert "portal.sweep_documents" in app.extensions["celery"].tasks
    assert "portal.webhooks_tick" in app.extensions["celery"].tasks

    quiet = make_app(database_url, CELERY_BROKER_URL=REDIS_URL, DOCUMENT_SWEEP_INTERVAL=0)
    assert not quiet.extensions["celery"].conf.beat_schedule
    assert "document_sweeper" not in quiet.extensions
