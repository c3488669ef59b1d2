from portal.extensions import db
from portal.models import Invoice


def test_factories_make_a_closed_invoice(app, make):
    event = make.event()
    invoice = make.closed(event)
    assert invoice.number == f"{event.invoice_prefix}00001"
    assert db.session.get(Invoice, invoice.id).status == "open"
