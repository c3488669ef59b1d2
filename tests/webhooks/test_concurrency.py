"""Webhooks under real concurrency (real threads, real commits, SQLite and PostgreSQL): the
events of one invoice reach the receiver in order, each once; the overdue sweep run twice at
the same moment tells an invoice once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.extensions import db
from portal.models import AuditEntry, WebhookDelivery, WebhookEvent
from portal.services import invoices, webhooks
from tests.factories import ACTOR, Factory

pytestmark = pytest.mark.concurrency

WIDTH = 4


def _seed(app, url: str, events: list[str], **invoice_data):
    with app.app_context():
        make = Factory()
        organizer = make.organizer()
        event = make.event(organizer)
        customer = make.customer(organizer)
        token = make.token(organizer)
        invoice = make.invoice(event, customer, **invoice_data)
        invoices.close_invoice(invoice, actor=ACTOR)
        jobs.commit()
        webhooks.create_endpoint(organizer, {"url": url, "events": events}, actor=ACTOR)
        jobs.commit()
        base = f"/api/v1/organizers/{organizer.slug}/events/{event.slug}/invoices/{invoice.id}"
        return invoice.id, base, {"Authorization": f"Token {token.plain}"}


def test_events_of_one_invoice_arrive_in_order_under_concurrent_steps(committed_app,
                                                                      receiver):
    hook = receiver(delay=0.05)
    invoice_id, base, auth = _seed(committed_app, hook.url, ["invoice.sent", "invoice.paid"])
    start = threading.Barrier(WIDTH + 1)

    def step(path):
        client = committed_app.test_client()
        start.wait()
        return client.post(f"{base}/{path}/", headers=auth).status_code

    with ThreadPoolExecutor(max_workers=WIDTH + 1) as pool:
        statuses = list(pool.map(step, ["send"] * WIDTH + ["pay"]))
    assert statuses == [200] * (WIDTH + 1)
    with committed_app.app_context():
        webhooks.pickup()  # anything a step left behind (nothing, if the chain held)
        ids = list(db.session.scalars(select(WebhookEvent.id).where(
            WebhookEvent.invoice_id == invoice_id).order_by(WebhookEvent.id)))
        states = set(db.session.scalars(select(WebhookDelivery.state)))
    arrived = [json.loads(r.body)["id"] for r in hook.received]
    # Four sendings and one payment (invoice.sent x4, invoice.paid once; `pay` lands
    # wherever it won the lock, and its event id says where).
    assert len(ids) == WIDTH + 1
    assert arrived == ids  # each once, in the order the steps committed
    assert states == {"delivered"}


def test_two_overdue_sweeps_at_once_tell_an_invoice_once(committed_app, receiver):
    hook = receiver()
    late = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    invoice_id, _, _ = _seed(committed_app, hook.url, ["invoice.overdue"], due_date=late)
    start = threading.Barrier(2)

    def sweep():
        with committed_app.app_context():
            start.wait()
            try:
                return webhooks.sweep_overdue()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        told = list(pool.map(lambda _: sweep(), range(2)))
    assert sorted(told, key=len) == [[], [invoice_id]]
    with committed_app.app_context():
        entries = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.invoice_id == invoice_id, AuditEntry.action == "overdue"))
    assert entries == 1
    assert [json.loads(r.body)["type"] for r in hook.received] == ["invoice.overdue"]


def test_the_embedded_relay_delivers_a_lost_webhook_by_itself(committed_app, receiver):
    from tests.conftest import make_app

    hook = receiver()
    # No grace: the delivery job's row is due for the relay at once.
    app = make_app(committed_app.config["SQLALCHEMY_DATABASE_URI"], JOBS_RELAY_INTERVAL=60,
                   JOBS_RELAY_GRACE=0, WEBHOOK_TICK_INTERVAL=60)
    relay = app.extensions["job_relay"]
    with app.app_context():
        make = Factory()
        organizer = make.organizer()
        webhooks.create_endpoint(organizer, {"url": hook.url, "events": ["customer.created"]},
                                 actor=ACTOR)
        make.customer(organizer)
        jobs.discard_pending()  # the process died right after the commit
        db.session.commit()
        db.session.remove()
    assert hook.received == []
    relay.relay_once()  # what the relay thread does every JOBS_RELAY_INTERVAL
    assert [json.loads(r.body)["type"] for r in hook.received] == ["customer.created"]
    with app.app_context():
        assert set(db.session.scalars(select(WebhookDelivery.state))) == {"delivered"}
        db.session.remove()
        db.engine.dispose()
