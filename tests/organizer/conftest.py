"""Fixtures of the back office: an organizer with members in every role, and helpers that
drive the HTML forms the way a browser does (CSRF token included)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from werkzeug.security import generate_password_hash

from portal.extensions import db
from portal.jobs import discard_pending
from portal.models import Customer, Event, Invoice, Membership, Order, Organizer, User
from portal.services import invoices, organizers
from tests.factories import ACTOR, Factory, line

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str = "/login") -> str:
    html = client.get(url).get_data(as_text=True)
    match = CSRF.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(client, user: User) -> None:
    """Sign in without the login form (the login tests use the form itself)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def commit_fixtures() -> None:
    """Commit what a test made (a savepoint of the test's outer transaction), so a view that
    rolls its own work back keeps it; the PDF jobs of closed invoices are not run."""
    db.session.commit()
    discard_pending()


COOKIE = "session"


def session_id(client) -> str | None:
    """The session id the client's cookie carries (sessions are kept on the server)."""
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def replay(app, sid: str):
    """A new browser that sends a copied session cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, sid)
    return thief


class Browser:
    """A test client that signs in and posts forms with their CSRF token."""

    def __init__(self, client, user: User | None = None):
        self.client = client
        self.token = csrf_token(client)
        if user is not None:
            sign_in(client, user)

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        return self.client.post(url, data={"csrf_token": self.token, **(data or {})}, **kwargs)

    def follow(self, response):
        """The page a redirect leads to (flash messages included)."""
        assert response.status_code in (302, 303), response.status_code
        return self.get(response.headers["Location"])


def text(response) -> str:
    return response.get_data(as_text=True)


def invoice_form(customer: str = "", lines=None, discounts=None, **fields) -> dict:
    """The invoice form as a browser posts it: every field, `lines-N-…` rows and all."""
    data = {
        "command": "save", "type": "invoice", "customer": customer, "refers": "",
        "currency": "EUR", "locale": "", "due_date": "", "expires_at": "",
        "rounding-mode": "half_up", "rounding-rule": "per_line",
        "shipping_method-name": "", "shipping_method-cost": "", "shipping_method-tax_rate": "",
        "shipping_method-tax_code": "", "payment_method-name": "", "payment_method-fee": "",
        "payment_method-tax_rate": "", "payment_method-tax_code": "",
        "texts-introductory": "", "texts-additional": "", "texts-payment": "",
        "texts-footer": "", "texts-terms": "", "reference-type": "", "reference-number": "",
        "package_number": "", "channel": "",
    }
    for key in ("company", "first_name", "last_name", "street1", "street2", "city",
                "postal_code", "state", "country", "vat_id", "tax_office", "tax_number", "email",
                "phone"):
        data[f"billing_address-{key}"] = ""
        data[f"shipping_address-{key}"] = ""
    for key in ("shipped_at", "number_of_packages", "carriage", "goods_appearance",
                "tracking_number", "transport_reason"):
        data[f"shipping-{key}"] = ""
    for i, row in enumerate(lines if lines is not None else [line_row()]):
        for key, value in row.items():
            data[f"lines-{i}-{key}"] = value
    for i, row in enumerate(discounts or []):
        for key, value in row.items():
            data[f"discounts-{i}-{key}"] = value
    data.update(fields)
    return data


def line_row(description="Ticket", quantity="1", unit_price="100.00", tax_rate="19", **extra):
    row = {"sku": "", "description": description, "quantity": quantity, "unit": "",
           "unit_price": unit_price, "tax_code": "VAT", "tax_rate": tax_rate,
           "discount_rate": "", "discount_amount": "", "weight": "", "request_note": ""}
    row.update(extra)
    return row


@pytest.fixture
def user(make):
    """The owner olivia@acme.example of organizer acme, committed; password PASSWORD."""
    organizer = make.organizer(slug="acme", name="Acme Events")
    user = make.member(organizer, "owner", email="olivia@acme.example")
    commit_fixtures()
    return user


@pytest.fixture
def fast_passwords(monkeypatch):
    """Hash the many fixture users' passwords cheaply (the login tests use real scrypt)."""
    monkeypatch.setattr(organizers, "hash_password",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))


@dataclass
class World:
    organizer: Organizer
    event1: Event
    event2: Event
    other: Organizer       # another organizer, with its own event and invoice
    other_event: Event
    owner: User
    manager: User
    viewer: User
    limited: User          # a manager limited to event1
    outsider: User         # owner of `other`, nothing in `organizer`
    customer: Customer
    order: Order           # in event1
    draft: Invoice         # event1
    open: Invoice          # event1, closed
    paid: Invoice          # event1
    disputed: Invoice      # event1
    open2: Invoice         # event2, closed
    foreign: Invoice       # in other_event
    foreign_customer: Customer

    def url(self, path: str = "", event: Event | None = None) -> str:
        event = event or self.event1
        return f"/org/{self.organizer.slug}/events/{event.slug}{path}"

    def org_url(self, path: str = "") -> str:
        return f"/org/{self.organizer.slug}{path}"

    def membership(self, user: User) -> Membership:
        return db.session.scalar(db.select(Membership).where(
            Membership.user_id == user.id, Membership.organizer_id == self.organizer.id))


def closed(make: Factory, event: Event, customer: Customer, today: dt.date | None = None,
           **data) -> Invoice:
    invoice = make.invoice(event, customer, **data)
    invoices.close_invoice(invoice, actor=ACTOR, today=today)
    return invoice


@pytest.fixture
def world(make, fast_passwords) -> World:
    organizer = make.organizer(slug="acme", name="Acme Events")
    event1 = make.event(organizer, slug="conf")
    event2 = make.event(organizer, slug="expo")
    other = make.organizer(slug="rival", name="Rival Shows")
    other_event = make.event(other, slug="fair")
    owner = make.member(organizer, "owner", email="owner@acme.example")
    manager = make.member(organizer, "manager", email="manager@acme.example")
    viewer = make.member(organizer, "viewer", email="viewer@acme.example")
    limited = make.member(organizer, "manager", events=[event1], email="limited@acme.example")
    outsider = make.member(other, "owner", email="owner@rival.example")
    customer = make.customer(organizer, "C-1", name="Jane Buyer")
    order = make.order(event1, customer, code="ORD1")
    draft = make.invoice(event1, customer, lines=[line("Draft ticket", "1", "10.00")])
    open_ = closed(make, event1, customer)
    paid = closed(make, event1, customer)
    invoices.pay_invoice(paid, actor=ACTOR)
    disputed = closed(make, event1, customer)
    invoices.dispute_invoice(disputed, actor=ACTOR, reason="Wrong seat")
    open2 = closed(make, event2, customer)
    foreign_customer = make.customer(other, "C-1", name="Someone Else")
    foreign = closed(make, other_event, foreign_customer)
    commit_fixtures()
    return World(organizer=organizer, event1=event1, event2=event2, other=other,
                 other_event=other_event, owner=owner, manager=manager, viewer=viewer,
                 limited=limited, outsider=outsider, customer=customer, order=order,
                 draft=draft, open=open_, paid=paid, disputed=disputed, open2=open2,
                 foreign=foreign, foreign_customer=foreign_customer)


@pytest.fixture
def as_owner(client, world) -> Browser:
    return Browser(client, world.owner)


@pytest.fixture
def as_manager(client, world) -> Browser:
    return Browser(client, world.manager)


@pytest.fixture
def as_viewer(client, world) -> Browser:
    return Browser(client, world.viewer)

