"""Free text with markup is shown as text on every back-office page, never run."""

from __future__ import annotations

import pytest

from portal.services import invoices, organizers
from tests.factories import ACTOR, line

from .conftest import Browser, commit_fixtures, text

EVIL = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


@pytest.fixture
def evil(make, fast_passwords, client):
    organizer = make.organizer(slug="evil", name=f"Org {EVIL}", company=f"Seller {EVIL}")
    event = make.event(organizer, slug="conf")
    organizers.update_event(event, {"name": f"Event {EVIL}", "footer_text": f"Foot {EVIL}"},
                            actor=ACTOR)
    customer = make.customer(organizer, "C-EVIL", name=f"Name {EVIL}", email="e@example.com",
                             billing_address={"company": f"Co {EVIL}", "city": f"City {EVIL}",
                                              "country": "DE"})
    order = make.order(event, customer, code="EVIL-1", lines=[
        {"name": f"Item {EVIL}", "quantity": "1", "unit_price": "1", "tax_rate": "0"}])
    invoice = make.invoice(event, customer, lines=[line(f"Line {EVIL}", sku="S<1>",
                                                        request_note=f"Note {EVIL}")],
                           texts={"introductory": f"Intro {EVIL}", "terms": f"Terms {EVIL}"},
                           reference={"type": f"T{EVIL}"[:32], "number": "R-1"},
                           channel=f"C{EVIL}"[:64])
    disputed = make.invoice(event, customer)
    invoices.close_invoice(disputed, actor=ACTOR)
    invoices.dispute_invoice(disputed, actor=ACTOR, reason=f"Reason {EVIL}")
    make.token(organizer)
    owner = make.member(organizer, "owner", email="owner@evil.example")
    owner.name = f"Owner {EVIL}"
    commit_fixtures()
    browser = Browser(client, owner)
    base = f"/org/{organizer.slug}"
    return browser, [
        "/org/", f"{base}/customers", f"{base}/customers/{customer.id}",
        f"{base}/events/conf/invoices", f"{base}/events/conf/invoices/{invoice.id}",
        f"{base}/events/conf/invoices/{invoice.id}/edit",
        f"{base}/events/conf/invoices/{disputed.id}", f"{base}/events/conf/invoices/new",
        f"{base}/events/conf/orders", f"{base}/events/conf/orders/{order.id}",
        f"{base}/events/conf/settings", f"{base}/tokens", f"{base}/members",
    ]


def test_markup_in_free_text_is_escaped_everywhere(evil):
    browser, urls = evil
    for url in urls:
        response = browser.get(url)
        assert response.status_code == 200, url
        page = text(response)
        assert EVIL not in page, url
        assert "<script>alert" not in page, url
        assert ESCAPED in page, url


def test_escaped_text_is_the_text_that_was_typed(evil):
    browser, urls = evil
    detail = text(browser.get(urls[4]))
    for shown in ("Line ", "Note ", "Intro ", "Terms ", "Co ", "City ", "Foot ", "Seller "):
        assert shown + ESCAPED in detail, shown
    assert "S&lt;1&gt;" in detail
    assert "Reason " + ESCAPED in text(browser.get(urls[6]))
    assert "Item " + ESCAPED in text(browser.get(urls[9]))


def test_pages_forbid_inline_scripts(evil):
    browser, urls = evil
    response = browser.get(urls[4])
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script>" not in text(response)
    assert '<script src="/static/organizer.js" defer></script>' in text(response)
