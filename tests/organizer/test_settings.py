"""Event settings (owners): prefixes, texts, seller, currency, locale, due days."""

from __future__ import annotations

import datetime as dt

from portal.extensions import db
from portal.models import Event
from portal.services import invoices
from tests.factories import ACTOR

from .conftest import text


def settings_data(**changes) -> dict:
    data = {"name": "Conf 2027", "currency": "JPY", "locale": "ja", "due_days": "30",
            "invoice_prefix": "C27-", "proforma_prefix": "C27-PF-", "shipping_prefix": "C27-DN-",
            "introductory_text": "Thanks!", "additional_text": "", "payment_text": "Pay soon",
            "footer_text": "Footer", "terms_text": "Terms",
            "seller_override-company": "Acme Japan KK", "seller_override-country": "jp"}
    data.update(changes)
    return data


def event(world) -> Event:
    found = db.session.get(Event, world.event1.id)
    db.session.refresh(found)
    return found


def test_owner_sees_the_current_settings(as_owner, world):
    page = text(as_owner.get(world.url("/settings")))
    assert f'value="{world.event1.invoice_prefix}"' in page
    assert 'value="14"' in page  # due days
    assert 'placeholder="Acme Events GmbH"' in page  # the organizer's seller, as a hint


def test_save_settings_and_new_invoices_use_them(as_owner, world, make):
    response = as_owner.post(world.url("/settings"), settings_data())
    assert response.status_code == 303
    assert "The event settings are saved." in text(as_owner.follow(response))
    saved = event(world)
    assert (saved.name, saved.currency, saved.locale, saved.due_days) == \
        ("Conf 2027", "JPY", "ja", 30)
    assert (saved.invoice_prefix, saved.payment_text) == ("C27-", "Pay soon")
    assert saved.seller_override == {"company": "Acme Japan KK", "country": "JP"}
    draft = make.invoice(saved, world.customer)
    invoices.close_invoice(draft, actor=ACTOR, today=dt.date(2027, 1, 1))
    # Closed invoices keep their numbers; the next one takes the new prefix.
    assert draft.number == "C27-00004"
    assert draft.currency == "JPY" and draft.due_date == dt.date(2027, 1, 31)
    assert draft.seller["company"] == "Acme Japan KK" and draft.seller["city"] == "Berlin"
    assert draft.payment_text == "Pay soon"


def test_clashing_prefixes_are_refused_next_to_the_field(as_owner, world):
    before = event(world).invoice_prefix
    response = as_owner.post(world.url("/settings"), settings_data(proforma_prefix="C27-1"))
    assert response.status_code == 400
    page = text(response)
    block = page.split('name="proforma_prefix"', 1)[1][:500]
    assert "could print the same number as another sequence" in block
    assert event(world).invoice_prefix == before


def test_bad_values_are_refused(as_owner, world):
    response = as_owner.post(world.url("/settings"), settings_data(
        due_days="soon", currency="ABC", invoice_prefix="A B", locale="xx-yy-zz", name="",
        **{"seller_override-country": "Japan"}))
    assert response.status_code == 400
    page = text(response)
    for message in ("Enter a whole number of days from 0 to 3650.",
                    "Use at most 30 letters, digits, / _ . or -.",
                    "Enter a locale such as en, de or en-GB.",
                    "Give a name of at most 200 characters.",
                    "Enter a two-letter ISO country code, e.g. DE."):
        assert message in page, message
    assert event(world).name != ""
