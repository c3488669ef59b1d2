"""Webhook delivery to a real HTTP receiver on loopback: signed, retried, ordered, never lost."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.errors import ValidationError
from portal.extensions import db
from portal.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
)
from portal.models.types import utcnow
from portal.services import customers, invoices, webhooks
from portal.services.input import FieldErrors
from portal.unit_of_work import rollback
from tests.factories import ACTOR

from .conftest import documented_verify

ALL = ["invoice.created", "invoice.updated", "invoice.closed", "invoice.paid",
       "invoice.payment_recorded", "invoice.cancelled", "invoice.overdue", "invoice.sent",
       "customer.created", "customer.key_rotated", "invoice.document_ready"]


def endpoint(organizer, url, events=None, **extra):
    made, secret = webhooks.create_endpoint(organizer, {"url": url, "events": events or ALL,
                                                        **extra}, actor=ACTOR)
    made.plain = secret
    return made


def bodies(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received]


def deliveries(endpoint_id) -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id)))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_step_reaches_the_receiver_signed_as_documented(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    event = make.event(organizer)
    target = endpoint(organizer, hook.url, ["invoice.created", "invoice.closed"])
    jobs.commit()
    invoice = make.invoice(event)
    invoices.close_invoice(invoice, actor=ACTOR)
    jobs.commit()

    assert [b["type"] for b in bodies(hook)] == ["invoice.created", "invoice.closed"]
    verify = documented_verify()
    for received in hook.received:
        header = received.headers["Portal-Signature"]
        assert verify(target.plain, received.body, header)
        assert not verify(target.plain, received.body + b" ", header)
        assert not verify("whsec_wrong", received.body, header)
    closed = bodies(hook)[1]
    assert set(closed) == {"id", "type", "created", "organizer", "event", "data"}
    assert (closed["organizer"], closed["event"]) == (organizer.slug, event.slug)
    assert closed["data"]["object"]["id"] == invoice.id
    assert closed["data"]["object"]["status"] == "open"
    assert closed["data"]["object"]["number"] == invoice.number
    # 1 line of 1 x 100.00 at 19 %: gross 119.00.
    assert closed["data"]["object"]["totals"]["gross"] == "119.00"
    assert [d.state for d in deliveries(target.id)] == ["delivered", "delivered"]
    assert [a.status_code for d in deliveries(target.id) for a in d.attempt_log] == [200, 200]


def test_five_hundred_twice_then_ok_is_three_tries_and_delivered(app, make, receiver):
    hook = receiver(replies=[500, 500])
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    jobs.commit()
    start = utcnow()
    make.customer(organizer, reference="C-77")
    jobs.commit()
    assert len(hook.received) == 1
    [delivery] = deliveries(target.id)
    assert (delivery.state, delivery.attempts) == ("pending", 1)
    # First pause: WEBHOOK_RETRY_BASE = 30 s; nothing is due before.
    assert webhooks.pickup(now=start + dt.timedelta(seconds=10)) == 0
    assert webhooks.pickup(now=start + dt.timedelta(seconds=40)) == 1
    assert len(hook.received) == 2
    # Second pause: 30 s x 4 = 120 s after the second try.
    assert webhooks.pickup(now=start + dt.timedelta(seconds=100)) == 0
    assert webhooks.pickup(now=start + dt.timedelta(seconds=40 + 121)) == 1

    assert len(hook.received) == 3
    assert len({b["id"] for b in bodies(hook)}) == 1
    assert bodies(hook)[0]["data"]["object"]["reference"] == "C-77"
    assert "key" not in bodies(hook)[0]["data"]["object"]
    [delivery] = deliveries(target.id)
    assert delivery.state == "delivered"
    log = [(a.number, a.status_code) for a in delivery.attempt_log]
    assert log == [(1, 500), (2, 500), (3, 200)]
    # The 500 answered 5000 bytes: only the first 1024 are read and kept.
    assert len(delivery.attempt_log[0].response_excerpt) == 1024


def test_backoff_covers_three_days_with_at_least_eight_tries(app):
    elapsed, tries = 0.0, 1
    while elapsed < 3 * 86400:
        elapsed += webhooks.backoff(tries)
        tries += 1
    # 30 s, 2 min, 8 min, 32 min, 2 h 8 min, then every 6 h: 17 tries within 3 days.
    assert tries >= 8
    assert [webhooks.backoff(n) for n in (1, 2, 3, 6, 9)] == [30, 120, 480, 21600, 21600]


def test_tries_stop_three_days_after_the_event(app, make, receiver):
    hook = receiver(default=503)
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    make.customer(organizer)
    jobs.commit()
    [delivery] = deliveries(target.id)
    late = delivery.event.created_at + dt.timedelta(days=3, seconds=1)
    assert webhooks.pickup(now=late) == 1
    [delivery] = deliveries(target.id)
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert webhooks.pickup(now=late + dt.timedelta(days=1)) == 0


def test_a_hanging_receiver_hits_the_timeout(app, make, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 1
    try:
        hook = receiver(replies=["hang"])
        organizer = make.organizer()
        target = endpoint(organizer, hook.url, ["customer.created"])
        make.customer(organizer)
        started = time.monotonic()
        jobs.commit()
        took = time.monotonic() - started
    finally:
        app.config["WEBHOOK_TIMEOUT"] = 10
    assert len(hook.received) == 1
    assert 0.9 <= took < 4
    [delivery] = deliveries(target.id)
    assert delivery.state == "pending"
    assert delivery.attempt_log[0].error == "timeout after 1 s"
    assert delivery.attempt_log[0].status_code is None


def test_a_redirect_is_not_followed(app, make, receiver):
    hook = receiver(replies=["redirect"])
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    make.customer(organizer)
    jobs.commit()
    [delivery] = deliveries(target.id)
    assert (delivery.state, delivery.attempt_log[0].status_code) == ("pending", 302)
    assert len(hook.received) == 1


def test_a_rolled_back_step_emits_nothing(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    event = make.event(organizer)
    endpoint(organizer, hook.url)
    invoice = make.invoice(event)
    jobs.commit()
    hook.received.clear()
    events_before = count(WebhookEvent)
    invoices.close_invoice(invoice, actor=ACTOR)
    invoices.pay_invoice(invoice, actor=ACTOR)
    rollback()
    jobs.commit()
    assert count(WebhookEvent) == events_before
    assert hook.received == []
    # A refused step (409) writes no event either.
    with pytest.raises(Exception):  # noqa: B017 - ConflictError
        invoices.pay_invoice(invoice, actor=ACTOR)
    rollback()
    assert count(WebhookEvent) == events_before


def test_a_committed_event_whose_job_was_lost_is_picked_up(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    make.customer(organizer)
    # The process dies right after the commit: the queued job never runs.
    jobs.discard_pending()
    db.session.commit()
    assert hook.received == []
    assert [d.state for d in deliveries(target.id)] == ["pending"]
    assert webhooks.pickup() == 1
    assert len(hook.received) == 1
    assert [d.state for d in deliveries(target.id)] == ["delivered"]


def test_a_worker_killed_mid_try_is_retried_after_its_lease(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    make.customer(organizer)
    jobs.discard_pending()
    db.session.commit()
    [delivery] = deliveries(target.id)
    now = utcnow()
    # A worker claims the delivery and dies before it settles.
    assert webhooks._claim(delivery.id, now) is not None
    [delivery] = deliveries(target.id)
    assert delivery.state == "sending"
    assert webhooks.pickup(now=now + dt.timedelta(seconds=5)) == 0   # its lease still runs
    assert webhooks.pickup(now=now + dt.timedelta(seconds=41)) == 1  # 10 s + 30 s margin
    assert len(hook.received) == 1
    assert [(d.state, d.attempts) for d in deliveries(target.id)] == [("delivered", 1)]


def test_deliveries_of_one_invoice_wait_for_the_earlier_one(app, make, receiver):
    hook = receiver(replies=[500])
    organizer = make.organizer()
    event = make.event(organizer)
    target = endpoint(organizer, hook.url, ["invoice.created", "invoice.updated",
                                            "invoice.closed"])
    jobs.commit()
    start = utcnow()
    invoice = make.invoice(event)
    jobs.commit()  # invoice.created: 500
    invoices.update_draft(invoice, {"texts": {"footer": "Thanks"}}, actor=ACTOR)
    invoices.close_invoice(invoice, actor=ACTOR)
    jobs.commit()  # invoice.updated and .closed wait behind invoice.created
    assert [b["type"] for b in bodies(hook)] == ["invoice.created"]
    # Another invoice is not held up.
    other = make.invoice(event)
    jobs.commit()
    assert bodies(hook)[-1]["data"]["object"]["id"] == other.id
    assert webhooks.pickup(now=start + dt.timedelta(seconds=31)) >= 1
    mine = [b["type"] for b in bodies(hook) if b["data"]["object"]["id"] == invoice.id]
    assert mine == ["invoice.created", "invoice.created", "invoice.updated", "invoice.closed"]
    ids = [b["id"] for b in bodies(hook) if b["data"]["object"]["id"] == invoice.id]
    assert ids[1:] == sorted(ids[1:])
    assert {d.state for d in deliveries(target.id)} == {"delivered"}


def test_pay_cancel_and_customer_events(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    endpoint(organizer, hook.url, ["invoice.payment_recorded", "invoice.paid",
                                   "invoice.cancelled", "invoice.closed",
                                   "customer.key_rotated"])
    paid = make.closed(event, customer)
    cancelled = make.closed(event, customer)
    jobs.commit()
    hook.received.clear()
    invoices.pay_invoice(paid, actor=ACTOR)
    credit = invoices.cancel_invoice(cancelled, actor=ACTOR)
    customers.rotate_key(customer, actor=ACTOR)
    jobs.commit()
    seen = [(b["type"], b["data"]["object"].get("id")) for b in bodies(hook)]
    assert seen == [("invoice.payment_recorded", paid.id), ("invoice.paid", paid.id),
                    ("invoice.cancelled", cancelled.id), ("invoice.closed", credit.id),
                    ("customer.key_rotated", customer.id)]
    cancel = bodies(hook)[2]["data"]
    assert cancel["object"]["status"] == "cancelled"
    # 119.00 negated on the credit note.
    assert (cancel["credit_note"]["number"], cancel["credit_note"]["totals"]["gross"]) == (
        credit.number, "-119.00")
    assert "key" not in bodies(hook)[4]["data"]["object"]


def test_unsubscribed_types_and_inactive_endpoints_write_nothing(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    event = make.event(organizer)
    endpoint(organizer, hook.url, ["invoice.paid"])
    endpoint(organizer, hook.url, ["invoice.created"], active=False)
    before = count(WebhookEvent)
    make.invoice(event)
    jobs.commit()
    assert count(WebhookEvent) == before
    assert hook.received == []


def test_manual_redelivery_sends_again_and_is_logged_as_manual(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    make.customer(organizer)
    jobs.commit()
    [delivery] = deliveries(target.id)
    webhooks.redeliver(delivery, actor=ACTOR)
    jobs.commit()
    assert len(hook.received) == 2
    [delivery] = deliveries(target.id)
    assert [(a.status_code, a.manual) for a in delivery.attempt_log] == [(200, False),
                                                                        (200, True)]
    assert delivery.state == "delivered"


def test_events_are_purged_after_thirty_days(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    target = endpoint(organizer, hook.url, ["customer.created"])
    make.customer(organizer)
    make.customer(organizer)
    jobs.commit()
    old, recent = deliveries(target.id)
    old.event.created_at = utcnow() - dt.timedelta(days=31)
    jobs.commit()
    attempts = count(WebhookAttempt)
    assert webhooks.purge() == 1
    assert [d.id for d in deliveries(target.id)] == [recent.id]
    assert count(WebhookAttempt) == attempts - 1


def test_the_overdue_sweep_tells_each_overdue_invoice_once(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    event = make.event(organizer)
    endpoint(organizer, hook.url, ["invoice.overdue"])
    today = dt.date.today()
    late = make.closed(event, due_date=(today - dt.timedelta(days=2)).isoformat())
    paid = make.closed(event, due_date=(today - dt.timedelta(days=2)).isoformat())
    invoices.pay_invoice(paid, actor=ACTOR)
    make.closed(event, due_date=(today + dt.timedelta(days=2)).isoformat())
    jobs.commit()
    hook.received.clear()
    assert webhooks.sweep_overdue(today=today) == [late.id]
    assert webhooks.sweep_overdue(today=today) == []
    assert [(b["type"], b["data"]["object"]["id"]) for b in bodies(hook)] == [
        ("invoice.overdue", late.id)]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://10.1.2.3/",
    "http://192.168.0.10/", "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data",
    "http://[::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
])
def test_private_loopback_and_link_local_targets_are_refused(app, url):
    errors = FieldErrors()
    assert webhooks.clean_url(errors, "url", url, allow_private=False) is None
    assert "private, loopback or link-local" in errors["url"][0]


def test_creation_refuses_private_targets_unless_allowed(app, make):
    organizer = make.organizer()
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    try:
        with pytest.raises(ValidationError) as refused:
            webhooks.create_endpoint(organizer, {"url": "http://127.0.0.1:9/x",
                                                 "events": ["invoice.paid"]}, actor=ACTOR)
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    assert list(refused.value.fields) == ["url"]
    made, _ = webhooks.create_endpoint(organizer, {"url": "http://127.0.0.1:9/x",
                                                   "events": ["invoice.paid"]}, actor=ACTOR)
    assert made.id is not None


def test_delivery_refuses_a_private_target_after_resolution(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    # Allowed when it was saved (or a public name that now resolves to loopback).
    target = endpoint(organizer, hook.url.replace("127.0.0.1", "localhost"),
                      ["customer.created"])
    jobs.commit()
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    try:
        make.customer(organizer)
        jobs.commit()
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = True
    assert hook.received == []
    [delivery] = deliveries(target.id)
    assert delivery.state == "pending"
    assert delivery.attempt_log[0].error.startswith("refused: localhost resolves to a private")


def test_bad_endpoint_input_lists_every_problem(app, make):
    organizer = make.organizer()
    with pytest.raises(ValidationError) as bad:
        webhooks.create_endpoint(organizer, {"url": "ftp://x", "events": ["invoice.paid",
                                                                         "invoice.exploded"],
                                             "colour": "red"}, actor=ACTOR)
    assert set(bad.value.fields) == {"url", "events.1", "colour"}


def test_document_ready_and_deleted_carry_the_invoice_as_it_was(app, make, receiver):
    hook = receiver()
    organizer = make.organizer()
    event = make.event(organizer)
    endpoint(organizer, hook.url, ["invoice.document_ready", "invoice.deleted"])
    closed = make.closed(event)
    draft = make.invoice(event)
    draft_id = draft.id
    jobs.commit()  # the document job runs after the commit: invoice.document_ready
    invoices.delete_draft(draft, actor=ACTOR)
    jobs.commit()
    seen = [(b["type"], b["data"]["object"]["id"]) for b in bodies(hook)]
    assert seen == [("invoice.document_ready", closed.id), ("invoice.deleted", draft_id)]
    ready = bodies(hook)[0]["data"]["object"]
    db.session.expire_all()
    assert ready["pdf_sha256"] == closed.pdf_sha256 and len(ready["pdf_sha256"]) == 64
    assert bodies(hook)[1]["data"]["object"]["status"] == "draft"
