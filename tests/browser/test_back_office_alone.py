"""Issue 18 in a real browser (headless Chromium): an organizer makes an event, the line
editor shows live totals for a German number, and an expired session brings the user back to
the same form with what was typed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.i18n import translate
from portal.jobs import commit
from portal.models import Event, Invoice, User
from portal.services import organizers
from tests.factories import ACTOR

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


def de(message: str, **values) -> str:
    """The back office speaks the user's language (German here, SPEC §14)."""
    return translate("de", message, **values)


@pytest.fixture
def back_office(live_server):
    app, base_url = live_server
    with app.app_context():
        organizer = organizers.create_organizer("bigevents", "Big Events LLC", actor=ACTOR,
                                                seller={"company": "Big Events LLC"})
        event = organizers.create_event(organizer, "sampleconf", "Sample Conference 2026",
                                        actor=ACTOR, invoice_prefix="SC2026-",
                                        default_tax_rate="19")
        from portal.services import customers
        customers.create_customer(organizer, {"reference": "C-1", "name": "Jane Buyer",
                                              "email": "jane@example.com"}, actor=ACTOR)
        user = organizers.create_user("olivia@bigevents.example", PASSWORD, name="Olivia",
                                      locale="de")
        organizers.add_membership(user, organizer, "owner", actor=ACTOR)
        commit()
        assert event.default_tax_rate is not None
        db.session.remove()
    return app, base_url


def sign_in(page, base):
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill("olivia@bigevents.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()


def test_an_owner_creates_an_event(back_office, page, screenshot):
    app, base = back_office
    sign_in(page, base)
    page.goto(f"{base}/org/")
    page.get_by_role("link", name=de("New event")).first.click()
    page.locator("input[name=name]").fill("Summer Fair 2027")
    page.locator("input[name=slug]").fill("summer-27")
    page.locator("select[name=currency]").select_option("CHF")
    page.locator("input[name=locale]").fill("de")
    page.locator("input[name=due_days]").fill("21")
    page.locator("input[name=default_tax_rate]").fill("8,1")
    page.locator("input[name=invoice_prefix]").fill("SF27-")
    page.get_by_role("button", name=de("Create event")).click()
    expect(page.get_by_text(de("The event “%(name)s” is created.", name="Summer Fair 2027")))\
        .to_be_visible()
    screenshot(page, "issue18-event-created")
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.slug == "summer-27"))
        assert (event.currency, event.due_days, event.invoice_prefix) == ("CHF", 21, "SF27-")
        assert str(event.default_tax_rate) == "8.100"  # typed the German way
        db.session.remove()


def test_live_totals_for_a_german_number(back_office, page, screenshot):
    app, base = back_office
    sign_in(page, base)
    page.goto(f"{base}/org/bigevents/events/sampleconf/invoices/new")
    expect(page.locator("input[name='lines-0-quantity']")).to_have_value("1")
    expect(page.locator("input[name='lines-0-tax_rate']")).to_have_value("19")
    page.locator("select[name=customer]").select_option("C-1")
    page.locator("input[name='lines-0-description']").fill("Stand")
    page.locator("input[name='lines-0-quantity']").fill("2")
    page.locator("input[name='lines-0-unit_price']").fill("12,50")
    # 2 × 12.50 = 25.00 net, 19 % = 4.75, 29.75 gross, in German
    totals = page.locator("[data-live-totals]")
    expect(totals.locator("[data-total-gross]")).to_have_text(re.compile(r"29,75\s€"))
    expect(totals.locator("[data-total-net]")).to_have_text(re.compile(r"25,00\s€"))
    screenshot(page, "issue18-live-totals")
    page.get_by_role("button", name=de("Save draft")).click()
    expect(page.get_by_text(de("The draft is saved."))).to_be_visible()
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        assert str(invoice.gross_total) == "29.750"
        db.session.remove()


def test_an_expired_session_returns_to_the_same_form(back_office, page, screenshot):
    app, base = back_office
    sign_in(page, base)
    page.goto(f"{base}/org/bigevents/events/sampleconf/invoices/new")
    page.locator("select[name=customer]").select_option("C-1")
    page.locator("input[name='lines-0-description']").fill("Booth with power")
    page.locator("input[name='lines-0-unit_price']").fill("1.234,50")
    page.locator("textarea[name='texts-footer']").fill("See you in Berlin")
    # The session ends on the server meanwhile (signed out everywhere from elsewhere).
    with app.app_context():
        user = db.session.scalar(select(User))
        organizers.end_sessions(user)
        db.session.commit()
        db.session.remove()
    page.get_by_role("button", name=de("Save draft")).click()
    expect(page.locator("input[name=password]")).to_be_visible()
    page.locator("input[name=email]").fill("olivia@bigevents.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    # back on the invoice form, with what was typed, nothing saved yet
    expect(page.locator("input[name='lines-0-description']")).to_have_value("Booth with power")
    expect(page.locator("input[name='lines-0-unit_price']")).to_have_value("1.234,50")
    expect(page.locator("textarea[name='texts-footer']")).to_have_value("See you in Berlin")
    screenshot(page, "issue18-expired-session-restored")
    with app.app_context():
        assert db.session.scalars(select(Invoice)).all() == []
        db.session.remove()
    page.get_by_role("button", name=de("Save draft")).click()
    expect(page.get_by_text(de("The draft is saved."))).to_be_visible()
    with app.app_context():
        invoice = db.session.scalars(select(Invoice)).one()
        assert str(invoice.lines[0].unit_price) == "1234.500"
        db.session.remove()
