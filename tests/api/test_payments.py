"""The payments endpoints and the invoice object's payments, amount_paid and balance (§10)."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invoice, Payment
from portal.services import invoices
from tests.factories import ACTOR, line

D = Decimal


@pytest.fixture
def open_invoice(make, world):
    # 1 x 100.00 net at 19 %: gross 119.00.
    return make.closed(world.event, world.customer)


def test_record_list_and_delete_payments(api, world, open_invoice):
    url = world.invoice_url(open_invoice, "payments/")
    created = api.post(url, {"amount": "19.00", "date": "2026-11-02",
                             "method": "bank_transfer", "reference": "SEPA 42"})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["amount"], body["date"], body["method"], body["reference"],
            body["recorded_by"]) == ("19.00", "2026-11-02", "bank_transfer", "SEPA 42", "token")
    assert created.headers["Location"].endswith(url)
    listed = api.get(url).json
    # 119.00 - 19.00 = 100.00
    assert (listed["count"], listed["amount_paid"], listed["balance"], listed["currency"]) == (
        1, "19.00", "100.00", "EUR")
    invoice = api.get(world.invoice_url(open_invoice)).json
    assert (invoice["status"], invoice["amount_paid"], invoice["balance"]) == (
        "open", "19.00", "100.00")
    assert [p["id"] for p in invoice["payments"]] == [body["id"]]
    # A JSON number is read exactly: 100 pays the rest.
    rest = api.post(url, {"amount": 100})
    assert rest.status_code == 201 and rest.json["amount"] == "100.00"
    assert api.get(world.invoice_url(open_invoice)).json["status"] == "paid"
    gone = api.delete(f"{url}{rest.json['id']}/")
    assert gone.status_code == 204
    after = api.get(world.invoice_url(open_invoice)).json
    assert (after["status"], after["balance"]) == ("open", "100.00")
    assert api.delete(f"{url}{rest.json['id']}/").status_code == 404


def test_overpayment_400_names_amount_and_changes_nothing(api, world, open_invoice):
    url = world.invoice_url(open_invoice, "payments/")
    answer = api.post(url, {"amount": "119.01"})
    assert answer.status_code == 400
    assert list(answer.json["error"]["fields"]) == ["amount"]
    assert db.session.scalar(select(func.count(Payment.id))) == 0
    assert db.session.get(Invoice, open_invoice.id).amount_paid == D(0)


def test_bad_fields_are_all_named(api, world, open_invoice):
    answer = api.post(world.invoice_url(open_invoice, "payments/"),
                      {"amount": "1.001", "method": "cheque", "date": "soon", "x": 1})
    assert answer.status_code == 400
    assert set(answer.json["error"]["fields"]) == {"amount", "method", "date", "x"}


def test_wrong_state_is_409(api, world, make):
    draft = make.invoice(world.event, world.customer)
    assert api.post(world.invoice_url(draft, "payments/"), {"amount": "1.00"}).status_code == 409
    proforma = make.closed(world.event, world.customer, type="proforma")
    answer = api.post(world.invoice_url(proforma, "payments/"), {"amount": "1.00"})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "illegal_transition"


def test_pay_without_body_records_the_balance(api, world, open_invoice):
    api.post(world.invoice_url(open_invoice, "payments/"), {"amount": "20.00"})
    paid = api.post(world.invoice_url(open_invoice, "pay/"))
    assert paid.status_code == 200
    # 119.00 - 20.00 = 99.00, method other.
    assert (paid.json["status"], paid.json["balance"]) == ("paid", "0.00")
    assert [(p["amount"], p["method"]) for p in paid.json["payments"]] == [
        ("20.00", "other"), ("99.00", "other")]


def test_read_only_token_reads_but_cannot_write(as_token, world, open_invoice):
    reader = as_token(world.ro)
    url = world.invoice_url(open_invoice, "payments/")
    assert reader.get(url).status_code == 200
    assert reader.post(url, {"amount": "1.00"}).status_code == 403
    stranger = as_token(world.stranger)
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, {"amount": "1.00"}).status_code == 404


def test_idempotent_payment_is_recorded_once(api, world, open_invoice):
    url = world.invoice_url(open_invoice, "payments/")
    headers = {"Idempotency-Key": "pay-once-1"}
    first = api.post(url, {"amount": "10.00"}, headers=headers)
    again = api.post(url, {"amount": "10.00"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json["id"] == again.json["id"]
    assert db.session.get(Invoice, open_invoice.id).amount_paid == D("10.00")
    other = api.post(url, {"amount": "11.00"}, headers=headers)
    assert other.status_code == 409


def test_customer_api_shows_amount_paid_and_balance(as_token, world, open_invoice, api):
    api.post(world.invoice_url(open_invoice, "payments/"), {"amount": "0.01"})
    customer = as_token(customer_key=world.customer.plain_key)
    body = customer.get(f"/api/v1/customer/invoices/{open_invoice.id}").json
    # 119.00 - 0.01 = 118.99
    assert (body["amount_paid"], body["balance"]) == ("0.01", "118.99")
    assert body["payments"][0]["recorded_by"] == "token"


def test_invoice_list_with_payments_has_no_n_plus_one(api, world, make, count_queries):
    for _ in range(3):
        invoice = make.closed(world.event, world.customer)
        invoices.pay_invoice(invoice, actor=ACTOR)
    with count_queries() as few:
        assert api.get(f"{world.base}/invoices/?page_size=3").status_code == 200
    for _ in range(6):
        invoice = make.closed(world.event, world.customer, lines=[line("A", "2", "1.00")])
        invoices.pay_invoice(invoice, actor=ACTOR)
    with count_queries() as many:
        body = api.get(f"{world.base}/invoices/?page_size=9").json
    assert len(body["results"]) == 9 and all(r["balance"] == "0.00" for r in body["results"])
    assert many.count == few.count


def test_statement_json_and_pdf(api, world, make, as_token):
    import datetime as dt

    invoice = make.invoice(world.event, world.customer, due_date="2026-03-01")
    invoices.close_invoice(invoice, actor=ACTOR, today=dt.date(2026, 2, 1))
    from portal.services import payments
    payments.record_payment(invoice, {"amount": "19.00", "date": "2026-02-10"}, actor=ACTOR)
    url = f"{world.base}/customers/{world.customer.id}/statement/"
    body = api.get(f"{url}?from=2026-02-01&to=2026-04-15").json
    eur = body["currencies"][0]
    # 119.00 issued 02-01, 19.00 paid 02-10: 100.00 open, 45 days past 03-01.
    assert [(x["type"], x["amount"], x["balance"]) for x in eur["lines"]] == [
        ("invoice", "119.00", "119.00"), ("payment", "-19.00", "100.00")]
    assert eur["aging"]["days_31_60"] == "100.00" and eur["aging"]["total"] == "100.00"
    assert (body["from"], body["to"]) == ("2026-02-01", "2026-04-15")
    pdf = api.get(f"{url}?from=2026-02-01&to=2026-04-15", headers={"Accept": "application/pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    bad = api.get(f"{url}?from=2026-02-30&to=soon")
    assert bad.status_code == 400 and set(bad.json["error"]["fields"]) == {"from", "to"}
    reversed_ = api.get(f"{url}?from=2026-05-01&to=2026-04-01")
    assert reversed_.status_code == 400 and list(reversed_.json["error"]["fields"]) == ["from"]
    assert api.get(f"{url}?since=2026-01-01").status_code == 400
    # A token limited to the other event sees none of this event's documents.
    limited = as_token(world.limited)
    other = f"/api/v1/organizers/{world.organizer.slug}/events/{world.other_event.slug}"
    body = limited.get(f"{other}/customers/{world.customer.id}/statement/"
                       "?from=2026-01-01&to=2026-04-15").json
    assert body["currencies"] == []
