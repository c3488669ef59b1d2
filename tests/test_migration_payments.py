"""Migration 0006: invoices paid before payments existed get one payment of their total."""

from decimal import Decimal

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from portal import jobs
from portal.extensions import db
from portal.models import Invoice, InvoiceLine, Payment
from portal.services import invoices
from tests.factories import ACTOR, Factory


def test_paid_invoices_are_backfilled_with_one_payment(committed_app):
    with committed_app.app_context():
        make = Factory()
        event = make.event()
        paid = make.closed(event)
        invoices.pay_invoice(paid, actor=ACTOR)
        credit = invoices.cancel_invoice(make.closed(event), actor=ACTOR)
        invoices.pay_invoice(credit, actor=ACTOR)
        unpaid = make.closed(event)
        ids = paid_id, credit_id, unpaid_id = paid.id, credit.id, unpaid.id
        jobs.commit()
        lines = db.session.scalar(select(func.count(InvoiceLine.id)))
        db.session.remove()
        downgrade(revision="0004")
        columns = {row[1] for row in db.session.execute(text("PRAGMA table_info(invoices)"))} \
            if db.engine.dialect.name == "sqlite" else set(db.session.scalars(text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'invoices'")))
        assert "amount_paid" not in columns
        db.session.remove()
        upgrade()
        db.session.remove()
        # Nothing else moved: no invoice table was rebuilt (which would cascade to lines).
        assert db.session.scalar(select(func.count(InvoiceLine.id))) == lines == 4
        rows = {invoice.id: invoice for invoice in db.session.scalars(
            select(Invoice).where(Invoice.id.in_(ids)))}
        # 100.00 + 19 % = 119.00 paid; the credit note's refund of |−119.00| = 119.00.
        assert rows[paid_id].amount_paid == Decimal("119.00") and rows[paid_id].balance == 0
        assert rows[credit_id].amount_paid == Decimal("119.00")
        assert rows[unpaid_id].amount_paid == 0 and rows[unpaid_id].balance == Decimal("119.00")
        backfilled = list(db.session.execute(select(Payment.invoice_id, Payment.amount,
                                                    Payment.method, Payment.actor_type)
                                             .order_by(Payment.invoice_id)))
        assert [tuple(r) for r in backfilled] == [
            (paid_id, Decimal("119.00"), "other", "system"),
            (credit_id, Decimal("119.00"), "other", "system")]
