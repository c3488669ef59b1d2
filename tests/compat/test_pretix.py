"""pretix dialect: the seed's own requests, answered in the seed's shapes (SPEC §12)."""

from __future__ import annotations

import requests

from portal.extensions import db
from portal.models import Invoice
from portal.services import documents, invoices
from tests.factories import ACTOR, line

from .seeds import PRETIX_INVOICE, PRETIX_LIST, same_shape


def _event_url(base, world, event=None):
    event = event or world.event
    return f"{base}/compat/pretix/api/v1/organizers/{world.organizer.slug}/events/{event.slug}"


def _headers(token) -> dict:
    # The seed's example request, plus the credentials every pretix API call carries.
    return {"Accept": "application/json, text/javascript", "Authorization": f"Token {token.plain}"}


def _shop(world, make):
    """An invoice with a VAT id, its cancellation (a credit note), a proforma and a draft."""
    customer = make.customer(world.organizer, billing_address={
        "company": "Sample company", "first_name": "John", "last_name": "Doe",
        "street1": "Test street 12", "postal_code": "12345", "city": "Testington",
        "country": "DE", "vat_id": "DE123456789", "email": "john@example.com"})
    make.order(world.event, customer, code="ABC12")
    first = make.closed(world.event, customer, order="ABC12", lines=[
        line(description="Budget Ticket", unit_price="23.00", tax_rate="0.00")],
        texts={"introductory": "thank you for your purchase of the following items:",
               "payment": "Please transfer the money to our account ABC…"})
    proforma = make.closed(world.event, customer, type="proforma")
    second = make.closed(world.event, customer)
    credit = invoices.cancel_invoice(second, actor=ACTOR)
    draft = make.invoice(world.event, customer)
    db.session.flush()
    return first, proforma, second, credit, draft


def test_the_seed_requests_get_the_seed_shapes(seed_http, world, make):
    first, proforma, second, credit, _draft = _shop(world, make)
    base = _event_url(seed_http, world)

    response = requests.get(f"{base}/invoices/", headers=_headers(world.rw))
    assert response.status_code == 200
    body = response.json()
    assert same_shape(body, PRETIX_LIST) == []
    # Drafts are never listed; default ordering is invoice_no (the full number).
    numbers = [item["invoice_no"] for item in body["results"]]
    assert body["count"] == 4 and numbers == sorted(
        [first.number, proforma.number, second.number, credit.number])

    detail = requests.get(f"{base}/invoices/{first.number}/", headers=_headers(world.rw))
    assert detail.status_code == 200
    item = detail.json()
    assert same_shape(item, PRETIX_INVOICE) == [] and set(item) == set(PRETIX_INVOICE)
    assert item["invoice_no"] == first.number and first.number.startswith(world.event.invoice_prefix)
    assert item["order"] == "ABC12" and item["is_cancellation"] is False and item["refers"] is None
    assert item["invoice_to"] == ("Sample company\nJohn Doe\nTest street 12\n12345 Testington\n"
                                  "DE\nVAT ID: DE123456789")
    assert item["invoice_from"] == "Big Events GmbH\nMain St 1\n10115 Berlin\nDE"
    assert item["date"] == first.issue_date.isoformat()
    assert item["introductory_text"] == "thank you for your purchase of the following items:"
    assert item["payment_provider_text"] == "Please transfer the money to our account ABC…"
    assert item["lines"] == [{"description": "Budget Ticket", "gross_value": "23.00",
                              "tax_value": "0.00", "tax_rate": "0.00"}]

    cancellation = requests.get(f"{base}/invoices/{credit.number}/", headers=_headers(world.rw))
    assert cancellation.json()["is_cancellation"] is True
    assert cancellation.json()["refers"] == second.number
    # 100.00 net + 19 % = 119.00 gross, 19.00 tax, negated on the credit note.
    assert cancellation.json()["lines"] == [{"description": "Ticket", "gross_value": "-119.00",
                                             "tax_value": "-19.00", "tax_rate": "19.00"}]


def test_a_bare_counter_is_not_an_invoice_id(seed_http, world, make):
    first, proforma, *_ = _shop(world, make)
    base = _event_url(seed_http, world)
    # The issue: `invoices/00008/` returned the invoice with *id* 8. A number is a number.
    for wrong in (str(first.id), str(proforma.id), first.number[-5:]):
        response = requests.get(f"{base}/invoices/{wrong}/", headers=_headers(world.rw))
        assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert requests.get(f"{base}/invoices/{proforma.number}/",
                        headers=_headers(world.rw)).json()["invoice_no"] == proforma.number


