"""Migration 0005 on a populated database: nothing is lost, old rows get sensible values, and
from then on an id is never handed out twice (SQLite tables are rebuilt with AUTOINCREMENT)."""

from __future__ import annotations

from decimal import Decimal

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from portal.extensions import db
from portal.models import (
    Customer,
    Invoice,
    InvoiceDocument,
    InvoiceLine,
    InvoiceTax,
    Membership,
    Order,
    Sending,
)
from portal.services import invoices as svc
from tests.factories import ACTOR, Factory, line

COUNTED = (Invoice, InvoiceLine, InvoiceTax, InvoiceDocument, Sending, Customer, Order,
           Membership)


def _counts() -> dict:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in COUNTED}


def _populate(make: Factory):
    organizer = make.organizer()
    make.member(organizer, "owner")
    event = make.event(organizer)
    customer = make.customer(organizer)
    make.order(event, customer)
    closed = make.closed(event, customer, lines=[line("Ticket", "2", "50.00", unit="pcs"),
                                                line("Book", "1", "20.00", "0")])
    svc.send_invoice(closed, actor=ACTOR)
    db.session.add(InvoiceDocument(invoice_id=closed.id, content=b"%PDF-1.4 test",
                                   sha256="0" * 64, size=13))
    svc.cancel_invoice(closed, actor=ACTOR)
    make.invoice(event, customer)
    newest = make.invoice(event, customer)
    db.session.commit()
    return event, customer, newest.id


def test_a_populated_0004_database_keeps_every_row_and_never_reuses_ids(committed_app, db_kind):
    make = Factory()
    with committed_app.app_context():
        event_id, customer_id, newest_id = (lambda e, c, n: (e.id, c.id, n))(
            *_populate(make))
        before = _counts()
        assert before["Invoice"] == 4 and before["InvoiceLine"] == 6 and before["Sending"] == 1
        db.session.remove()

        downgrade(revision="0004")
        if db_kind == "sqlite":
            sql = db.session.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'invoices'")).scalar()
            assert "AUTOINCREMENT" not in sql
        # What a 0004 database held: free-text units, no categories.
        db.session.execute(text("UPDATE invoice_lines SET unit = 'pcs' WHERE position = 1"))
        db.session.commit()
        db.session.remove()

        upgrade()
        assert _counts() == before  # nothing lost, nothing cascaded away
        units = db.session.execute(select(InvoiceLine.unit, InvoiceLine.tax_category)
                                   .order_by(InvoiceLine.id)).all()
        # 'pcs' -> H87 (piece); the 0 % line is zero-rated, the 19 % one standard.
        assert {tuple(row) for row in units} == {("H87", "S"), ("C62", "Z")}
        taxes = db.session.execute(select(InvoiceTax.category, InvoiceTax.rate)).all()
        assert {(c, Decimal(r)) for c, r in taxes} == {("S", Decimal("19.00")),
                                                       ("Z", Decimal("0.00"))}
        if db_kind == "sqlite":
            for table in ("invoices", "customers", "orders", "sendings", "api_tokens",
                          "memberships", "events", "organizers", "users"):
                sql = db.session.execute(text(
                    "SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}).scalar()
                assert "AUTOINCREMENT" in sql, table
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1

        # Delete the newest draft: the next invoice gets a new id, not the freed one.
        newest = db.session.get(Invoice, newest_id)
        svc.delete_draft(newest, actor=ACTOR)
        db.session.commit()
        event = db.session.get(Invoice, newest_id - 1).event
        again = make.invoice(event, db.session.get(Customer, customer_id))
        db.session.commit()
        assert again.id > newest_id
        assert event.id == event_id
        db.session.remove()
