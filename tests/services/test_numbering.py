"""Gapless numbers under real concurrency, with real commits, on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import Event, Invoice, NumberSequence
from portal.services import audit as audit_service
from portal.services import invoices as svc

from ..factories import ACTOR, Factory

pytestmark = pytest.mark.concurrency


def _seed(app, drafts: int) -> tuple[int, list[int]]:
    with app.app_context():
        make = Factory()
        event = make.event(invoice_prefix="SC2026-")
        customer = make.customer(event.organizer)
        ids = [make.invoice(event, customer).id for _ in range(drafts)]
        jobs.commit()
        return event.id, ids


def _close_all(app, ids: list[int], barrier: threading.Barrier) -> list[str]:
    barrier.wait(timeout=30)
    numbers = []
    with app.app_context():
        for invoice_id in ids:
            invoice = db.session.get(Invoice, invoice_id)
            svc.close_invoice(invoice, actor=ACTOR)
            db.session.commit()
            jobs.discard_pending()  # this test is about numbers, not documents
            numbers.append(invoice.number)
        db.session.remove()
    return numbers


def test_50_drafts_closed_from_10_threads_are_numbered_without_gaps(committed_app):
    event_id, ids = _seed(committed_app, 50)
    barrier = threading.Barrier(10)
    chunks = [ids[i::10] for i in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda chunk: _close_all(committed_app, chunk, barrier), chunks))
    numbers = [n for chunk in results for n in chunk]
    expected = [f"SC2026-{i:05d}" for i in range(1, 51)]
    assert sorted(numbers) == expected  # no gap, no duplicate
    with committed_app.app_context():
        rows = db.session.execute(select(Invoice.number, Invoice.sequence_value, Invoice.closed_at)
                                  .where(Invoice.event_id == event_id)
                                  .order_by(Invoice.sequence_value)).all()
        assert [r.number for r in rows] == expected
        closed = [r.closed_at for r in rows]
        assert closed == sorted(closed), "numbers follow closing order"
        last = db.session.scalar(select(NumberSequence.last_value).where(
            NumberSequence.event_id == event_id, NumberSequence.name == "invoice"))
        assert last == 50
        db.session.remove()


def test_a_close_that_fails_midway_consumes_no_number(committed_app, monkeypatch):
    event_id, (first, second) = _seed(committed_app, 2)
    real_record = audit_service.record

    def failing_record(actor, action, **kwargs):
        if action == "close":
            raise RuntimeError("disk full")
        return real_record(actor, action, **kwargs)

    with committed_app.app_context():
        monkeypatch.setattr(svc.audit, "record", failing_record)
        with pytest.raises(RuntimeError):
            svc.close_invoice(db.session.get(Invoice, first), actor=ACTOR)
        db.session.rollback()
        monkeypatch.setattr(svc.audit, "record", real_record)
        db.session.remove()

    with committed_app.app_context():
        assert db.session.get(Invoice, first).status == "draft"
        assert db.session.get(Invoice, first).number is None
        prefix = db.session.get(Event, event_id).invoice_prefix
        invoice = db.session.get(Invoice, second)
        svc.close_invoice(invoice, actor=ACTOR)
        db.session.commit()
        jobs.discard_pending()
        assert invoice.number == f"{prefix}00001"
        db.session.remove()
