"""SPEC §11 over HTTP: close refused with `einvoice_invalid`, the check endpoint, the XML
downloads (organizer API, customer API, customer area, back office) and the customer's ZIP.

Figures: 1 x 100.00 at 19 % (the factory line) -> net 100.00, tax 19.00, gross 119.00.
"""

from __future__ import annotations

import hashlib
import io
import zipfile

from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import Invoice, InvoiceDocument, NumberSequence
from portal.services import documents
from tests.customer.helpers import sign_in
from tests.factories import line

TRAP = {"lines": [line("Sticker", "1000", "0.024")],
        "rounding": {"mode": "half_up", "rule": "per_item"}}


def _stored(make, world) -> tuple[Invoice, InvoiceDocument]:
    invoice = make.closed(world.event, world.customer)
    jobs.commit()
    return invoice, db.session.get(InvoiceDocument, invoice.id)


def test_close_refused_answers_rule_ids_and_uses_no_number(api, make, world):
    draft = make.invoice(world.event, world.customer, **TRAP)
    jobs.commit()
    response = api.post(world.invoice_url(draft, "close/"), {})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "einvoice_invalid"
    assert {"BR-CO-17", "BR-S-09"} <= set(error["fields"])
    assert isinstance(error["fields"]["BR-S-09"], str) and "BR-S-09" in error["fields"]["BR-S-09"]
    again = api.get(world.invoice_url(draft)).get_json()
    assert (again["status"], again["number"], again["issue_date"]) == ("draft", None, None)
    counter = db.session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.event_id == world.event.id, NumberSequence.name == "invoice"))
    assert not counter
    # the check endpoint answers the same list, and changes nothing
    check = api.post(world.invoice_url(draft, "check/"), {})
    assert check.status_code == 200
    body = check.get_json()
    assert body["einvoice"] is True and body["valid"] is False
    assert body["fields"] == error["fields"]
    assert api.get(world.invoice_url(draft)).get_json()["updated_at"] == again["updated_at"]


def test_check_a_good_draft_and_a_closed_invoice(api, make, world):
    draft = make.invoice(world.event, world.customer)
    jobs.commit()
    body = api.post(world.invoice_url(draft, "check/"), {}).get_json()
    assert (body["einvoice"], body["valid"], body["fields"]) == (True, True, {})
    closed = make.closed(world.event, world.customer)
    jobs.commit()
    response = api.post(world.invoice_url(closed, "check/"), {})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_draft"


def test_xml_downloads_serve_the_stored_bytes(api, make, world):
    invoice, document = _stored(make, world)
    for syntax, data in (("cii", document.cii), ("ubl", document.ubl)):
        response = api.get(world.invoice_url(invoice, f"xml/?syntax={syntax}"))
        assert response.status_code == 200 and response.mimetype == "application/xml"
        assert response.get_data() == data
        digest = hashlib.sha256(data).hexdigest()
        assert response.headers["ETag"] == f'"{digest}"'
        assert f"{invoice.number}-{syntax}.xml" in response.headers["Content-Disposition"]
        assert api.get(world.invoice_url(invoice, f"xml/?syntax={syntax}"),
                       headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    body = api.get(world.invoice_url(invoice)).get_json()
    assert body["xml"] == {"cii_sha256": hashlib.sha256(document.cii).hexdigest(),
                           "ubl_sha256": hashlib.sha256(document.ubl).hexdigest()}
    # default cii; a wrong syntax is a 400 naming the field
    assert api.get(world.invoice_url(invoice, "xml/")).get_data() == document.cii
    bad = api.get(world.invoice_url(invoice, "xml/?syntax=pdf"))
    assert bad.status_code == 400 and "syntax" in bad.get_json()["error"]["fields"]
    # drafts and proformas have none
    draft = make.invoice(world.event, world.customer)
    proforma = make.closed(world.event, world.customer, type="proforma")
    jobs.commit()
    for other in (draft, proforma):
        refused = api.get(world.invoice_url(other, "xml/"))
        assert refused.status_code == 409
        assert refused.get_json()["error"]["code"] == "no_einvoice"


def test_customer_api_area_and_zip(client, as_token, make, world):
    invoice, document = _stored(make, world)
    customer_api = as_token(customer_key=world.customer.plain_key)
    response = customer_api.get(f"/api/v1/customer/invoices/{invoice.id}/xml?syntax=ubl")
    assert response.status_code == 200 and response.get_data() == document.ubl
    other = make.customer(world.organizer)
    assert as_token(customer_key=other.plain_key).get(
        f"/api/v1/customer/invoices/{invoice.id}/xml").status_code == 404

    sign_in(client, world.customer)
    page = client.get(f"/my/invoices/{invoice.id}").get_data(as_text=True)
    assert f"/my/invoices/{invoice.id}/xml?syntax=cii" in page
    assert client.get(f"/my/invoices/{invoice.id}/xml?syntax=cii").get_data() == document.cii
    with client.get("/my/invoices.zip") as zipped:
        archive = zipfile.ZipFile(io.BytesIO(zipped.get_data()))
    assert archive.read(f"{invoice.number}.pdf") == document.content
    assert archive.read(f"{invoice.number}-cii.xml") == document.cii
    assert archive.read(f"{invoice.number}-ubl.xml") == document.ubl
    assert documents.pdfa.attachment(archive.read(f"{invoice.number}.pdf")) == document.cii
