"""The customer area in German and Turkish, in real headless Chromium: no English label left
(SPEC §14). What the browser shows is compared with the English msgids of the catalogs."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from portal import jobs
from portal.i18n import TRANSLATIONS
from portal.services import invoices, organizers
from tests.factories import ACTOR, Factory, line

pytestmark = pytest.mark.browser

# Data a person typed, in the customer's language: nothing here is one of our labels.
SELLER = {"company": "Kulturverein Köln e.V.", "street1": "Domstraße 5", "city": "Köln",
          "postal_code": "50667", "country": "DE", "vat_id": "DE123456789"}
BUYER = {"company": "Yılmaz Ticaret", "first_name": "Ayşe", "last_name": "Yılmaz",
         "street1": "Bağdat Caddesi 12", "city": "İstanbul", "postal_code": "34710",
         "country": "TR", "email": "ayse@example.com"}
PLACEHOLDER = re.compile(r"%\(|\{[a-z_]*\}")


def seed(app, locale: str) -> dict:
    make = Factory()
    with app.app_context():
        organizer = organizers.create_organizer(f"kv-{locale}", "Kulturverein", actor=ACTOR,
                                                seller=SELLER)
        event = organizers.create_event(organizer, "sommerfest", "Sommerfest 2026", actor=ACTOR,
                                        invoice_prefix="SF-", locale=locale)
        customer = make.customer(organizer, name="Ayşe Yılmaz", email="ayse@example.com",
                                 locale=locale, billing_address=BUYER)
        lines = [line("Eintrittskarte · Giriş bileti", "2", "45.00", "19.00", sku="EK-01")]
        first = make.invoice(event, customer, lines=lines, due_date="2099-12-31")
        invoices.close_invoice(first, actor=ACTOR, today=dt.date(2026, 6, 1))
        second = make.invoice(event, customer, lines=lines)
        invoices.close_invoice(second, actor=ACTOR, today=dt.date(2026, 6, 2))
        credit = invoices.cancel_invoice(second, actor=ACTOR, today=dt.date(2026, 6, 3))
        jobs.commit()
        return {"key": customer.plain_key, "first": first.id, "credit": credit.id,
                "second": second.id}


def english_labels(locale: str) -> list[str]:
    """The English msgids that read differently in `locale`, without placeholders, longest
    first. A word that is also a word of the language ("Status", "Filter" in German) proves
    nothing, so a msgid found in any of the locale's translations is left out."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = "\n".join(m.string for m in catalog if m.id and isinstance(m.string, str))
    labels = [m.id for m in catalog if m.id and isinstance(m.id, str) and m.string
              and m.string != m.id and len(m.id) >= 3 and not PLACEHOLDER.search(m.id)
              and not english_in(translated, [m.id])]
    return sorted(labels, key=len, reverse=True)


def english_in(text: str, labels: list[str]) -> list[str]:
    return [label for label in labels
            if re.search(r"(?<![\w-])" + re.escape(label) + r"(?![\w-])", text)]


def visible(page) -> str:
    return page.title() + "\n" + page.locator("body").inner_text()


@pytest.mark.parametrize(("locale", "heading", "dispute_button"), [
    ("de", "Meine Rechnungen", "Rechnung beanstanden"),
    ("tr", "Faturalarım", "Bu faturaya itiraz et"),
])
def test_the_customer_area_speaks_the_customers_language(live_server, browser, screenshot,
                                                         locale, heading, dispute_button):
    app, base = live_server
    data = seed(app, locale)
    labels = english_labels(locale)
    assert len(labels) > 100  # the comparison has teeth
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    seen: dict[str, str] = {}
    try:
        # The start page from the browser's Accept-Language; a wrong key stays in the field.
        page.goto(f"{base}/")
        page.locator("#key").fill("ck_tippfehler")
        page.locator("form[action='/my/access'] button[type=submit]").click()
        expect(page.locator("#key")).to_have_value("ck_tippfehler")
        page.locator("details.my-recover summary").click()
        seen["start"] = visible(page)
        assert page.locator("html").get_attribute("lang") == locale

        page.goto(f"{base}/my/access/{data['key']}")
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
        seen["list"] = visible(page)
        screenshot(page, f"customer-list-{locale}")

        page.goto(f"{base}/my/invoices/{data['first']}")
        seen["invoice"] = visible(page)
        page.locator("#reason").fill("İki bilet değil, bir bilet · Nur eine Karte")
        page.get_by_role("button", name=dispute_button).click()
        expect(page.locator(".flash-success")).to_be_visible()
        seen["disputed"] = visible(page)
        screenshot(page, f"customer-disputed-{locale}")

        page.goto(f"{base}/my/invoices/{data['credit']}")
        seen["credit note"] = visible(page)
        page.goto(f"{base}/my/invoices/{data['second']}")
        seen["cancelled"] = visible(page)
        page.goto(f"{base}/my/invoices?status=nothing-such")
        seen["bad filter"] = visible(page)
        page.goto(f"{base}/my/invoices/999999")
        seen["not found"] = visible(page)

        for name, text in seen.items():
            assert page.locator("html").get_attribute("lang") == locale
            assert english_in(text, labels) == [], f"{locale} {name}: English left"
        # Amounts and dates in the locale: 2 × 45.00 + 19 % = 107.10.
        if locale == "de":
            assert "107,10" in seen["invoice"] and "1. Juni 2026" in seen["invoice"] \
                or "01.06.2026" in seen["invoice"]
            assert "Türkei" in seen["invoice"]
        else:
            assert "107,10" in seen["invoice"] and "Haz 2026" in seen["invoice"]
            assert "Türkiye" in seen["invoice"]
    finally:
        context.close()


def test_the_check_would_see_english(live_server):
    labels = english_labels("de")
    assert "Download PDF" in english_in("Meine Rechnungen\nDownload PDF", labels)
    assert english_in("Meine Rechnungen\nPDF herunterladen", labels) == []
