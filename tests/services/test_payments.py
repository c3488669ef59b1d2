"""Payments and balances through the services (SPEC §10), to the cent, on the real database."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.errors import ConflictError, NotFoundError, ValidationError
from portal.extensions import db
from portal.models import AuditEntry, Invoice, Payment
from portal.services import invoices, payments
from portal.services.representation import invoice_to_dict

from ..factories import ACTOR, line

D = Decimal
TODAY = dt.date(2026, 11, 20)


def _payment(invoice, amount, **extra):
    return payments.record_payment(invoice, {"amount": amount, **extra}, actor=ACTOR,
                                   today=TODAY)


def _actions(invoice):
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.invoice_id == invoice.id).order_by(AuditEntry.id)))


def test_partial_payments_then_paid(app, make):
    # 1 x 100.00 net at 19 %: gross 100.00 + 19.00 = 119.00.
    invoice = make.closed(make.event())
    assert invoice.gross_total == D("119.00") and invoice.balance == D("119.00")
    first = _payment(invoice, "50.00", date="2026-11-10", method="bank_transfer",
                     reference="SEPA 1")
    # 119.00 - 50.00 = 69.00 left; still open.
    assert (invoice.amount_paid, invoice.balance, invoice.status) == (
        D("50.00"), D("69.00"), "open")
    assert (first.date, first.method, first.reference) == (
        dt.date(2026, 11, 10), "bank_transfer", "SEPA 1")
    _payment(invoice, "60.01")
    # 69.00 - 60.01 = 8.99 left.
    assert invoice.balance == D("8.99") and invoice.status == "open"
    last = _payment(invoice, "8.99", method="card")
    # 50.00 + 60.01 + 8.99 = 119.00: balance 0, paid in the same step.
    assert (invoice.amount_paid, invoice.balance, invoice.status) == (
        D("119.00"), D("0.00"), "paid")
    assert invoice.paid_at is not None and last.date == TODAY
    assert _actions(invoice) == ["create", "close", "payment", "payment", "payment"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.invoice_id == invoice.id)
                              .order_by(AuditEntry.id.desc()).limit(1))
    assert (entry.from_status, entry.to_status, entry.data["amount"]) == ("open", "paid", "8.99")
    data = invoice_to_dict(invoice)
    assert (data["amount_paid"], data["balance"]) == ("119.00", "0.00")
    assert [p["amount"] for p in data["payments"]] == ["50.00", "60.01", "8.99"]
    db.session.expire_all()
    stored = db.session.get(Invoice, invoice.id)
    assert stored.amount_paid == D("119.00") and stored.status == "paid"


def test_overpayment_is_400_on_amount_and_changes_nothing(app, make):
    invoice = make.closed(make.event())
    _payment(invoice, "100.00")
    # 119.00 - 100.00 = 19.00 left; 19.01 is one cent too many.
    with pytest.raises(ValidationError) as caught:
        _payment(invoice, "19.01")
    assert list(caught.value.fields) == ["amount"]
    assert "19.00 EUR" in caught.value.fields["amount"][0]
    assert invoice.amount_paid == D("100.00") and invoice.status == "open"
    assert db.session.scalar(select(func.count(Payment.id)).where(
        Payment.invoice_id == invoice.id)) == 1


@pytest.mark.parametrize(("body", "fields"), [
    ({"amount": "0"}, {"amount"}),
    ({"amount": "-5.00"}, {"amount"}),
    ({"amount": "1.005"}, {"amount"}),          # EUR has 2 decimals
    ({"amount": "abc"}, {"amount"}),
    ({}, {"amount"}),
    ({"amount": "1.00", "method": "cheque"}, {"method"}),
    ({"amount": "1.00", "date": "2026-13-01"}, {"date"}),
    ({"amount": "1.00", "date": "2026-11-21"}, {"date"}),   # after TODAY
    ({"amount": "1.00", "reference": "x" * 201}, {"reference"}),
    ({"amount": "1.00", "note": "?"}, {"note"}),
    ({"amount": "0", "method": "x", "date": "y"}, {"amount", "method", "date"}),
])
def test_bad_payment_input_names_every_field(app, make, body, fields):
    invoice = make.closed(make.event())
    with pytest.raises(ValidationError) as caught:
        payments.record_payment(invoice, body, actor=ACTOR, today=TODAY)
    assert set(caught.value.fields) == fields
    assert invoice.amount_paid == D(0)


@pytest.mark.parametrize("state", ["draft", "proforma", "paid", "cancelled", "archived"])
def test_payments_in_the_wrong_state_are_409(app, make, state):
    event = make.event()
    if state == "draft":
        invoice = make.invoice(event)
    elif state == "proforma":
        invoice = make.closed(event, type="proforma")
    else:
        invoice = make.closed(event)
        invoices.pay_invoice(invoice, actor=ACTOR)
        if state == "cancelled":
            invoices.cancel_invoice(invoice, actor=ACTOR)
        elif state == "archived":
            invoices.archive_invoice(invoice, actor=ACTOR)
    before = invoice.amount_paid
    with pytest.raises(ConflictError):
        _payment(invoice, "1.00")
    assert invoice.amount_paid == before and invoice.status == (
        "open" if state == "proforma" else state)


def test_payments_while_disputed_and_sent(app, make):
    invoice = make.closed(make.event())
    invoices.dispute_invoice(invoice, actor=ACTOR, reason="wrong")
    _payment(invoice, "19.00")
    # 119.00 - 19.00 = 100.00; paying it while disputed makes it paid ...
    _payment(invoice, "100.00")
    assert invoice.status == "paid" and invoice.status_before_paid == "disputed"


def test_pay_without_body_records_the_whole_balance(app, make):
    invoice = make.closed(make.event())
    _payment(invoice, "20.00")
    invoices.pay_invoice(invoice, actor=ACTOR, today=TODAY)
    # 119.00 - 20.00 = 99.00 recorded by `pay`, method other, dated today.
    last = invoice.payments[-1]
    assert (last.amount, last.method, last.date, last.reference) == (
        D("99.00"), "other", TODAY, "")
    assert (invoice.status, invoice.balance) == ("paid", D("0.00"))
    assert _actions(invoice)[-1] == "pay"


def test_pay_on_a_zero_total_invoice_records_no_payment(app, make):
    invoice = make.closed(make.event(), lines=[line("Free", "1", "0.00")])
    invoices.pay_invoice(invoice, actor=ACTOR)
    assert invoice.status == "paid" and invoice.payments == []


def test_deleting_a_payment_moves_paid_back(app, make):
    invoice = make.closed(make.event())
    invoices.send_invoice(invoice, actor=ACTOR)
    first = _payment(invoice, "19.00")
    _payment(invoice, "100.00")
    assert invoice.status == "paid"
    payments.delete_payment(invoice, first.id, actor=ACTOR)
    # 100.00 paid, 119.00 - 100.00 = 19.00 due again: back to sent, as before paid.
    assert (invoice.status, invoice.amount_paid, invoice.balance) == (
        "sent", D("100.00"), D("19.00"))
    assert invoice.paid_at is None and invoice.status_before_paid is None
    assert _actions(invoice)[-1] == "payment_deleted"
    with pytest.raises(NotFoundError):
        payments.delete_payment(invoice, first.id, actor=ACTOR)


def test_deleting_a_payment_of_another_invoice_is_404(app, make):
    event = make.event()
    one, other = make.closed(event), make.closed(event)
    payment = _payment(one, "1.00")
    with pytest.raises(NotFoundError):
        payments.delete_payment(other, payment.id, actor=ACTOR)
    assert one.amount_paid == D("1.00")


def test_deleting_payments_until_archived(app, make):
    invoice = make.closed(make.event())
    payment = _payment(invoice, "119.00")
    invoices.cancel_invoice(invoice, actor=ACTOR)
    # Cancelled: a mistaken payment may still go; the status stays cancelled.
    payments.delete_payment(invoice, payment.id, actor=ACTOR)
    assert (invoice.status, invoice.amount_paid) == ("cancelled", D("0.00"))
    again = make.closed(invoice.event)
    payment = _payment(again, "119.00")
    invoices.archive_invoice(again, actor=ACTOR)
    with pytest.raises(ConflictError):
        payments.delete_payment(again, payment.id, actor=ACTOR)
    assert again.amount_paid == D("119.00")


def test_refunds_on_a_credit_note_are_partial_payments(app, make):
    invoice = make.closed(make.event())
    invoices.pay_invoice(invoice, actor=ACTOR)
    credit = invoices.cancel_invoice(invoice, actor=ACTOR)
    # The credit note negates 119.00: gross -119.00, |gross| = 119.00 to refund.
    assert credit.gross_total == D("-119.00") and credit.balance == D("119.00")
    _payment(credit, "100.00", method="bank_transfer")
    # 119.00 - 100.00 = 19.00 still to refund.
    assert (credit.status, credit.balance) == ("open", D("19.00"))
    with pytest.raises(ValidationError):
        _payment(credit, "19.01")
    _payment(credit, "19.00")
    assert (credit.status, credit.amount_paid, credit.balance) == (
        "paid", D("119.00"), D("0.00"))
    assert invoice_to_dict(credit)["balance"] == "0.00"


@pytest.mark.parametrize(("currency", "price", "gross", "part", "bad", "left"), [
    # JPY, 0 decimals: 1 x 1000 at 19 % = 1190; 1190 - 400 = 790.
    ("JPY", "1000", D("1190"), "400", "1.5", D("790")),
    # KWD, 3 decimals: 1 x 10.000 at 19 % = 11.900; 11.900 - 0.125 = 11.775.
    ("KWD", "10.000", D("11.900"), "0.125", "0.0005", D("11.775")),
    # EUR, 2 decimals: 119.00 - 0.01 = 118.99.
    ("EUR", "100.00", D("119.00"), "0.01", "0.005", D("118.99")),
])
def test_minor_units_per_currency(app, make, currency, price, gross, part, bad, left):
    event = make.event(currency=currency)
    invoice = make.closed(event, lines=[line("Ticket", "1", price)])
    assert invoice.gross_total == gross
    with pytest.raises(ValidationError) as caught:
        _payment(invoice, bad)
    assert list(caught.value.fields) == ["amount"]
    _payment(invoice, part)
    assert invoice.balance == left
    data = invoice_to_dict(invoice)
    assert data["balance"] == format(left, "f") and data["amount_paid"] == part


def test_overdue_needs_a_balance(app, make):
    invoice = make.closed(make.event(), due_date="2026-11-01")
    day_after = dt.date(2026, 11, 2)
    assert invoice.is_overdue(day_after) and not invoice.is_overdue(dt.date(2026, 11, 1))
    _payment(invoice, "118.99")
    # 0.01 left: still overdue.
    assert invoice.is_overdue(day_after)
    zero = make.closed(invoice.event, due_date="2026-11-01", lines=[line("Free", "1", "0")])
    assert not zero.is_overdue(day_after)


def test_amount_paid_is_the_sum_of_the_payments(app, make):
    # `pay` on an open invoice: one payment row; the row's amount_paid agrees with it.
    invoice = make.closed(make.event())
    invoices.pay_invoice(invoice, actor=ACTOR)
    total = sum((p.amount for p in invoice.payments), D(0))
    assert total == invoice.amount_paid == D("119.00")


def test_overdue_filter_is_one_sql_condition_agreeing_with_is_overdue(app, make, count_queries):
    from portal.services import invoice_queries as q
    event = make.event()
    late = make.closed(event, due_date="2026-11-01")            # 119.00 due, unpaid
    part = make.closed(event, due_date="2026-11-01")
    _payment(part, "118.99")                                     # 0.01 left: still overdue
    settled = make.closed(event, due_date="2026-11-01")
    invoices.pay_invoice(settled, actor=ACTOR)                   # paid: not overdue
    zero = make.closed(event, due_date="2026-11-01", lines=[line("Free", "1", "0")])
    future = make.closed(event, due_date="2026-12-01")           # not yet due
    day = dt.date(2026, 11, 2)
    with count_queries() as counted:
        page = q.invoice_page(q.event_invoices(event), q.InvoiceFilter(overdue=True, today=day),
                              ordering="id", page=1, page_size=10,
                              past_end=q.PastEnd.LAST, options=())
    assert [i.id for i in page.items] == [late.id, part.id]
    assert counted.count == 2  # the count and the page, no join, no query per row
    everyone = (late, part, settled, zero, future)
    assert {i.id for i in everyone if i.is_overdue(day)} == {late.id, part.id}
    rest = q.invoice_page(q.event_invoices(event), q.InvoiceFilter(overdue=False, today=day),
                          ordering="id", page=1, page_size=10, past_end=q.PastEnd.LAST,
                          options=())
    assert [i.id for i in rest.items] == [settled.id, zero.id, future.id]
