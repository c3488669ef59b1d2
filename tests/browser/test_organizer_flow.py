"""An organizer runs an invoice's whole life in a real browser (headless Chromium).

Sign in, create a customer (key and magic link shown once, with a copy button), write an
invoice with two lines (the second added by the line editor's script), close it, send it,
cancel it, and open the credit note: every check is on what the page shows.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.jobs import commit
from portal.services import organizers
from tests.factories import ACTOR

pytestmark = pytest.mark.browser

PASSWORD = "a long enough password"


@pytest.fixture
def back_office(live_server):
    app, base_url = live_server
    with app.app_context():
        organizer = organizers.create_organizer(
            "bigevents", "Big Events LLC", actor=ACTOR,
            seller={"company": "Big Events LLC", "street1": "Demo Street 12", "city": "Berlin",
                    "postal_code": "10115", "country": "DE", "vat_id": "DE123456789"})
        organizers.create_event(organizer, "sampleconf", "Sample Conference 2026", actor=ACTOR,
                                invoice_prefix="SC2026-", proforma_prefix="SC2026-PF-",
                                shipping_prefix="SC2026-DN-", currency="EUR", due_days=14,
                                payment_text="Please transfer the amount within 14 days.")
        user = organizers.create_user("olivia@bigevents.example", PASSWORD, name="Olivia")
        organizers.add_membership(user, organizer, "owner", actor=ACTOR)
        commit()
        db.session.remove()
    return base_url


def test_organizer_runs_an_invoice_from_draft_to_credit_note(back_office, page, screenshot):
    base = back_office
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    # Sign in; a protected page first sends us to the login form and back.
    page.goto(f"{base}/org/bigevents/customers")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail").fill("olivia@bigevents.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_text("olivia@bigevents.example")).to_be_visible()

    # A customer: the key and its magic link are shown once, with copy buttons.
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Reference").fill("C-1001")
    page.get_by_label("Name", exact=True).fill("John Doe")
    page.get_by_label("E-mail", exact=True).first.fill("john.doe@sample.example")
    page.get_by_label("Company").fill("Sample Company Ltd")
    page.get_by_label("Street", exact=True).fill("221b Baker Street")
    page.get_by_label("Postal code").fill("NW1 6XE")
    page.get_by_label("City").fill("London")
    page.get_by_label("Country", exact=True).select_option("GB")
    page.get_by_role("button", name="Create customer and key").click()
    expect(page.get_by_role("heading", name="Customer created")).to_be_visible()
    expect(page.get_by_text("This is the only time the key is shown.")).to_be_visible()
    link = page.get_by_label("Magic link (signs the customer in)").input_value()
    key = page.get_by_label("Customer key").input_value()
    assert re.fullmatch(r"ck_[A-Za-z0-9_-]{32}", key)
    assert link.endswith(f"/my/access/{key}")
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link

    # An invoice with two lines; the second row comes from the line editor's script.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Sample Conference 2026").click()
    page.get_by_role("link", name="New invoice").click()
    page.get_by_label("Customer", exact=True).select_option("C-1001")
    expect(page.get_by_label("Corrects invoice (number)")).to_be_hidden()  # credit notes only
    page.locator('[name="lines-0-description"]').fill("Conference ticket")
    page.locator('[name="lines-0-quantity"]').fill("2")
    page.locator('[name="lines-0-unit_price"]').fill("399.00")
    page.locator('[name="lines-0-tax_rate"]').fill("19")
    url_before = page.url
    page.get_by_role("button", name="+ Add line").click()
    assert page.url == url_before  # no round trip to the server
    expect(page.locator('[name="lines-1-description"]')).to_be_focused()
    page.locator('[name="lines-1-description"]').fill("Workshop: Invoicing done right")
    page.locator('[name="lines-1-quantity"]').fill("1")
    page.locator('[name="lines-1-unit_price"]').fill("149.00")
    page.locator('[name="lines-1-tax_rate"]').fill("7")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("The draft is saved.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Draft #")
    document = page.get_by_role("article", name="Invoice document")
    expect(document).to_contain_text("Conference ticket")
    expect(document).to_contain_text("Workshop: Invoicing done right")
    expect(document).to_contain_text("Sample Company Ltd")
    # 2 × 399.00 = 798.00 + 19 % 151.62 = 949.62; 149.00 + 7 % 10.43 = 159.43 → 1,109.05
    expect(document).to_contain_text("€798.00")
    expect(document).to_contain_text("€151.62")
    expect(document).to_contain_text("€10.43")
    expect(document.locator("dd.grand")).to_have_text("€1,109.05")

    # Close: the draft gets its number.
    page.get_by_role("button", name="Close and number").click()
    expect(page.get_by_text("Invoice SC2026-00001 is closed")).to_be_visible()
    assert dialogs[-1].startswith("Closing freezes the invoice")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SC2026-00001")
    expect(page.locator("h1 .badge-open")).to_have_text("Open")

    # Send it to the buyer's address.
    page.get_by_role("button", name="Send by e-mail").click()
    expect(page.get_by_text("Invoice SC2026-00001 is on its way to john.doe@sample.example."))\
        .to_be_visible()
    expect(page.locator("h1 .badge-sent")).to_have_text("Sent")
    sendings = page.locator("section", has=page.get_by_role("heading", name="Sendings"))
    expect(sendings).to_contain_text("john.doe@sample.example")
    expect(sendings.locator(".badge-outcome-sent")).to_have_text("Sent")

    # Cancel: a credit note is issued.
    page.get_by_role("button", name="Cancel invoice").click()
    assert dialogs[-1] == "Cancel this invoice? A credit note will be issued."
    expect(page.get_by_text("Invoice SC2026-00001 is cancelled; credit note SC2026-00002 "
                            "was issued.")).to_be_visible()
    expect(page.locator("h1 .badge-cancelled")).to_have_text("Cancelled")
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    for step in ("Create", "Close", "Send", "Delivered", "Cancel"):
        expect(history.get_by_text(step, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Archive")).to_be_visible()
    screenshot(page, "organizer-invoice-detail")

    # The credit note negates the invoice.
    page.get_by_role("link", name="SC2026-00002").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SC2026-00002")
    document = page.get_by_role("article", name="Invoice document")
    expect(document.get_by_role("heading", name="Cancellation")).to_be_visible()
    expect(document).to_contain_text("SC2026-00001")
    expect(document.locator("dd.grand")).to_have_text("-€1,109.05")
    expect(page.get_by_text("Cancels SC2026-00001")).to_be_visible()
    screenshot(page, "organizer-credit-note")

    # Both are in the list, the cancelled invoice and its credit note.
    page.get_by_role("link", name="Invoices", exact=True).click()
    rows = page.locator("table.invoice-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("SC2026-00002")
    expect(rows.nth(0)).to_contain_text("Credit note")
    expect(rows.nth(1)).to_contain_text("Cancelled")
