"""The customer area in real headless Chromium: magic link, list, invoice, dispute."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import jobs
from portal.extensions import db
from portal.models import AuditEntry, Invoice
from portal.services import invoices, organizers
from tests.factories import ACTOR, Factory, line

pytestmark = pytest.mark.browser


def seed(app) -> dict:
    """A customer with invoices in two events: paid, open, cancelled with its credit note."""
    make = Factory()
    with app.app_context():
        organizer = make.organizer(name="Big Events")
        conf = organizers.create_event(organizer, "sampleconf", "SampleConf 2026", actor=ACTOR,
                                       invoice_prefix="SC2026-")
        summit = organizers.create_event(organizer, "summit", "Winter Summit", actor=ACTOR,
                                         invoice_prefix="WS-")
        customer = make.customer(organizer, name="Alice Buyer")

        def closed(event, on, lines, **data):
            invoice = make.invoice(event, customer, lines=lines, **data)
            invoices.close_invoice(invoice, actor=ACTOR, today=on)
            return invoice

        paid = closed(conf, dt.date(2026, 3, 2), [line("Conference ticket", "2", "150.00")])
        invoices.pay_invoice(paid, actor=ACTOR)
        dinner = closed(conf, dt.date(2026, 5, 5), [line("Speaker dinner", "1", "50.00")])
        invoices.cancel_invoice(dinner, actor=ACTOR, today=dt.date(2026, 5, 20))
        late = closed(summit, dt.date(2026, 9, 1), [line("Workshop", "1", "80.00", "7.00")])
        current = closed(summit, dt.date(2026, 11, 2),
                         [line("Summit pass", "3", "56.33", "19.00", sku="A927TP"),
                          line("Gala dinner", "1", "95.00", "19.00")],
                         discounts=[{"type": "percent_off", "value": "10"}],
                         due_date="2099-12-31",
                         texts={"introductory": "Thank you for joining the Winter Summit.",
                                "payment": "Please pay by bank transfer within 14 days."})
        jobs.commit()
        return {"key": customer.plain_key, "current": current.id, "number": current.number,
                "late": late.number, "customer_id": customer.id}


def watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return errors


def test_magic_link_list_invoice_and_dispute(live_server, page, screenshot):
    app, base = live_server
    data = seed(app)
    errors = watch_console(page)

    page.goto(f"{base}/my/access/{data['key']}")
    assert page.url == f"{base}/my/invoices"       # the key left the address bar
    expect(page.get_by_role("heading", name="My invoices")).to_be_visible()
    table = page.locator("table.my-invoices tbody tr")
    expect(table).to_have_count(5)
    expect(table.first).to_contain_text(data["number"])
    expect(table.first).to_contain_text("Winter Summit")
    expect(page.locator("tr", has_text=data["late"]).locator(".badge-overdue")).to_have_text(
        "Overdue")
    expect(page.locator("tr.my-credit-row")).to_contain_text("Credit note for SC2026-00002")
    screenshot(page, "customer-invoice-list")

    page.get_by_role("link", name=data["number"]).click()
    expect(page).to_have_url(f"{base}/my/invoices/{data['current']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(data["number"])
    expect(page.locator("h1 .my-badges")).to_contain_text("Open")
    expect(page.locator("table.doc-lines")).to_contain_text("Summit pass")
    expect(page.locator(".totals dd.grand")).to_contain_text("€282.73")

    page.get_by_label("What is wrong with this invoice?").fill("We booked two passes, not three.")
    page.get_by_role("button", name="Dispute this invoice").click()
    expect(page.locator(".flash-success")).to_contain_text("marked as disputed")
    expect(page.locator("h1 .my-badges")).to_contain_text("Disputed")
    expect(page.locator(".notice-warn")).to_contain_text("We booked two passes, not three.")
    expect(page.get_by_role("button", name="Dispute this invoice")).to_have_count(0)
    screenshot(page, "customer-invoice-disputed")
    assert errors == [], errors

    with app.app_context():
        invoice = db.session.get(Invoice, data["current"])
        assert invoice.status == "disputed"
        entry = db.session.query(AuditEntry).filter_by(invoice_id=invoice.id,
                                                       action="dispute").one()
        assert (entry.actor_type, entry.actor_id) == ("customer", data["customer_id"])


def test_readable_on_a_phone(live_server, browser, screenshot):
    app, base = live_server
    data = seed(app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        errors = watch_console(page)
        page.goto(f"{base}/my/access/{data['key']}")
        expect(page.locator("table.my-invoices tbody tr")).to_have_count(5)
        # Nothing wider than the screen: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "customer-invoice-list-phone")
        page.get_by_role("link", name=data["number"]).click()
        expect(page.locator(".totals dd.grand")).to_contain_text("€282.73")
        page.wait_for_load_state("load")  # the stylesheets, not only the markup
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "customer-invoice-detail-phone")
        assert errors == [], errors
    finally:
        context.close()


def test_start_page_and_a_wrong_key(live_server, page, screenshot):
    _, base = live_server
    page.goto(base + "/")
    expect(page.get_by_role("link", name="Sign in to the back office")).to_have_attribute(
        "href", "/login")
    page.get_by_label("Customer key").fill("ck_this-is-not-a-key")
    page.get_by_role("button", name="Open my invoices").click()
    expect(page.locator(".field-errors")).to_contain_text("This key does not open any invoices.")
    assert re.search(r"/my/access$", page.url)
    screenshot(page, "customer-start-wrong-key")