def test_filters_ordering_and_pages(seed_http, world, make):
    first, proforma, second, credit, _ = _shop(world, make)
    base = _event_url(seed_http, world)

    def numbers(query):
        response = requests.get(f"{base}/invoices/{query}", headers=_headers(world.rw))
        assert response.status_code == 200, response.text
        return [item["invoice_no"] for item in response.json()["results"]]

    assert numbers("?is_cancellation=true") == [credit.number]
    assert credit.number not in numbers("?is_cancellation=false")
    assert numbers("?order=ABC12") == [first.number]
    assert numbers(f"?refers={second.number}") == [credit.number]
    assert numbers("?locale=fr") == []
    everything = numbers("")
    assert numbers("?ordering=-invoice_no") == list(reversed(everything))
    assert numbers("?ordering=invoice_no") == everything
    assert set(numbers("?ordering=-date")) == set(everything)
    refused = requests.get(f"{base}/invoices/?ordering=total", headers=_headers(world.rw))
    assert refused.status_code == 400 and "ordering" in refused.json()
    assert requests.get(f"{base}/invoices/?page=2", headers=_headers(world.rw)).status_code == 404


def test_fifty_a_page(seed_http, world, make):
    customer = make.customer(world.organizer)
    for _ in range(51):
        make.closed(world.event, customer)
    base = _event_url(seed_http, world)
    page1 = requests.get(f"{base}/invoices/", headers=_headers(world.rw)).json()
    assert page1["count"] == 51 and len(page1["results"]) == 50 and page1["previous"] is None
    page2 = requests.get(page1["next"], headers=_headers(world.rw)).json()
    assert len(page2["results"]) == 1 and page2["next"] is None
    assert page2["previous"].endswith("page=1")


def test_download_is_the_document_of_record_or_409_while_it_is_made(seed_http, world, make):
    invoice = make.closed(world.event)
    url = f"{_event_url(seed_http, world)}/invoices/{invoice.number}/download/"
    pending = requests.get(url, headers=_headers(world.rw))
    assert pending.status_code == 409 and int(pending.headers["Retry-After"]) > 0
    document = documents.store_document_of_record(invoice.id)
    stored = requests.get(url, headers=_headers(world.ro))
    assert stored.status_code == 200 and stored.headers["Content-Type"] == "application/pdf"
    assert stored.content == document.content


def test_unknown_or_unseen_organizer_or_event_is_403(seed_http, world, make):
    invoice = make.closed(world.event)
    base = _event_url(seed_http, world)
    for token, url in (
        (world.stranger, f"{base}/invoices/"),                     # another organizer's token
        (world.limited, f"{base}/invoices/"),                      # not limited to this event
        (world.limited, f"{base}/invoices/{invoice.number}/"),
        (world.rw, f"{seed_http}/compat/pretix/api/v1/organizers/{world.organizer.slug}"
                   "/events/nope/invoices/"),
        (world.rw, f"{seed_http}/compat/pretix/api/v1/organizers/nope/events/"
                   f"{world.event.slug}/invoices/"),
    ):
        response = requests.get(url, headers=_headers(token))
        assert response.status_code == 403, url
        assert set(response.json()) == {"detail"}
    anonymous = requests.get(f"{base}/invoices/", headers={"Accept": "application/json"})
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"]
    # The read-only token reads; X-Request-ID is echoed as in the API.
    ok = requests.get(f"{base}/invoices/", headers={**_headers(world.ro), "X-Request-ID": "r-1"})
    assert ok.status_code == 200 and ok.headers["X-Request-ID"] == "r-1"
    assert db.session.get(Invoice, invoice.id).status == "open"


def test_numbers_with_slashes_in_their_prefix(seed_http, world, make):
    event = make.event(world.organizer, invoice_prefix="SC/2026/")
    invoice = make.closed(event)
    documents.store_document_of_record(invoice.id)
    assert invoice.number == "SC/2026/00001"
    base = _event_url(seed_http, world, event)
    detail = requests.get(f"{base}/invoices/{invoice.number}/", headers=_headers(world.rw))
    assert detail.status_code == 200 and detail.json()["invoice_no"] == "SC/2026/00001"
    download = requests.get(f"{base}/invoices/{invoice.number}/download/",
                            headers=_headers(world.rw))
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert requests.get(f"{base}/invoices/SC/2026/", headers=_headers(world.rw)).status_code == 404
