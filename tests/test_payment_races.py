"""Payment races (SPEC §10), with real threads, real requests and real commits, on SQLite and
PostgreSQL alike, in the style of tests/test_races.py.

Whatever the interleaving, the invoice row's `amount_paid` equals the sum of its payment rows,
the balance never goes below zero, and the invoice is `paid` exactly when the balance is zero.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Invoice, Payment
from portal.services import payments
from tests.factories import ACTOR
from tests.test_races import TRIALS, WIDTH, Seed, api, audit_actions, fire

pytestmark = pytest.mark.concurrency

D = Decimal
GROSS = D("23.80")  # the seed's line: 20.00 + 19 % = 23.80


def consistent(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    rows = list(db.session.scalars(select(Payment.amount).where(
        Payment.invoice_id == invoice_id)))
    assert invoice.amount_paid == sum(rows, D(0))
    assert D(0) <= invoice.balance <= GROSS
    assert (invoice.status == "paid") == (invoice.balance == 0), (invoice.status,
                                                                   invoice.balance)
    return invoice


def pay(seed, invoice_id, amount):
    return api(seed, "POST", invoice_id, "payments", json={"amount": amount})


def test_payments_that_together_exceed_the_balance_one_wins(committed_app):
    seed = Seed(committed_app, closed=TRIALS)
    for invoice_id in seed.closed:
        # 15.00 + 15.00 = 30.00 > 23.80: the second, served after the first, would overpay.
        statuses = fire(committed_app, [pay(seed, invoice_id, "15.00")] * WIDTH)
        assert sorted(statuses) == [201] + [400] * (WIDTH - 1), statuses
    with committed_app.app_context():
        for invoice_id in seed.closed:
            invoice = consistent(invoice_id)
            # 23.80 - 15.00 = 8.80 left, still open.
            assert (invoice.amount_paid, invoice.balance, invoice.status) == (
                D("15.00"), D("8.80"), "open")


def test_halves_racing_pay_it_exactly_once(committed_app):
    seed = Seed(committed_app, closed=TRIALS)
    for invoice_id in seed.closed:
        # 11.90 × 2 = 23.80: two win and the second makes it paid; the others are refused
        # (400: more than the balance, or 409: already paid).
        statuses = fire(committed_app, [pay(seed, invoice_id, "11.90")] * WIDTH)
        assert sorted(statuses)[:2] == [201, 201], statuses
        assert set(sorted(statuses)[2:]) <= {400, 409}, statuses
    with committed_app.app_context():
        for invoice_id in seed.closed:
            invoice = consistent(invoice_id)
            assert (invoice.status, invoice.amount_paid) == ("paid", GROSS)
            assert audit_actions(invoice_id) == ["create", "close", "payment", "payment"]


def test_simultaneous_pays_record_one_payment_of_the_balance(committed_app):
    seed = Seed(committed_app, closed=TRIALS)
    for invoice_id in seed.closed:
        statuses = fire(committed_app, [api(seed, "POST", invoice_id, "pay")] * WIDTH)
        assert sorted(statuses) == [200] + [409] * (WIDTH - 1), statuses
    with committed_app.app_context():
        for invoice_id in seed.closed:
            invoice = consistent(invoice_id)
            assert [(p.amount, p.method) for p in invoice.payments] == [(GROSS, "other")]
            assert audit_actions(invoice_id).count("pay") == 1


def test_record_racing_delete_stays_consistent(committed_app):
    seed = Seed(committed_app, closed=TRIALS)
    with committed_app.app_context():
        made = {}
        for invoice_id in seed.closed:
            invoice = db.session.get(Invoice, invoice_id)
            made[invoice_id] = payments.record_payment(invoice, {"amount": "23.80"},
                                                       actor=ACTOR).id
        db.session.commit()
    orders = {"delete first": 0, "record first": 0}
    for invoice_id in seed.closed:
        path = f"{seed.base}/invoices/{invoice_id}/payments/"
        statuses = fire(committed_app, [
            ("DELETE", f"{path}{made[invoice_id]}/", {"headers": seed.auth}),
            pay(seed, invoice_id, "10.00")])
        deleted, recorded = statuses
        # Serialized either way: the delete always goes through; the payment only after it
        # (before, the invoice was paid: 409).
        assert deleted == 204 and recorded in (201, 409), statuses
        orders["delete first" if recorded == 201 else "record first"] += 1
        with committed_app.app_context():
            invoice = consistent(invoice_id)
            # 23.80 - 10.00 = 13.80 left when the payment got in, else all of 23.80.
            assert invoice.balance == (D("13.80") if recorded == 201 else GROSS)
            assert invoice.status == "open"
    assert sum(orders.values()) == TRIALS
