"""Customers in the back office: the key is shown once with its magic link; edit; rotate."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Customer
from portal.services.customers import customer_for_key
from tests.factories import line

from .conftest import closed, commit_fixtures, text

KEY = re.compile(r'id="customer-key" class="secret" value="(ck_[^"]+)"')


def customer_data(**changes) -> dict:
    data = {"reference": "C-200", "name": "Nina Neu", "email": "nina@example.com",
            "locale": "de", "billing_address-company": "Neu AG",
            "billing_address-street1": "Ring 1", "billing_address-city": "Wien",
            "billing_address-postal_code": "1010", "billing_address-country": "at"}
    data.update(changes)
    return data


def count() -> int:
    return db.session.scalar(select(func.count(Customer.id)))


def test_create_shows_the_key_once_with_its_magic_link(app, as_manager, world):
    response = as_manager.post(world.org_url("/customers/new"), customer_data())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    key = KEY.search(page).group(1)
    customer = customer_for_key(key)
    assert customer is not None and customer.reference == "C-200"
    assert customer.billing_address["country"] == "AT" and customer.locale == "de"
    link = app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/my/access/{key}"
    assert f'value="{link}"' in page
    assert 'data-copy="#magic-link"' in page and 'data-copy="#customer-key"' in page
    assert "This is the only time the key is shown." in page
    # Never again: not on the customer's page, not in the list.
    assert key not in text(as_manager.get(world.org_url(f"/customers/{customer.id}")))
    assert key not in text(as_manager.get(world.org_url("/customers")))


def test_create_with_errors_shows_them_at_the_fields(as_manager, world):
    before = count()
    response = as_manager.post(world.org_url("/customers/new"), customer_data(
        reference="C-1", email="nope", **{"billing_address-country": "Austria"}))
    assert response.status_code == 400
    page = text(response)
    assert "A customer with this reference exists already." in page
    assert "Enter a valid e-mail address." in page
    assert "Enter a two-letter ISO country code, e.g. DE." in page
    assert 'value="Nina Neu"' in page
    assert count() == before


def test_edit_a_customer(as_manager, world):
    url = world.org_url(f"/customers/{world.customer.id}")
    assert 'value="Jane Buyer"' in text(as_manager.get(url))
    response = as_manager.post(url, customer_data(reference="C-1", name="Jane Renamed"))
    assert response.status_code == 303
    assert "The customer is saved." in text(as_manager.follow(response))
    customer = db.session.get(Customer, world.customer.id)
    db.session.refresh(customer)
    assert (customer.name, customer.billing_address["city"]) == ("Jane Renamed", "Wien")


def test_edit_with_errors_changes_nothing(as_manager, world):
    url = world.org_url(f"/customers/{world.customer.id}")
    response = as_manager.post(url, customer_data(reference="", name="Changed"))
    assert response.status_code == 400
    assert "This field is required." in text(response)
    customer = db.session.get(Customer, world.customer.id)
    db.session.refresh(customer)
    assert customer.name == "Jane Buyer"


def test_rotate_key_shows_a_new_key_and_the_old_one_stops_working(as_manager, world):
    old_key = world.customer.plain_key
    response = as_manager.post(world.org_url(f"/customers/{world.customer.id}/rotate-key"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    new_key = KEY.search(page).group(1)
    assert "The previous key no longer works." in page
    assert customer_for_key(old_key) is None
    assert customer_for_key(new_key).id == world.customer.id
    assert db.session.get(Customer, world.customer.id).key_version == 2


def test_viewer_sees_the_customer_but_cannot_change_it(as_viewer, world):
    url = world.org_url(f"/customers/{world.customer.id}")
    page = text(as_viewer.get(url))
    assert "<fieldset class=\"card\" disabled>" in page
    assert "Save customer" not in page and "New key" not in page
    assert as_viewer.post(url, customer_data(reference="C-1")).status_code == 403


def test_list_and_search(as_manager, world, make):
    make.customer(world.organizer, "C-9", name="Zed Zulu", email="zed@zulu.example")
    commit_fixtures()
    page = text(as_manager.get(world.org_url("/customers?q=zulu")))
    assert "Zed Zulu" in page and "Jane Buyer" not in page
    page = text(as_manager.get(world.org_url("/customers")))
    assert "Zed Zulu" in page and "Jane Buyer" in page
    assert "Someone Else" not in page  # the other organizer's customer


def test_customer_page_lists_only_invoices_of_visible_events(client, world, make):
    from .conftest import Browser
    own = closed(make, world.event1, world.customer, lines=[line("Seen")])
    hidden = closed(make, world.event2, world.customer, lines=[line("Hidden")])
    commit_fixtures()
    page = text(Browser(client, world.limited).get(world.org_url(f"/customers/{world.customer.id}")))
    assert f"/invoices/{own.id}\"" in page
    assert f"/invoices/{hidden.id}\"" not in page
