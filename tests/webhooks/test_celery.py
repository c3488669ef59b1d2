"""Webhooks on real Celery (Redis, a worker process): the worker delivers the signed event;
a worker killed in the middle of a try loses nothing — the retry pickup sends it again."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import WebhookDelivery
from portal.models.types import utcnow
from portal.services import webhooks
from tests.factories import ACTOR, Factory
from tests.services.test_jobs_celery import (
    LOCAL_REDIS,
    close_up,
    portal_with_workers,
    wait_for,
    worker_ready,
)
from tests.services.test_mail import SmtpServer

from .conftest import documented_verify

pytestmark = pytest.mark.concurrency


@pytest.fixture
def celery_portal(committed_app, tmp_path):
    """The app and a worker set on the local Redis, under this run's own queue and key prefix."""
    with SmtpServer() as smtp:
        app, workers, _queue = portal_with_workers(committed_app, tmp_path, smtp, LOCAL_REDIS)
        try:
            yield app, workers, smtp
        finally:
            workers.stop_all()
            close_up(app)


def _state(app, delivery_id):
    with app.app_context():
        state = db.session.scalar(select(WebhookDelivery.state).where(
            WebhookDelivery.id == delivery_id))
        db.session.remove()
        return state


def test_a_worker_delivers_and_a_killed_try_is_picked_up(celery_portal, receiver):
    app, workers, _smtp = celery_portal
    hook = receiver(replies=[200, "hang"])
    workers.env["WEBHOOK_TIMEOUT"] = "5"
    # The event job queues one job per delivery: on the queue this run's workers take.
    workers.env["CELERY_QUEUE"] = workers.queue
    with app.app_context():
        make = Factory()
        organizer = make.organizer()
        endpoint, secret = webhooks.create_endpoint(
            organizer, {"url": hook.url, "events": ["customer.created"]}, actor=ACTOR)
        jobs.commit()
        make.customer(organizer, reference="C-CELERY-1")
        jobs.commit()  # the delivery job goes to Redis; nothing runs in this process
        assert hook.received == []
    worker = workers.start()
    wait_for(lambda: worker_ready(workers, 1), "the worker", logs=workers.logs)
    wait_for(lambda: len(hook.received) == 1, "the worker's delivery", logs=workers.logs)
    assert documented_verify()(secret, hook.received[0].body,
                               hook.received[0].headers["Portal-Signature"])
    with app.app_context():
        first = db.session.scalar(select(WebhookDelivery.id))
        db.session.remove()
    wait_for(lambda: _state(app, first) == "delivered", "the delivery to settle",
             logs=workers.logs)

    # The next event: the receiver hangs, and the worker dies in the middle of the try.
    with app.app_context():
        Factory().customer(db.session.merge(organizer), reference="C-CELERY-2")
        jobs.commit()
        second = db.session.scalar(select(WebhookDelivery.id).order_by(
            WebhookDelivery.id.desc()))
        db.session.remove()
    wait_for(lambda: len(hook.received) == 2, "the second try to start", logs=workers.logs)
    workers.kill(worker)
    assert _state(app, second) == "sending"
    with app.app_context():
        # Its lease (timeout 5 s + 30 s margin) ends; the pickup takes the try over.
        assert webhooks.pickup(now=utcnow() + dt.timedelta(seconds=36)) == 1
        db.session.remove()
    assert len(hook.received) == 3
    ids = [json.loads(r.body)["id"] for r in hook.received]
    assert ids[1] == ids[2] != ids[0]
    assert _state(app, second) == "delivered"
