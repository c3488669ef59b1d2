"""Webhooks in the back office: owners register endpoints (secret shown once), edit, rotate,
delete, and see each delivery with its tries; a real receiver takes the events."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import WebhookEndpoint
from portal.services import invoices, webhooks
from tests.factories import ACTOR
from tests.webhooks.conftest import documented_verify, receiver  # noqa: F401 - fixture

from .conftest import Browser, commit_fixtures, text

SECRET = re.compile(r'id="webhook-secret" class="secret" value="(whsec_[^"]+)"')


def test_owner_creates_an_endpoint_and_sees_the_secret_once(as_owner, world, receiver):  # noqa: F811
    hook = receiver()
    response = as_owner.post(world.org_url("/webhooks"), {
        "url": hook.url, "events": ["invoice.paid"], "active": "y"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(text(response)).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert (endpoint.url, endpoint.events, endpoint.active) == (hook.url, ["invoice.paid"], True)
    listing = text(as_owner.get(world.org_url("/webhooks")))
    assert hook.url in listing and secret not in listing and endpoint.secret_prefix in listing

    invoices.pay_invoice(world.open, actor=ACTOR)
    commit_fixtures()
    webhooks.pickup()  # the fixture's commit queued no job: the pickup sends it
    [received] = hook.received
    assert documented_verify()(secret, received.body, received.headers["Portal-Signature"])
    assert json.loads(received.body)["data"]["object"]["id"] == world.open.id

    detail = as_owner.get(world.org_url(f"/webhooks/{endpoint.id}"))
    page = text(detail)
    assert "invoice.paid" in page and "HTTP 200" in page and "Delivered" in page
    [delivery] = webhooks.endpoint_deliveries(endpoint).items
    again = as_owner.post(world.org_url(f"/webhooks/{endpoint.id}/deliveries/{delivery.id}"
                                        "/redeliver"))
    assert again.status_code == 303
    assert len(hook.received) == 2
    assert "by hand" in text(as_owner.follow(again))


def test_errors_are_shown_next_to_the_fields(as_owner, world):
    response = as_owner.post(world.org_url("/webhooks"), {"url": "ftp://nope"})
    assert response.status_code == 400
    page = text(response)
    assert "Enter a valid http or https URL." in page
    assert "Choose at least one event type." in page
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_edit_rotate_and_delete(as_owner, world):
    endpoint, secret = webhooks.create_endpoint(world.organizer, {
        "url": "https://example.com/a", "events": ["invoice.paid"]}, actor=ACTOR)
    commit_fixtures()
    saved = as_owner.post(world.org_url(f"/webhooks/{endpoint.id}"), {
        "url": "https://example.com/b", "events": ["invoice.closed", "customer.created"]})
    assert saved.status_code == 303
    db.session.expire_all()
    assert (endpoint.url, endpoint.events, endpoint.active) == (
        "https://example.com/b", ["invoice.closed", "customer.created"], False)
    rotated = as_owner.post(world.org_url(f"/webhooks/{endpoint.id}/rotate"))
    new = SECRET.search(text(rotated)).group(1)
    assert new != secret
    db.session.expire_all()
    assert endpoint.secret == new
    gone = as_owner.post(world.org_url(f"/webhooks/{endpoint.id}/delete"))
    assert gone.status_code == 303
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_only_owners_who_see_every_event_manage_webhooks(app, world, make):
    endpoint, _ = webhooks.create_endpoint(world.organizer, {
        "url": "https://example.com/a", "events": ["invoice.paid"]}, actor=ACTOR)
    limited_owner = make.member(world.organizer, "owner", events=[world.event1])
    commit_fixtures()
    for user in (world.manager, world.viewer, limited_owner):
        browser = Browser(app.test_client(), user)
        assert browser.get(world.org_url("/webhooks")).status_code == 403
        assert browser.post(world.org_url(f"/webhooks/{endpoint.id}/delete")).status_code == 403
    # Another organizer's owner: the organizer is not theirs (404), nor the endpoint.
    outsider = Browser(app.test_client(), world.outsider)
    assert outsider.get(world.org_url(f"/webhooks/{endpoint.id}")).status_code == 404
    assert outsider.get(f"/org/{world.other.slug}/webhooks/{endpoint.id}").status_code == 404
    assert db.session.get(WebhookEndpoint, endpoint.id) is not None
