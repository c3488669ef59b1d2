"""Invoice use cases through the services, on the real database."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal import jobs
from portal.errors import ConflictError, ValidationError
from portal.extensions import db
from portal.models import AuditEntry, Invoice, InvoiceLine, NumberSequence, Sending
from portal.services import invoices as svc
from portal.services.representation import invoice_to_dict

from ..domain.test_lifecycle import EXPECTED, GONE
from ..factories import ACTOR, line

D = Decimal


def test_draft_totals_are_the_money_engines_to_the_cent(app, make):
    event = make.event()
    invoice = make.invoice(event, rounding={"mode": "half_up", "rule": "per_item"},
                           lines=[line("Shirt", "3", "56.33") for _ in range(3)])
    # SPEC §2a: net entry, 3 lines of 3 x 56.33 at 19 %, per_item: unit tax 10.70 x 9.
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        D("506.97"), D("96.30"), D("603.27"))
    svc.update_draft(invoice, {"rounding": {"mode": "half_up", "rule": "per_line"}}, actor=ACTOR)
    assert (invoice.tax_total, invoice.gross_total) == (D("96.33"), D("603.30"))
    svc.update_draft(invoice, {"rounding": {"mode": "half_up", "rule": "total"}}, actor=ACTOR)
    assert (invoice.tax_total, invoice.gross_total) == (D("96.32"), D("603.29"))
    db.session.expire_all()
    stored = db.session.get(Invoice, invoice.id)
    assert stored.gross_total == D("603.29")
    assert [(t.code, t.rate, t.taxable, t.amount) for t in stored.taxes] == [
        ("VAT", D("19.00"), D("506.97"), D("96.32"))]


def test_akinon_seed_item_gross_entry(app, make):
    invoice = make.invoice(make.event(), prices_include_tax=True,
                           lines=[line("Item", "1", "399.00", "8.00")])
    body = invoice_to_dict(invoice)
    assert body["lines"][0]["net_amount"] == "369.44"
    assert body["lines"][0]["tax_amount"] == "29.56"
    assert body["totals"]["gross"] == "399.00"
    assert body["taxes"] == [{"category": "S", "exemption_reason": None, "exemption_code": None,
                              "code": "VAT", "rate": "8.00", "taxable": "369.44",
                              "amount": "29.56"}]


def test_draft_from_order_copies_lines_and_buyer(app, make):
    event = make.event()
    customer = make.customer(event.organizer)
    order = make.order(event, customer, lines=[
        {"sku": "T1", "name": "Ticket", "quantity": "2", "unit_price": "50.00", "tax_rate": "19"},
        {"sku": "M1", "name": "Mug", "quantity": "1", "unit_price": "9.99", "tax_rate": "7"}])
    invoice = svc.create_draft(event, {"order": order.code}, actor=ACTOR)
    assert invoice.customer_id == customer.id and invoice.order_code == order.code
    assert [(ln.sku, ln.description, ln.quantity) for ln in invoice.lines] == [
        ("T1", "Ticket", D("2.00")), ("M1", "Mug", D("1.00"))]
    assert invoice.billing_address["company"] == "Buyer Ltd"
    # 100.00 net + 19.00 tax; 9.99 net + 0.70 tax (0.6993 rounds up).
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        D("109.99"), D("19.70"), D("129.69"))


def test_bad_input_lists_every_field_and_saves_nothing(app, make):
    event = make.event()
    before = db.session.scalar(select(func.count(Invoice.id)))
    with pytest.raises(ValidationError) as caught:
        svc.create_draft(event, {
            "lines": [{"description": "", "quantity": "0", "unit_price": "abc",
                       "tax_rate": "101"}],
            "discounts": [{"type": "percent_off", "value": "150"}] + [
                {"type": "amount_off", "value": "1"}] * 5,
            "customer": "nobody", "bogus": 1, "rounding": {"mode": "sideways"}}, actor=ACTOR)
    fields = caught.value.fields
    for name in ("lines.0.description", "lines.0.quantity", "lines.0.unit_price",
                 "lines.0.tax_rate", "discounts", "bogus", "rounding.mode"):
        assert name in fields, name
    assert db.session.scalar(select(func.count(Invoice.id))) == before


def test_unknown_customer_is_a_field_error(app, make):
    with pytest.raises(ValidationError) as caught:
        svc.create_draft(make.event(), {"customer": "nobody"}, actor=ACTOR)
    assert caught.value.fields == {"customer": ["No customer with this reference."]}


def test_close_freezes_seller_buyer_number_and_dates(app, make):
    event = make.event(due_days=10)
    invoice = make.invoice(event)
    svc.close_invoice(invoice, actor=ACTOR)
    assert invoice.status == "open"
    assert invoice.number == f"{event.invoice_prefix}00001"
    assert invoice.seller["company"] == "Org GmbH"
    assert (invoice.due_date - invoice.issue_date).days == 10
    # Later changes to the organizer do not touch the frozen snapshot.
    event.organizer.seller = {**event.organizer.seller, "company": "Renamed AG"}
    db.session.flush()
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).seller["company"] == "Org GmbH"
    with pytest.raises(ConflictError):
        svc.update_draft(invoice, {"texts": {"footer": "changed"}}, actor=ACTOR)


def test_close_refuses_an_empty_or_buyerless_draft(app, make):
    event = make.event()
    empty = svc.create_draft(event, {}, actor=ACTOR)
    with pytest.raises(ValidationError) as caught:
        svc.close_invoice(empty, actor=ACTOR)
    assert set(caught.value.fields) == {"lines", "billing_address"}
    assert empty.status == "draft" and empty.number is None


def test_negative_lines_are_allowed_but_a_negative_total_is_not(app, make):
    event = make.event()
    voucher = make.invoice(event, lines=[line("Ticket", "1", "100.00"),
                                         line("Voucher", "1", "-30.00")])
    # 100.00 - 30.00 = 70.00 net, 19 % = 13.30, 83.30 gross: a claim, so it closes.
    svc.close_invoice(voucher, actor=ACTOR)
    assert (voucher.net_total, voucher.tax_total, voucher.gross_total) == (
        D("70.00"), D("13.30"), D("83.30"))
    below = make.invoice(event, lines=[line("Ticket", "1", "10.00"),
                                       line("Voucher", "1", "-10.01")])
    assert below.gross_total == D("-0.01")  # -0.01 net, tax -0.0019 rounds to 0.00
    sequence = db.session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.event_id == event.id, NumberSequence.name == "invoice"))
    with pytest.raises(ValidationError) as caught:
        svc.close_invoice(below, actor=ACTOR)
    assert list(caught.value.fields) == ["lines"]
    assert "credit note" in caught.value.fields["lines"][0]
    assert below.status == "draft" and below.number is None
    assert db.session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.event_id == event.id, NumberSequence.name == "invoice")) == sequence


def test_expired_offer_cannot_be_closed(app, make):
    invoice = make.invoice(make.event(), type="proforma", expires_at="2020-01-01T00:00:00Z")
    with pytest.raises(ConflictError, match="expired"):
        svc.close_invoice(invoice, actor=ACTOR)
    assert invoice.status == "draft"


def test_each_sequence_counts_on_its_own(app, make):
    event = make.event(invoice_prefix="SC2026-", proforma_prefix="PF-", shipping_prefix="DN-")
    numbers = [make.closed(event, type=t).number
               for t in ("invoice", "proforma", "invoice", "shipping_invoice", "proforma")]
    assert numbers == ["SC2026-00001", "PF-00001", "SC2026-00002", "DN-00001", "PF-00002"]


def test_cancel_issues_a_credit_note_negating_the_original_exactly(app, make):
    event = make.event()
    invoice = make.closed(event, lines=[line("A", "3", "56.33"), line("B", "2", "12.50", "7.00")],
                          discounts=[{"type": "percent_off", "value": "10"}],
                          shipping_method={"name": "FedEx", "cost": "8.57", "tax_rate": "19"})
    credit = svc.cancel_invoice(invoice, actor=ACTOR)
    assert invoice.status == "cancelled"
    assert credit.type == "credit_note" and credit.is_cancellation
    assert credit.status == "open" and credit.refers_id == invoice.id
    assert credit.number == f"{event.invoice_prefix}00002"  # shares the invoice sequence
    original, negated = invoice_to_dict(invoice), invoice_to_dict(credit)
    for key in ("net", "tax", "gross", "prediscount_net", "prediscount_gross", "discount"):
        assert D(negated["totals"][key]) == -D(original["totals"][key]), key
    for a, b in zip(original["lines"], negated["lines"], strict=True):
        for key in ("net_amount", "tax_amount", "gross_amount"):
            assert D(b[key]) == -D(a[key])
    assert [(t["code"], t["rate"], D(t["amount"])) for t in negated["taxes"]] == [
        (t["code"], t["rate"], -D(t["amount"])) for t in original["taxes"]]
    # Hand-computed: A 168.99 net @19 %, B 25.00 net @7 %; 10 % off 193.99 = 19.40,
    # spread 16.90 (19 %) + 2.50 (7 %); FedEx 8.57 @19 %.
    assert original["totals"]["net"] == "183.16"
    assert negated["totals"]["net"] == "-183.16"
    assert negated["refers"] == invoice.number


def test_cancelling_a_proforma_issues_no_credit_note(app, make):
    proforma = make.closed(make.event(), type="proforma")
    assert svc.cancel_invoice(proforma, actor=ACTOR) is None
    assert proforma.status == "cancelled"
    assert db.session.scalar(select(func.count(Invoice.id)).where(
        Invoice.refers_id == proforma.id)) == 0


def test_send_makes_an_open_invoice_sent_and_records_the_delivery(app, make):
    invoice = make.closed(make.event())
    sending = svc.send_invoice(invoice, actor=ACTOR)
    assert sending.outcome == "queued" and sending.to == "jane@example.com"
    assert invoice.status == "sent" and sending.reopens
    jobs.commit()  # the delivery job runs in-process after the commit
    db.session.expire_all()
    sending = db.session.get(Sending, sending.id)
    assert sending.outcome == "sent" and sending.message_id
    assert db.session.get(Invoice, invoice.id).status == "sent"


def test_a_failed_delivery_moves_the_invoice_back_to_open(app, make):
    invoice = make.closed(make.event())
    sending = svc.send_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    svc.fail_sending(sending, error="550 no such mailbox")
    assert (sending.outcome, invoice.status) == ("failed", "open")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.invoice_id == invoice.id)
                              .order_by(AuditEntry.id.desc()))
    assert (entry.action, entry.from_status, entry.to_status) == ("delivery_failed", "sent",
                                                                  "open")


def test_a_failed_delivery_leaves_a_status_that_moved_on_alone(app, make):
    invoice = make.closed(make.event())
    first = svc.send_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    svc.pay_invoice(invoice, actor=ACTOR)
    svc.fail_sending(first, error="timeout")
    assert invoice.status == "paid"
    # A resend of a sent invoice did not move it, so its failure does not either.
    other = make.closed(invoice.event)
    svc.send_invoice(other, actor=ACTOR)
    svc.complete_sending(other.sendings[0], message_id="<a@x>")
    resend = svc.send_invoice(other, actor=ACTOR)
    jobs.discard_pending()
    assert not resend.reopens
    svc.fail_sending(resend, error="timeout")
    assert other.status == "sent"


def test_every_lifecycle_step_writes_one_audit_entry(app, make):
    invoice = make.closed(make.event())
    svc.dispute_invoice(invoice, actor=ACTOR, reason="wrong amount")
    svc.resolve_invoice(invoice, actor=ACTOR)
    svc.pay_invoice(invoice, actor=ACTOR)
    svc.archive_invoice(invoice, actor=ACTOR)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.invoice_id == invoice.id)
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.from_status, e.to_status) for e in entries] == [
        ("create", None, "draft"), ("close", "draft", "open"),
        ("dispute", "open", "disputed"), ("resolve", "disputed", "sent"),
        ("pay", "sent", "paid"), ("archive", "paid", "archived")]
    assert entries[2].data == {"reason": "wrong amount"}
    assert all(e.actor_label == "test" for e in entries)


def test_delete_draft_removes_it_and_keeps_the_audit(app, make):
    invoice = make.invoice(make.event())
    invoice_id = invoice.id
    svc.delete_draft(invoice, actor=ACTOR)
    assert db.session.get(Invoice, invoice_id) is None
    assert db.session.scalar(select(func.count(InvoiceLine.id)).where(
        InvoiceLine.invoice_id == invoice_id)) == 0
    assert db.session.scalar(select(AuditEntry.action).where(
        AuditEntry.invoice_id == invoice_id).order_by(AuditEntry.id.desc())) == "delete"


# ---------------------------------------------------------------- every (status, action) pair

# The same hand transcription of SPEC §3 the pure table is checked against, now end to end.
STATUSES = tuple(EXPECTED)
ACTIONS = ("edit", "delete", "close", "send", "pay", "dispute", "resolve", "cancel", "archive")
ALLOWED = {status: {action: (None if new == GONE else new) for action, new in moves.items()}
           for status, moves in EXPECTED.items()}
PATH_TO = {
    "draft": [], "open": ["close"], "sent": ["close", "send"], "paid": ["close", "pay"],
    "disputed": ["close", "dispute"], "cancelled": ["close", "cancel"],
    "archived": ["close", "pay", "archive"],
}


def act(invoice, action):
    calls = {
        "edit": lambda: svc.update_draft(invoice, {"texts": {"footer": "new"}}, actor=ACTOR),
        "delete": lambda: svc.delete_draft(invoice, actor=ACTOR),
        "close": lambda: svc.close_invoice(invoice, actor=ACTOR),
        "send": lambda: svc.send_invoice(invoice, actor=ACTOR),
        "pay": lambda: svc.pay_invoice(invoice, actor=ACTOR),
        "dispute": lambda: svc.dispute_invoice(invoice, actor=ACTOR, reason="why"),
        "resolve": lambda: svc.resolve_invoice(invoice, actor=ACTOR),
        "cancel": lambda: svc.cancel_invoice(invoice, actor=ACTOR),
        "archive": lambda: svc.archive_invoice(invoice, actor=ACTOR),
    }
    calls[action]()
    jobs.commit()


def snapshot(invoice_id):
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice_id)
    row = {c.key: getattr(invoice, c.key) for c in Invoice.__table__.columns}
    counts = tuple(db.session.scalar(select(func.count()).select_from(model))
                   for model in (Invoice, InvoiceLine, AuditEntry, Sending))
    sequences = db.session.execute(select(NumberSequence.name, NumberSequence.last_value)
                                   .order_by(NumberSequence.id)).all()
    return row, counts, sequences


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_status_action_pair_through_the_services(app, make, status, action):
    invoice = make.invoice(make.event())
    jobs.commit()
    for step in PATH_TO[status]:
        act(invoice, step)
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    assert invoice.status == status
    invoice_id = invoice.id
    if action in ALLOWED[status]:
        act(invoice, action)
        db.session.expire_all()
        after = db.session.get(Invoice, invoice_id)
        expected = ALLOWED[status][action]
        assert (after.status if after else None) == expected
    else:
        before = snapshot(invoice_id)
        invoice = db.session.get(Invoice, invoice_id)
        with pytest.raises(ConflictError):
            act(invoice, action)
        db.session.rollback()
        assert snapshot(invoice_id) == before
