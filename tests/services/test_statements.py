"""Statements of account (SPEC §10) on fixed dates, to the cent, with the arithmetic written
out: opening balance, running balance, closing balance and the aging buckets per currency."""

import datetime as dt
from decimal import Decimal

import pytest

from portal.errors import ValidationError
from portal.services import invoices, payments, statements

from ..factories import ACTOR, line

D = Decimal
day = dt.date


def _closed(make, event, customer, on, due, price, **data):
    invoice = make.invoice(event, customer, lines=[line("Item", "1", price)],
                           due_date=due.isoformat(), **data)
    invoices.close_invoice(invoice, actor=ACTOR, today=on)
    return invoice


def _paid(invoice, amount, on):
    payments.record_payment(invoice, {"amount": amount, "date": on.isoformat()}, actor=ACTOR,
                            today=day(2026, 12, 31))


@pytest.fixture
def ledger(make):
    organizer = make.organizer()
    eur = make.event(organizer)
    jpy = make.event(organizer, currency="JPY")
    customer = make.customer(organizer)
    other = make.customer(organizer)
    # E: 300.00 + 19 % = 357.00, paid at once, cancelled 04-01, 100.00 of it refunded 04-02.
    e = _closed(make, eur, customer, day(2026, 1, 5), day(2026, 1, 6), "300.00")
    _paid(e, "357.00", day(2026, 1, 7))
    # A: 100.00 + 19 % = 119.00, due 01-20, 19.00 paid 01-25.
    a = _closed(make, eur, customer, day(2026, 1, 10), day(2026, 1, 20), "100.00")
    _paid(a, "19.00", day(2026, 1, 25))
    # B: 200.00 + 19 % = 238.00, due 02-15, unpaid.
    _closed(make, eur, customer, day(2026, 2, 1), day(2026, 2, 15), "200.00")
    # C: 50.00 + 19 % = 59.50, paid in full 03-05.
    c = _closed(make, eur, customer, day(2026, 3, 1), day(2026, 3, 31), "50.00")
    _paid(c, "59.50", day(2026, 3, 5))
    # D: 10.00 + 19 % = 11.90, cancelled unpaid on 03-12.
    d = _closed(make, eur, customer, day(2026, 3, 10), day(2026, 3, 20), "10.00")
    invoices.cancel_invoice(d, actor=ACTOR, today=day(2026, 3, 12))
    credit = invoices.cancel_invoice(e, actor=ACTOR, today=day(2026, 4, 1))
    _paid(credit, "100.00", day(2026, 4, 2))
    # Never on a statement: a draft, a proforma, another customer's invoice.
    make.invoice(eur, customer)
    _closed(make, eur, customer, day(2026, 2, 2), day(2026, 2, 3), "999.00", type="proforma")
    _closed(make, eur, other, day(2026, 2, 2), day(2026, 2, 3), "999.00")
    # H (JPY, 0 decimals): 1000 + 19 % = 1190, due 02-20, 190 paid 03-01.
    h = _closed(make, jpy, customer, day(2026, 2, 10), day(2026, 2, 20), "1000")
    _paid(h, "190", day(2026, 3, 1))
    return customer


