"""The document sweep (portal/sweeper.py) in the embedded default, on a database with real
commits: it makes the documents of record whose job died, only those, only once.

Every wait is bounded; every thread started here is stopped here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import urllib.request

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import make_server

from portal import jobs
from portal.db_setup import reading
from portal.extensions import db
from portal.models import Invoice, InvoiceDocument
from portal.models.types import utcnow
from portal.services import documents
from portal.services import invoices as svc
from portal.sweeper import Failures, sweep_documents

from ..conftest import make_app
from ..factories import ACTOR, Factory
from ..servers import Gunicorn

GRACE = 120  # seconds
WAIT = 60  # the bound on every wait, in seconds

pytestmark = pytest.mark.concurrency


def close_with_lost_job(invoice: Invoice, *, closed_ago: float = 0.0) -> int:
    """Commit a close whose render job died: it was queued, then never ran."""
    svc.close_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    if closed_ago:
        invoice.closed_at = utcnow() - dt.timedelta(seconds=closed_ago)
    invoice_id = invoice.id
    db.session.commit()
    return invoice_id


def close_and_store(invoice: Invoice) -> int:
    svc.close_invoice(invoice, actor=ACTOR)
    invoice_id = invoice.id
    jobs.commit()  # the embedded default runs the render job right after the commit
    return invoice_id


def snapshot(invoice_id: int) -> tuple[bytes, str, str | None] | None:
    """(content, document sha256, invoice pdf_sha256) read fresh, or None without one.

    The read ends its transaction: on SQLite it would hold the write lock for the test.
    """
    db.session.expire_all()
    try:
        document = db.session.get(InvoiceDocument, invoice_id)
        if document is None:
            return None
        return document.content, document.sha256, db.session.get(Invoice, invoice_id).pdf_sha256
    finally:
        db.session.rollback()


def document_rows(invoice_id: int) -> int:
    return db.session.scalar(select(db.func.count()).select_from(InvoiceDocument)
                             .where(InvoiceDocument.invoice_id == invoice_id))


@pytest.fixture
def sweep_app(committed_app):
    with committed_app.app_context():
        yield committed_app
        db.session.remove()


def test_the_sweep_makes_the_missing_documents_past_the_grace_and_only_those(sweep_app):
    make = Factory()
    event_ = make.event()
    draft = make.invoice(event_)
    jobs.commit()
    present = close_and_store(make.invoice(event_))
    lost = close_with_lost_job(make.invoice(event_), closed_ago=GRACE + 60)
    fresh = close_with_lost_job(make.invoice(event_))   # its job may still be on the way
    before = snapshot(present)
    assert before is not None and snapshot(lost) is None and snapshot(fresh) is None

    result = sweep_documents(grace=GRACE)

    assert result.stored == [lost] and result.kept == [] and result.failed == []
    content, sha, invoice_sha = snapshot(lost)
    assert hashlib.sha256(content).hexdigest() == sha == invoice_sha
    assert content.startswith(b"%PDF-") and documents.count_pages(content) == 1
    assert snapshot(fresh) is None                   # inside the grace period: left to its job
    assert snapshot(present) == before               # never re-made
    assert db.session.get(Invoice, draft.id).is_draft and snapshot(draft.id) is None

    again = sweep_documents(grace=GRACE)
    assert not again                                 # idempotent: nothing left to do
    assert snapshot(lost) == (content, sha, invoice_sha)

    # Once the grace period has passed, the fresh one is made too.
    later = sweep_documents(grace=GRACE, now=utcnow() + dt.timedelta(seconds=GRACE + 1))
    assert later.stored == [fresh]
    assert snapshot(present) == before and snapshot(lost) == (content, sha, invoice_sha)


def test_a_sweep_never_changes_a_stored_document(sweep_app):
    make = Factory()
    event_ = make.event()
    invoice_ids = [close_and_store(make.invoice(event_)) for _ in range(2)]
    # One with the invoice's hash column cleared (as a half-restored backup might leave it):
    # the stored bytes are what counts, so the sweep leaves it alone as well.
    db.session.execute(update(Invoice).where(Invoice.id == invoice_ids[1])
                       .values(pdf_sha256=None))
    db.session.commit()
    before = {i: snapshot(i) for i in invoice_ids}

    far_future = utcnow() + dt.timedelta(days=365)
    for _ in range(2):
        assert not sweep_documents(grace=0, now=far_future)
    assert {i: snapshot(i) for i in invoice_ids} == before

    # Storing other bytes for it hands back the document of record, unchanged.
    kept = documents.store_pdf(invoice_ids[0], b"%PDF-1.4 other bytes")
    db.session.commit()
    assert kept.sha256 == before[invoice_ids[0]][1]
    assert snapshot(invoice_ids[0]) == before[invoice_ids[0]]
    assert document_rows(invoice_ids[0]) == 1


def test_an_invoice_that_fails_to_render_is_retried_later_and_starves_no_other(
        sweep_app, monkeypatch):
    make = Factory()
    event_ = make.event()
    broken = close_with_lost_job(make.invoice(event_), closed_ago=GRACE + 120)
    other = close_with_lost_job(make.invoice(event_), closed_ago=GRACE + 60)
    broken_number = db.session.get(Invoice, broken).number
    db.session.rollback()
    make_pdf = documents.make_pdf

    def fails_for_one(context):
        if context["number"] == broken_number:
            raise RuntimeError("the invoice PDF could not be rendered (1 errors)")
        return make_pdf(context)

    monkeypatch.setattr(documents, "make_pdf", fails_for_one)
    failures = Failures(retry_after=60)
    first = sweep_documents(grace=GRACE, limit=1, failures=failures)
    assert first.failed == [broken] and first.stored == []
    assert snapshot(broken) is None
    second = sweep_documents(grace=GRACE, limit=1, failures=failures)   # the oldest rests
    assert second.stored == [other] and second.failed == []
    assert sweep_documents(grace=GRACE, limit=1, failures=failures).stored == []

    # Once it has rested (and the renderer is fixed), it is made.
    monkeypatch.setattr(documents, "make_pdf", make_pdf)
    assert sweep_documents(grace=GRACE, limit=1, failures=Failures(retry_after=0)).stored == [
        broken]
    assert snapshot(broken) is not None


def test_the_invoice_id_is_the_documents_primary_key_so_a_second_row_is_refused(sweep_app):
    make = Factory()
    invoice_id = close_and_store(make.invoice(make.event()))
    db.session.add(InvoiceDocument(invoice_id=invoice_id, content=b"x", sha256="0" * 64,
                                   size=1, pages=1))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert document_rows(invoice_id) == 1


def test_two_sweeps_at_once_store_one_document(sweep_app, monkeypatch):
    app = sweep_app
    make = Factory()
    invoice_id = close_with_lost_job(make.invoice(make.event()), closed_ago=GRACE + 60)
    db.session.remove()

    # Both sweeps have read the invoice without a document and rendered it before either
    # stores: the race the row lock (PostgreSQL) or the write lock (SQLite) must settle.
    both_rendered = threading.Barrier(2, timeout=WAIT)
    rendered: list[bytes] = []
    make_pdf = documents.make_pdf

    def render_then_meet(context):
        pdf = make_pdf(context)
        rendered.append(pdf)
        both_rendered.wait()
        return pdf

    monkeypatch.setattr(documents, "make_pdf", render_then_meet)
    inserts: list[str] = []

    def count_inserts(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO INVOICE_DOCUMENTS"):
            inserts.append(statement)

    results, errors = [], []

    def sweep():
        try:
            with app.app_context():
                results.append(sweep_documents(grace=GRACE))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    event.listen(db.engine, "before_cursor_execute", count_inserts)
    try:
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=WAIT)
        assert not any(thread.is_alive() for thread in threads)
    finally:
        event.remove(db.engine, "before_cursor_execute", count_inserts)

    assert errors == []
    assert len(rendered) == 2
    assert sorted((r.stored, r.kept, r.failed) for r in results) == [
        ([], [invoice_id], []), ([invoice_id], [], [])]
    assert len(inserts) == 1
    assert document_rows(invoice_id) == 1
    content, sha, invoice_sha = snapshot(invoice_id)
    assert content in rendered
    assert hashlib.sha256(content).hexdigest() == sha == invoice_sha


def test_no_lock_is_held_while_the_sweep_renders(sweep_app, monkeypatch):
    """Another writer takes the invoice's row (PostgreSQL) or the write lock (SQLite) at once
    while the sweep is rendering: the sweep holds locks only to read and to store."""
    app = sweep_app
    make = Factory()
    invoice_id = close_with_lost_job(make.invoice(make.event()), closed_ago=GRACE + 60)
    db.session.remove()
    make_pdf = documents.make_pdf
    waits: list[float] = []

    def write_meanwhile(context):
        started = time.monotonic()
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # before SQLAlchemy's BEGIN IMMEDIATE
                conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=1000")
            else:
                conn.execute(text("SET lock_timeout = '1s'"))
            conn.execute(update(Invoice).where(Invoice.id == invoice_id)
                         .values(updated_at=utcnow()))
            conn.commit()
        waits.append(time.monotonic() - started)
        return make_pdf(context)

    monkeypatch.setattr(documents, "make_pdf", write_meanwhile)
    with app.app_context():
        result = sweep_documents(grace=GRACE)
    assert result.stored == [invoice_id]
    assert len(waits) == 1 and waits[0] < 1.0
    assert snapshot(invoice_id) is not None


def test_the_sweeps_reads_wait_for_no_writer(sweep_app):
    """While another transaction writes (SQLite: holds the write lock; PostgreSQL: the
    invoice's row), the sweep still finds and reads the invoice at once."""
    make = Factory()
    invoice_id = close_with_lost_job(make.invoice(make.event()), closed_ago=GRACE + 60)
    db.session.remove()
    with db.engine.connect() as writer:
        writer.execute(update(Invoice).where(Invoice.id == invoice_id)
                       .values(updated_at=utcnow()))
        started = time.monotonic()
        with reading():
            found = documents.missing_document_ids(closed_before=utcnow(), limit=10)
            context = documents.pending_document_context(invoice_id)
        db.session.rollback()
        waited = time.monotonic() - started
        writer.rollback()
    assert found == [invoice_id] and context["number"]
    assert waited < 2.0, waited


def test_the_embedded_sweeper_starts_with_the_server_and_recovers_a_lost_document(
        committed_app):
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    assert "document_sweeper" not in committed_app.extensions   # tests never sweep unasked
    assert committed_app.config["DOCUMENT_SWEEP_INTERVAL"] == 0

    app = make_app(url, DOCUMENT_SWEEP_INTERVAL=0.2, DOCUMENT_SWEEP_GRACE=0.5)
    sweeper = app.extensions["document_sweeper"]
    with app.app_context():
        invoice_id = close_with_lost_job(Factory().invoice(Factory().event()))
        closed = time.monotonic()
        db.session.remove()
    assert sweeper.sweeps == 0  # no thread until the server serves a request

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/", timeout=10) as response:  # starts the sweeper
            assert response.status == 200
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with app.app_context():
                found = snapshot(invoice_id)
                db.session.remove()
            if found:
                break
            time.sleep(0.1)
        recovered = time.monotonic() - closed
        assert found, f"no document after {WAIT}s"
        content, sha, invoice_sha = found
        assert hashlib.sha256(content).hexdigest() == sha == invoice_sha
        assert recovered < 10, recovered
        print(f"embedded sweeper recovered the document {recovered:.2f}s after the close")
        swept = sweeper.sweeps
        deadline = time.monotonic() + WAIT
        while sweeper.sweeps < swept + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        with app.app_context():
            assert snapshot(invoice_id) == found  # later sweeps leave it as it is
            db.session.remove()
    finally:
        sweeper.stop()
        server.shutdown()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_under_gunicorn_each_worker_sweeps_and_the_document_is_stored_once(committed_app,
                                                                         tmp_path):
    """The production server with two forked workers, each with its own sweeper thread."""
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    with committed_app.app_context():
        make = Factory()
        event_ = make.event()
        lost = [close_with_lost_job(make.invoice(event_)) for _ in range(3)]
        db.session.remove()
    with Gunicorn(url, tmp_path, workers=2, DOCUMENT_SWEEP_INTERVAL=0.3,
                  DOCUMENT_SWEEP_GRACE=0.5) as server:
        started = time.monotonic()
        for _ in range(4):  # a request or two reaches each worker
            with urllib.request.urlopen(f"{server.base}/", timeout=10) as response:
                assert response.status == 200
        deadline = time.monotonic() + WAIT
        with committed_app.app_context():
            while time.monotonic() < deadline and not all(snapshot(i) for i in lost):
                time.sleep(0.1)
            recovered = time.monotonic() - started
            found = {i: snapshot(i) for i in lost}
            assert all(found.values()), server.errors()
            time.sleep(1.0)  # a few more sweeps in both workers
            assert {i: snapshot(i) for i in lost} == found
            assert all(document_rows(i) == 1 for i in lost)
            db.session.remove()
        errors = server.errors()
    for content, sha, invoice_sha in found.values():
        assert hashlib.sha256(content).hexdigest() == sha == invoice_sha
    assert "document sweep made the missing PDF" in errors
    assert "Traceback" not in errors, errors
    print(f"gunicorn sweepers recovered {len(lost)} documents {recovered:.2f}s after the "
          "first request")
