"""Fixtures of the API tests: one organizer with two events, tokens of every kind, a stranger.

`Api` is a thin client that adds the credentials and sends JSON; tests still see the raw
responses (status, headers, bytes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from portal.models import ApiToken, Customer, Event, Organizer
from tests.factories import Factory


class Api:
    def __init__(self, client, token: str | None = None, customer_key: str | None = None):
        self.client = client
        self.token = token
        self.customer_key = customer_key

    def headers(self, extra: dict | None = None) -> dict:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if self.customer_key:
            headers["X-Customer-Key"] = self.customer_key
        headers.update(extra or {})
        return headers

    def request(self, method: str, url: str, body=None, *, headers: dict | None = None,
                **kwargs):
        if body is not None and "data" not in kwargs:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return self.client.open(url, method=method, headers=self.headers(headers), **kwargs)

    def get(self, url, **kwargs):
        return self.request("GET", url, **kwargs)

    def post(self, url, body=None, **kwargs):
        return self.request("POST", url, body, **kwargs)

    def patch(self, url, body=None, **kwargs):
        return self.request("PATCH", url, body, **kwargs)

    def delete(self, url, **kwargs):
        return self.request("DELETE", url, **kwargs)


@dataclass
class World:
    organizer: Organizer
    event: Event
    other_event: Event
    customer: Customer
    rw: ApiToken
    ro: ApiToken
    limited: ApiToken  # read-write, limited to `other_event`
    stranger: ApiToken  # read-write token of another organizer
    stranger_event: Event

    @property
    def base(self) -> str:
        return f"/api/v1/organizers/{self.organizer.slug}/events/{self.event.slug}"

    def invoice_url(self, invoice, suffix: str = "") -> str:
        invoice_id = invoice if isinstance(invoice, int) else invoice.id
        return f"{self.base}/invoices/{invoice_id}/{suffix}"


@pytest.fixture
def world(make: Factory) -> World:
    organizer = make.organizer(name="Big Events")
    event = make.event(organizer, currency="EUR")
    other_event = make.event(organizer)
    stranger_org = make.organizer(name="Stranger")
    stranger_event = make.event(stranger_org)
    return World(
        organizer=organizer, event=event, other_event=other_event,
        customer=make.customer(organizer, reference="C-1001"),
        rw=make.token(organizer), ro=make.token(organizer, read_only=True),
        limited=make.token(organizer, events=[other_event]),
        stranger=make.token(stranger_org), stranger_event=stranger_event,
    )


@pytest.fixture
def api(client, world) -> Api:
    """A client with the organizer's read-write token."""
    return Api(client, world.rw.plain)


@pytest.fixture
def as_token(client):
    def build(token: ApiToken | None = None, customer_key: str | None = None) -> Api:
        return Api(client, token.plain if token is not None else None, customer_key)

    return build
