"""Concurrency through the API, with real commits and real threads (one request = one
transaction, each thread its own test client), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.extensions import db
from portal.models import IdempotencyRecord, Invoice
from portal.services import invoices
from tests.factories import Factory

pytestmark = pytest.mark.concurrency

N = 30


def _seed(app, drafts: int):
    with app.app_context():
        make = Factory()
        organizer = make.organizer()
        event = make.event(organizer)
        customer = make.customer(organizer)
        token = make.token(organizer)
        ids = [make.invoice(event, customer).id for _ in range(drafts)]
        base = f"/api/v1/organizers/{organizer.slug}/events/{event.slug}"
        seeded = (base, token.plain, ids, event.invoice_prefix)
        jobs.commit()
    return seeded


def test_thirty_parallel_closes_take_thirty_gapless_numbers(committed_app):
    base, token, ids, prefix = _seed(committed_app, N)
    start = threading.Barrier(N)

    def close(invoice_id: int):
        client = committed_app.test_client()
        start.wait()
        response = client.post(f"{base}/invoices/{invoice_id}/close/",
                               headers={"Authorization": f"Token {token}"})
        return response.status_code, response.get_json()["number"]

    with ThreadPoolExecutor(max_workers=N) as pool:
        results = list(pool.map(close, ids))

    assert [status for status, _ in results] == [200] * N
    numbers = sorted(number for _, number in results)
    assert numbers == [f"{prefix}{n:05d}" for n in range(1, N + 1)]
    with committed_app.app_context():
        stored = db.session.scalars(select(Invoice.number).where(Invoice.id.in_(ids))).all()
        assert sorted(stored) == numbers


def test_two_concurrent_posts_with_one_key_do_the_work_once(committed_app, monkeypatch):
    """The second request either waits for the first and replays it (SQLite: writers queue)
    or sees the first one's committed claim and is told to retry (PostgreSQL)."""
    base, token, _, _ = _seed(committed_app, 0)
    inside, second_done = threading.Event(), threading.Event()
    real_create = invoices.create_draft

    def slow_create(*args, **kwargs):
        inside.set()
        second_done.wait(timeout=2)  # SQLite: the twin queues behind us, so this times out
        return real_create(*args, **kwargs)

    monkeypatch.setattr(invoices, "create_draft", slow_create)
    headers = {"Authorization": f"Token {token}", "Idempotency-Key": "twin"}

    def first():
        return committed_app.test_client().post(f"{base}/invoices/", json={}, headers=headers)

    def second():
        inside.wait(timeout=10)
        try:
            return committed_app.test_client().post(f"{base}/invoices/", json={},
                                                    headers=headers)
        finally:
            second_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = pool.submit(first), pool.submit(second)
        one, two = a.result(), b.result()

    assert one.status_code == 201
    if committed_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert two.status_code == 201 and two.data == one.data
        assert two.headers["Idempotent-Replayed"] == "true"
    else:
        assert two.status_code == 409
        assert two.get_json()["error"]["code"] == "idempotency_key_in_use"
    replay = committed_app.test_client().post(f"{base}/invoices/", json={}, headers=headers)
    assert replay.data == one.data
    with committed_app.app_context():
        assert db.session.scalar(select(func.count(Invoice.id))) == 1
        record = db.session.scalar(select(IdempotencyRecord))
        assert record.status_code == 201