def test_statement_of_a_quarter_in_two_currencies(app, ledger):
    statement = statements.build_statement(ledger, day(2026, 2, 1), day(2026, 4, 30))
    data = statements.statement_to_dict(statement)
    eur, jpy = data["currencies"]
    assert (eur["currency"], jpy["currency"]) == ("EUR", "JPY")
    # Before 02-01: E +357.00, its payment −357.00, A +119.00, A's payment −19.00 = 100.00.
    assert eur["opening_balance"] == "100.00"
    assert [(x["date"], x["type"], x["amount"], x["balance"]) for x in eur["lines"]] == [
        ("2026-02-01", "invoice", "238.00", "338.00"),       # 100.00 + 238.00
        ("2026-03-01", "invoice", "59.50", "397.50"),        # 338.00 + 59.50
        ("2026-03-05", "payment", "-59.50", "338.00"),       # 397.50 − 59.50
        ("2026-03-10", "invoice", "11.90", "349.90"),        # 338.00 + 11.90
        ("2026-03-12", "credit_note", "-11.90", "338.00"),   # 349.90 − 11.90
        ("2026-04-01", "credit_note", "-357.00", "-19.00"),  # 338.00 − 357.00
        ("2026-04-02", "refund", "100.00", "81.00"),         # −19.00 + 100.00
    ]
    assert eur["closing_balance"] == "81.00"
    # As of 04-30: A 119.00 − 19.00 = 100.00, 100 days past 01-20; B 238.00, 74 days past
    # 02-15; C paid; D netted with its credit note (11.90 − 11.90 = 0); E paid and credited:
    # −(357.00 − 100.00 refunded) = −257.00, a credit, never past due.
    # 100.00 + 238.00 − 257.00 = 81.00 = the closing balance.
    assert eur["aging"] == {"not_due": "-257.00", "days_1_30": "0.00", "days_31_60": "0.00",
                            "days_61_90": "238.00", "days_over_90": "100.00",
                            "total": "81.00"}
    # JPY: 1190 − 190 = 1000, 69 days past 02-20.
    assert [(x["type"], x["amount"], x["balance"]) for x in jpy["lines"]] == [
        ("invoice", "1190", "1190"), ("payment", "-190", "1000")]
    assert (jpy["opening_balance"], jpy["closing_balance"]) == ("0", "1000")
    assert jpy["aging"]["days_61_90"] == "1000" and jpy["aging"]["total"] == "1000"


def test_aging_as_of_an_earlier_day(app, ledger):
    statement = statements.build_statement(ledger, day(2026, 3, 6), day(2026, 3, 31))
    eur = statements.statement_to_dict(statement)["currencies"][0]
    # Opening: 100.00 + 238.00 + 59.50 − 59.50 = 338.00; D and its credit note cancel out.
    assert (eur["opening_balance"], eur["closing_balance"]) == ("338.00", "338.00")
    assert [x["type"] for x in eur["lines"]] == ["invoice", "credit_note"]
    # As of 03-31 E is not yet cancelled (04-01) and fully paid: nothing.
    # A: 100.00, 70 days past 01-20; B: 238.00, 44 days past 02-15.
    assert eur["aging"] == {"not_due": "0.00", "days_1_30": "0.00", "days_31_60": "238.00",
                            "days_61_90": "100.00", "days_over_90": "0.00", "total": "338.00"}


@pytest.mark.parametrize(("due", "bucket"), [
    (day(2026, 6, 30), "not_due"), (day(2026, 6, 29), "days_1_30"),
    (day(2026, 5, 31), "days_1_30"), (day(2026, 5, 30), "days_31_60"),
    (day(2026, 5, 1), "days_31_60"), (day(2026, 4, 30), "days_61_90"),
    (day(2026, 4, 1), "days_61_90"), (day(2026, 3, 31), "days_over_90"),
])
def test_bucket_edges(due, bucket):
    # As of 06-30: 0 days → not due; 1 and 30 → 1–30; 31 and 60; 61 and 90; 91 → over 90.
    assert statements._bucket(due, day(2026, 6, 30)) == bucket


@pytest.mark.parametrize(("args", "field"), [
    ({"from": "2026-02-30"}, "from"), ({"to": "tomorrow"}, "to"),
    ({"from": "2026-05-01", "to": "2026-04-01"}, "from"),
])
def test_bad_periods_name_the_field(args, field):
    with pytest.raises(ValidationError) as caught:
        statements.clean_period(args)
    assert list(caught.value.fields) == [field]


def test_default_period_is_the_year_to_date():
    assert statements.clean_period({}, today=day(2026, 8, 9)) == (day(2026, 1, 1),
                                                                  day(2026, 8, 9))


def test_statement_pdf_shows_the_figures(app, ledger):
    import io

    from pypdf import PdfReader
    statement = statements.build_statement(ledger, day(2026, 2, 1), day(2026, 4, 30))
    with app.test_request_context():
        pdf = statements.statement_pdf(statement, "en", {"company": "Org GmbH"})
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Statement of account" in text and "Org GmbH" in text
    assert "€81.00" in text and "-€257.00" in text and "¥1,000" in text
