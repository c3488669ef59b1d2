"""Invoice endpoints: create, read, change, delete and every lifecycle action, with refusals."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Invoice, Sending
from portal.services import invoices
from tests.factories import ACTOR, line


def _audit_count(invoice_id: int) -> int:
    return db.session.scalar(select(func.count(AuditEntry.id))
                             .where(AuditEntry.invoice_id == invoice_id))


# ---------------------------------------------------------------- create


def test_create_a_blank_draft(api, world):
    response = api.post(f"{world.base}/invoices/")
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "draft" and body["number"] is None and body["type"] == "invoice"
    assert body["organizer"] == world.organizer.slug and body["event"] == world.event.slug
    assert body["currency"] == "EUR" and body["lines"] == []
    assert body["totals"]["gross"] == "0.00"
    assert response.headers["Location"].endswith(f"{world.base}/invoices/{body['id']}/")
    assert api.get(response.headers["Location"]).get_json() == body


def test_create_from_an_order_copies_its_lines_and_buyer(api, world, make):
    order = make.order(world.event, world.customer, code="ABC12", lines=[
        {"sku": "A927TP", "name": "Shirt", "quantity": "3", "unit_price": "56.33",
         "tax_rate": "19"}])
    body = api.post(f"{world.base}/invoices/", {"order": order.code}).get_json()
    assert body["order"] == "ABC12" and body["customer"] == "C-1001"
    assert body["billing_address"]["company"] == "Buyer Ltd"
    assert [(x["sku"], x["description"], x["quantity"], x["unit_price"], x["tax_rate"],
             x["net_amount"], x["tax_amount"], x["gross_amount"]) for x in body["lines"]] == [
        ("A927TP", "Shirt", "3.00", "56.330", "19.00", "168.99", "32.11", "201.10")]


def test_create_with_a_billing_address_and_every_writable_field(api, world, make):
    target = make.closed(world.event, world.customer)
    body = {
        "type": "credit_note", "refers": target.number, "due_date": "2026-12-01",
        "locale": "de", "prices_include_tax": True,
        "rounding": {"mode": "half_even", "rule": "per_item"},
        "billing_address": {"company": "ACME", "country": "fr", "email": "a@example.com",
                            "is_corporate": True},
        "shipping_address": {"first_name": "Ann", "city": "Lyon"},
        "lines": [line(quantity=2, unit_price=119, tax_rate=19)],
        "discounts": [{"type": "amount_off", "value": "10"}], "discounts_include_tax": True,
        "shipping_method": {"name": "FedEx", "cost": "8.57", "tax_rate": "19"},
        "payment_method": {"name": "Card", "fee": "1.00"},
        "texts": {"introductory": "Hello", "footer": "Bye"},
        "reference": {"type": "Quote", "number": "Q-1"},
        "package_number": "P-9", "channel": "web",
    }
    response = api.post(f"{world.base}/invoices/", body)
    assert response.status_code == 201, response.get_json()
    got = response.get_json()
    assert got["type"] == "credit_note" and got["refers"] == target.number
    assert got["customer"] is None and got["billing_address"]["company"] == "ACME"
    assert got["billing_address"]["country"] == "FR" and got["billing_address"]["is_corporate"]
    assert got["shipping_address"]["city"] == "Lyon"
    assert got["rounding"] == {"mode": "half_even", "rule": "per_item"}
    assert got["locale"] == "de" and got["due_date"] == "2026-12-01"
    assert got["discounts"] == [{"type": "amount_off", "value": "10.000", "amount": "10.00"}]
    assert got["shipping_method"] == {"name": "FedEx", "cost": "8.57", "tax_rate": "19.00",
                                      "tax_category": "S", "exemption_reason": None}
    assert got["payment_method"] == {"name": "Card", "fee": "1.00", "tax_rate": "0.00",
                                     "tax_category": "Z", "exemption_reason": None}
    assert got["texts"]["introductory"] == "Hello" and got["texts"]["footer"] == "Bye"
    assert got["reference"] == {"type": "Quote", "number": "Q-1"}
    assert (got["package_number"], got["channel"]) == ("P-9", "web")
    # Gross entry: 2 × 119.00 = 238.00 gross, -10.00 gross discount, +8.57 and +1.00 gross.
    assert got["totals"]["prediscount_gross"] == "238.00"
    assert got["totals"]["gross"] == "237.57"


def test_computed_fields_are_ignored_on_input(api, world):
    body = api.post(f"{world.base}/invoices/", {
        "id": 999, "number": "X-1", "status": "paid", "totals": {"gross": "1.00"},
        "lines": [{**line(), "net_amount": "1.00", "position": 7}]}).get_json()
    assert body["id"] != 999 and body["number"] is None and body["status"] == "draft"
    assert body["lines"][0]["position"] == 1 and body["lines"][0]["net_amount"] == "100.00"


def test_every_field_problem_is_listed_at_once(api, world):
    response = api.post(f"{world.base}/invoices/", {
        "type": "bogus", "due_date": "soon", "colour": "red", "currency": "XXX",
        "rounding": {"mode": "up"},
        "lines": [{"quantity": "-1", "unit_price": "abc", "tax_rate": "101"}, "x"],
        "discounts": [{"type": "percent_off", "value": "150"}],
        "billing_address": {"country": "Germany", "email": "nope", "zip": "1"},
    })
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {
        "type", "due_date", "colour", "currency", "rounding.mode", "lines.0.quantity",
        "lines.0.unit_price", "lines.0.tax_rate", "lines.0.description", "lines.1",
        "discounts.0.value", "billing_address.country", "billing_address.email",
        "billing_address.zip"}
    assert all(isinstance(m, list) and m for m in error["fields"].values())
    assert db.session.scalar(select(func.count(Invoice.id))) == 0


def test_unknown_customer_order_and_refers_are_field_errors(api, world):
    response = api.post(f"{world.base}/invoices/", {"customer": "nobody", "refers": "NO-1"})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"customer", "refers"}
    response = api.post(f"{world.base}/invoices/", {"order": "NOPE"})
    assert response.get_json()["error"]["fields"] == {
        "order": ["No order with this code in this event."]}


def test_another_organizers_customer_is_unknown(api, world, make):
    make.customer(world.stranger_event.organizer, reference="FOREIGN")
    response = api.post(f"{world.base}/invoices/", {"customer": "FOREIGN"})
    assert response.status_code == 400
    assert "customer" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize(("data", "content_type"), [
    ("{not json", "application/json"),
    ('{"a": NaN}', "application/json"),
    ('{"lines": [Infinity]}', "application/json"),
    ("[1, 2]", "application/json"),
    ('"text"', "application/json"),
    ("\xff\xfe", "application/json"),
    ("[" * 100000 + "]" * 100000, "application/json"),
    ('{"lines": []}', "text/plain"),
    ("lines=1", "application/x-www-form-urlencoded"),
    ('{"a": 1' + "0" * 5000 + "}", "application/json"),
])
def test_a_bad_body_is_400_never_500(api, world, data, content_type):
    response = api.post(f"{world.base}/invoices/", data=data, content_type=content_type)
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == ["body"]


def test_json_numbers_are_read_exactly_never_as_floats(api, world):
    exact = api.post(f"{world.base}/invoices/", data='{"lines": [{"description": "x", '
                     '"quantity": 3, "unit_price": 56.33, "tax_rate": 19}]}',
                     content_type="application/json").get_json()
    assert exact["lines"][0]["unit_price"] == "56.330"
    assert exact["totals"]["net"] == "168.99"
    # A float would have rounded this to 0.3; read exactly it has too many decimals.
    response = api.post(f"{world.base}/invoices/", data='{"lines": [{"description": "x", '
                        '"quantity": 1, "unit_price": 0.30000000000000004}]}',
                        content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        "lines.0.unit_price": ["Use at most 3 decimal places."]}


def test_huge_numbers_are_400_not_500(api, world):
    response = api.post(f"{world.base}/invoices/", {"lines": [
        line(unit_price="1" * 40 + ".5"), line(quantity="1e999999"), line(weight="-1e-999999"),
        line(unit_price="1234567890123456789012345678.1234")]})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {
        "lines.0.unit_price", "lines.1.quantity", "lines.2.weight", "lines.3.unit_price"}


# ---------------------------------------------------------------- read


def test_detail_and_fields_projection(api, world, make):
    invoice = make.closed(world.event, world.customer)
    full = api.get(world.invoice_url(invoice)).get_json()
    assert full["number"] == invoice.number and full["customer"] == "C-1001"
    some = api.get(world.invoice_url(invoice) + "?fields=id,number,totals").get_json()
    assert some == {"id": invoice.id, "number": invoice.number, "totals": full["totals"]}
    bad = api.get(world.invoice_url(invoice) + "?fields=id,secret")
    assert bad.status_code == 400 and list(bad.get_json()["error"]["fields"]) == ["fields"]


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "1.5", "99999999999999999999",
                                    "2147483648", "１"])
def test_ids_that_name_nothing_are_404(api, world, bad_id):
    for method in ("GET", "PATCH", "DELETE"):
        response = api.request(method, f"{world.base}/invoices/{bad_id}/", {})
        assert response.status_code == 404
    assert api.post(f"{world.base}/invoices/{bad_id}/close/").status_code == 404


def test_unknown_query_parameters_are_400(api, world, make):
    invoice = make.invoice(world.event, world.customer)
    response = api.get(world.invoice_url(invoice) + "?expand=lines")
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"expand": ["Unknown query parameter."]}


# ---------------------------------------------------------------- change, delete


def test_patch_changes_only_what_is_sent(api, world, make):
    invoice = make.invoice(world.event, world.customer, channel="shop")
    response = api.patch(world.invoice_url(invoice), {"lines": [line(unit_price="50.00")],
                                                      "due_date": "2026-12-24"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["totals"]["net"] == "50.00" and body["due_date"] == "2026-12-24"
    assert body["channel"] == "shop" and body["customer"] == "C-1001"


def test_patch_refusals(api, world, make):
    draft = make.invoice(world.event, world.customer)
    bad = api.patch(world.invoice_url(draft), {"order": "X", "lines": [{"quantity": 0}]})
    assert bad.status_code == 400
    assert set(bad.get_json()["error"]["fields"]) == {"order", "lines.0.quantity",
                                                      "lines.0.unit_price",
                                                      "lines.0.description"}
    closed = make.closed(world.event, world.customer)
    before = (closed.updated_at, _audit_count(closed.id))
    refused = api.patch(world.invoice_url(closed), {"channel": "x"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "illegal_transition"
    db.session.expire_all()
    assert (db.session.get(Invoice, closed.id).channel, closed.updated_at,
            _audit_count(closed.id)) == (None, *before)


def test_delete_a_draft_only(api, world, make):
    url = world.invoice_url(make.invoice(world.event, world.customer))
    response = api.delete(url)
    assert response.status_code == 204 and response.data == b""
    assert api.get(url).status_code == 404
    closed = make.closed(world.event, world.customer)
    assert api.delete(world.invoice_url(closed)).status_code == 409
    assert api.get(world.invoice_url(closed)).status_code == 200


# ---------------------------------------------------------------- lifecycle


def test_close_numbers_and_freezes(api, world, make):
    draft = make.invoice(world.event, world.customer)
    response = api.post(world.invoice_url(draft, "close/"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "open" and body["number"] == f"{world.event.invoice_prefix}00001"
    assert body["issue_date"] == dt.date.today().isoformat()
    assert body["seller"]["company"] == "Big Events GmbH"
    again = api.post(world.invoice_url(draft, "close/"))
    assert again.status_code == 409
    detail = api.get(world.invoice_url(draft)).get_json()
    assert detail["number"] == body["number"]
    # The document of record was made after the commit; its hash is on the invoice.
    pdf = api.get(world.invoice_url(draft, "pdf/"))
    assert pdf.status_code == 200
    assert detail["pdf_sha256"] == hashlib.sha256(pdf.data).hexdigest()


def test_close_refusals_list_what_is_missing(api, world, make):
    empty = api.post(f"{world.base}/invoices/").get_json()
    response = api.post(world.invoice_url(empty["id"], "close/"))
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"lines", "billing_address"}
    expired = make.invoice(world.event, world.customer, expires_at="2020-01-01T00:00:00Z")
    response = api.post(world.invoice_url(expired, "close/"))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "expired"
    # A failed close consumes no number.
    fine = make.invoice(world.event, world.customer)
    closed = api.post(world.invoice_url(fine, "close/")).get_json()
    assert closed["number"] == f"{world.event.invoice_prefix}00001"


def test_action_bodies_are_checked(api, world, make):
    invoice = make.closed(world.event, world.customer)
    response = api.post(world.invoice_url(invoice, "pay/"), {"when": "now"})
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"when": ["Unknown field."]}
    response = api.post(world.invoice_url(invoice, "send/"), {"to": 42})
    assert response.get_json()["error"]["fields"] == {"to": ["Enter text."]}
    response = api.post(world.invoice_url(invoice, "send/"), {"to": "not an address"})
    assert response.status_code == 400 and "to" in response.get_json()["error"]["fields"]
    response = api.post(world.invoice_url(invoice, "dispute/"), {"reason": "x" * 2001})
    assert response.status_code == 400 and "reason" in response.get_json()["error"]["fields"]
    assert db.session.get(Invoice, invoice.id).status == "open"


def test_send_makes_an_open_invoice_sent_and_records_a_sending(api, world, make):
    invoice = make.closed(world.event, world.customer)
    response = api.post(world.invoice_url(invoice, "send/"), {"to": "ap@example.com"})
    assert response.status_code == 200 and response.get_json()["status"] == "sent"
    sendings = db.session.scalars(select(Sending).where(Sending.invoice_id == invoice.id)).all()
    assert [(s.to, s.outcome) for s in sendings] == [("ap@example.com", "sent")]
    assert api.get(world.invoice_url(invoice)).get_json()["status"] == "sent"
    default = api.post(world.invoice_url(invoice, "send/"))
    assert default.status_code == 200
    assert db.session.scalars(select(Sending.to).where(Sending.invoice_id == invoice.id)
                              .order_by(Sending.id)).all() == ["ap@example.com",
                                                               "jane@example.com"]


def test_pay_dispute_resolve_archive(api, world, make):
    invoice = make.closed(world.event, world.customer)
    disputed = api.post(world.invoice_url(invoice, "dispute/"), {"reason": "Wrong VAT id"})
    assert disputed.get_json()["status"] == "disputed"
    assert db.session.get(Invoice, invoice.id).dispute_reason == "Wrong VAT id"
    assert api.post(world.invoice_url(invoice, "resolve/")).get_json()["status"] == "sent"
    assert api.post(world.invoice_url(invoice, "archive/")).status_code == 409
    assert api.post(world.invoice_url(invoice, "pay/")).get_json()["status"] == "paid"
    assert api.post(world.invoice_url(invoice, "pay/")).status_code == 409
    assert api.post(world.invoice_url(invoice, "archive/")).get_json()["status"] == "archived"
    entries = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.invoice_id == invoice.id, AuditEntry.actor_type == "token")
        .order_by(AuditEntry.id)).all()
    assert entries == ["dispute", "resolve", "pay", "archive"]


def test_a_proforma_cannot_be_paid_and_cancels_without_credit_note(api, world, make):
    proforma = make.closed(world.event, world.customer, type="proforma")
    refused = api.post(world.invoice_url(proforma, "pay/"))
    assert refused.status_code == 409
    assert "proforma" in refused.get_json()["error"]["message"]
    cancelled = api.post(world.invoice_url(proforma, "cancel/")).get_json()
    assert cancelled["id"] == proforma.id and cancelled["status"] == "cancelled"
    assert db.session.scalar(select(func.count(Invoice.id))
                             .where(Invoice.type == "credit_note")) == 0


def test_cancel_answers_with_the_credit_note(api, world, make):
    invoice = make.closed(world.event, world.customer,
                          lines=[line(quantity="3", unit_price="56.33")])
    response = api.post(world.invoice_url(invoice, "cancel/"))
    assert response.status_code == 200
    credit = response.get_json()
    assert credit["type"] == "credit_note" and credit["is_cancellation"] is True
    assert credit["refers"] == invoice.number and credit["status"] == "open"
    assert credit["number"] == f"{world.event.invoice_prefix}00002"
    assert (credit["totals"]["net"], credit["totals"]["tax"], credit["totals"]["gross"]) == (
        "-168.99", "-32.11", "-201.10")
    assert credit["lines"][0]["unit_price"] == "-56.330"
    assert api.get(world.invoice_url(invoice)).get_json()["status"] == "cancelled"
    again = api.post(world.invoice_url(credit["id"], "cancel/"))
    assert again.status_code == 409
    assert "credit note" in again.get_json()["error"]["message"]


@pytest.mark.parametrize(("status", "action"), [
    ("draft", "send"), ("draft", "pay"), ("draft", "cancel"), ("draft", "archive"),
    ("open", "resolve"), ("open", "archive"), ("paid", "dispute"), ("paid", "pay"),
])
def test_illegal_steps_are_409_and_change_nothing(api, world, make, status, action):
    invoice = make.invoice(world.event, world.customer)
    if status != "draft":
        invoices.close_invoice(invoice, actor=ACTOR)
    if status == "paid":
        invoices.pay_invoice(invoice, actor=ACTOR)
    db.session.flush()
    before = _audit_count(invoice.id)
    response = api.post(world.invoice_url(invoice, f"{action}/"))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "illegal_transition"
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == status
    assert _audit_count(invoice.id) == before


def test_nul_characters_are_refused_everywhere(api, world, make):
    """PostgreSQL cannot store a NUL; SQLite could, so both refuse it the same way."""
    response = api.post(f"{world.base}/invoices/", {"customer": "\x00", "lines": [
        line(description="a\x00b")]})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"customer", "lines.0.description"}
    assert api.post(f"{world.base}/orders/", {"code": "X", "customer": "\x00",
                                              "lines": []}).status_code == 400
    assert api.get(f"{world.base}/orders/a%00b/").status_code == 404
    assert api.get(f"/api/v1/organizers/{world.organizer.slug}/events/e%00/invoices/"
                   ).status_code == 404
    query = api.get(f"{world.base}/invoices/?customer=a%00")
    assert query.status_code == 400
    assert query.get_json()["error"]["fields"] == {"customer": [
        "NUL characters are not allowed."]}


def test_the_pdf_is_the_document_of_record_or_a_draft_preview(api, world, make):
    from portal.services import documents

    draft = make.invoice(world.event, world.customer)
    preview = api.get(world.invoice_url(draft, "pdf/"))
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert preview.data.startswith(b"%PDF") and preview.headers["Cache-Control"] == "no-store"
    assert "ETag" not in preview.headers
    closed = make.closed(world.event, world.customer)
    pending = api.get(world.invoice_url(closed, "pdf/"))
    assert pending.status_code == 409
    assert pending.get_json()["error"]["code"] == "document_pending"
    assert int(pending.headers["Retry-After"]) > 0
    document = documents.store_document_of_record(closed.id)
    stored = api.get(world.invoice_url(closed, "pdf/"))
    assert stored.status_code == 200 and stored.data == document.content
    assert stored.headers["ETag"] == f'"{document.sha256}"'
    assert api.get(world.invoice_url(closed, "pdf/")).data == stored.data
    cached = api.get(world.invoice_url(closed, "pdf/"),
                     headers={"If-None-Match": stored.headers["ETag"]})
    assert cached.status_code == 304 and cached.data == b""
    foreign = make.closed(world.stranger_event)
    assert api.get(world.invoice_url(foreign, "pdf/")).status_code == 404
