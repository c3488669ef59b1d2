"""The schema keeps money exact and refuses impossible values on both databases."""

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import Invoice

from .factories import line


def test_money_round_trips_exactly_in_every_currency(app, make):
    for currency, price, gross in (("EUR", "0.10", "0.30"), ("KWD", "1.235", "3.705"),
                                   ("JPY", "333", "999")):
        event = make.event(currency=currency)
        invoice = make.invoice(event, lines=[line("x", "3", price, "0")])
        db.session.flush()
        db.session.expire_all()
        stored = db.session.get(Invoice, invoice.id)
        assert stored.gross_total == Decimal(gross)
        assert isinstance(stored.gross_total, Decimal)
        assert stored.lines[0].unit_price == Decimal(price)


def _fails(sql: str, **params) -> None:
    nested = db.session.begin_nested()
    with pytest.raises(IntegrityError):
        db.session.execute(text(sql), params)
    nested.rollback()


def test_check_constraints_refuse_impossible_values(app, make):
    invoice = make.invoice(make.event())
    db.session.flush()
    line_id = invoice.lines[0].id
    _fails("UPDATE invoice_lines SET quantity = '0' WHERE id = :id", id=line_id)
    _fails("UPDATE invoice_lines SET tax_rate = '100.01' WHERE id = :id", id=line_id)
    _fails("UPDATE invoices SET status = 'lost' WHERE id = :id", id=invoice.id)
    _fails("UPDATE invoices SET number = 'X-1' WHERE id = :id", id=invoice.id)  # draft + number
    _fails("UPDATE invoices SET rounding_rule = 'sometimes' WHERE id = :id", id=invoice.id)
    _fails("INSERT INTO invoice_discounts (invoice_id, position, type, value, amount) "
           "VALUES (:id, 1, 'percent_off', '101', '0')", id=invoice.id)
    _fails("INSERT INTO invoice_discounts (invoice_id, position, type, value, amount) "
           "VALUES (:id, 6, 'amount_off', '1', '0')", id=invoice.id)


def test_numbers_are_unique_within_an_event(app, make):
    event = make.event()
    first, second = make.closed(event), make.closed(event)
    _fails("UPDATE invoices SET number = :n WHERE id = :id", n=first.number, id=second.id)
