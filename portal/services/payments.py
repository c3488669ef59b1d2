"""Payments and balances (SPEC §10): recording and deleting payments, the move to `paid`.

Each step takes the invoice's row lock first and decides on what it read under it
(`locking.lock_invoice`), so two payments racing for the last of a balance are served one
after the other: the second sees the first one's `amount_paid` and is refused if it would
overpay. The invoice row keeps Σ payments in `amount_paid`, updated in the same transaction
as the payment row, so lists and filters read the balance off the invoice alone.

`balance` = |gross| − Σ payments: on a credit note (negative amounts) a payment is the
refund paid out, and the balance is what is still to be refunded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..domain.lifecycle import Action, IllegalTransitionError, InvoiceStatus, next_status
from ..domain.money import minor_units
from ..errors import ConflictError, NotFoundError, ValidationError
from ..extensions import db
from ..i18n import _
from ..models import Invoice, Payment, PaymentMethod
from ..models.types import utcnow
from . import audit
from .audit import Actor
from .input import FieldErrors, clean_choice, clean_date, clean_decimal, clean_text
from .locking import lock_invoice

METHODS = tuple(m.value for m in PaymentMethod)
PAYMENT_FIELDS = ("amount", "date", "method", "reference")
MAX_AMOUNT = Decimal(10) ** 12
MAX_REFERENCE = 200


def _check_payable(invoice: Invoice) -> None:
    """Payments are taken while the invoice is open, sent or disputed; never on proformas."""
    try:
        next_status(invoice.status, Action.PAY, invoice.type)
    except IllegalTransitionError as exc:
        raise ConflictError(str(exc), code="illegal_transition") from None


def clean_payment_input(data: dict, *, currency: str, today: dt.date,
                        balance: Decimal | None = None) -> dict:
    """amount (> 0, the currency's minor unit, at most `balance`), date (default today, not
    in the future), method (default `other`) and reference; every problem named by its
    field."""
    errors = FieldErrors()
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("Send an object.")]})
    for key in data:
        if key not in PAYMENT_FIELDS:
            errors.add(key, _("Unknown field."))
    places = minor_units(currency)
    amount = clean_decimal(errors, "amount", data.get("amount"), places=places,
                           minimum=Decimal(0), exclusive_min=True, maximum=MAX_AMOUNT)
    if amount is not None and balance is not None and amount > balance:
        errors.add("amount", _("This is more than the balance of %(balance)s %(currency)s.",
                               balance=format(balance.quantize(Decimal(1).scaleb(-places)),
                                              "f"),
                               currency=currency))
    day = clean_date(errors, "date", data.get("date"))
    if day is not None and day > today:
        errors.add("date", _("A payment cannot be dated in the future."))
    method = data.get("method") or PaymentMethod.OTHER.value
    method = clean_choice(errors, "method", method, METHODS)
    reference = clean_text(errors, "reference", data.get("reference"), max_length=MAX_REFERENCE)
    errors.raise_if_any()
    return {"amount": amount, "date": day or today, "method": method,
            "reference": reference or ""}


def _audit_data(payment: Payment, currency: str) -> dict:
    places = minor_units(currency)
    return {"payment": payment.id,
            "amount": format(payment.amount.quantize(Decimal(1).scaleb(-places)), "f"),
            "date": payment.date.isoformat(), "method": payment.method,
            "reference": payment.reference}


def _add_payment(invoice: Invoice, clean: dict, *, actor: Actor, action: str) -> Payment:
    """Add a checked payment to a locked invoice; the one that settles it moves it to paid."""
    old = invoice.status
    payment = Payment(invoice=invoice, amount=clean["amount"], date=clean["date"],
                      method=clean["method"], reference=clean["reference"],
                      actor_type=actor.kind, actor_id=actor.id, actor_label=actor.label[:254])
    db.session.add(payment)
    invoice.amount_paid = (invoice.amount_paid or Decimal(0)) + clean["amount"]
    _settle(invoice)
    invoice.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, action, organizer_id=invoice.organizer_id, event_id=invoice.event_id,
                 invoice=invoice, from_status=old, to_status=invoice.status,
                 data=_audit_data(payment, invoice.currency))
    return payment


def _settle(invoice: Invoice) -> None:
    if invoice.balance <= 0 and invoice.status != InvoiceStatus.PAID:
        invoice.status_before_paid = invoice.status
        invoice.status = InvoiceStatus.PAID.value
        invoice.paid_at = utcnow()


def record_payment(invoice: Invoice, data: dict, *, actor: Actor,
                   today: dt.date | None = None) -> Payment:
    """Record one payment (a refund on a credit note). 409 unless open, sent or disputed;
    400 naming the field for a bad amount, date, method or reference, or an overpayment."""
    lock_invoice(invoice)
    _check_payable(invoice)
    clean = clean_payment_input(data, currency=invoice.currency, today=today or dt.date.today(),
                                balance=invoice.balance)
    return _add_payment(invoice, clean, actor=actor, action="payment")


def pay_in_full(invoice: Invoice, *, actor: Actor, today: dt.date | None = None) -> Invoice:
    """`pay` without a body: one payment of the whole balance, dated today, method `other`;
    the invoice is paid. An invoice with nothing to pay (a zero total) just becomes paid."""
    lock_invoice(invoice)
    _check_payable(invoice)
    balance = invoice.balance
    if balance > 0:
        _add_payment(invoice, {"amount": balance, "date": today or dt.date.today(),
                               "method": PaymentMethod.OTHER.value, "reference": ""},
                     actor=actor, action="pay")
    else:
        old = invoice.status
        _settle(invoice)
        invoice.updated_at = utcnow()
        db.session.flush()
        audit.record(actor, "pay", organizer_id=invoice.organizer_id,
                     event_id=invoice.event_id, invoice=invoice, from_status=old,
                     to_status=invoice.status)
    return invoice


def payment_of(invoice: Invoice, payment_id) -> Payment:
    """One payment of this invoice; anything else (another invoice's, missing) is 404."""
    try:
        payment_id = int(payment_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    for payment in invoice.payments:
        if payment.id == payment_id:
            return payment
    raise NotFoundError()


def delete_payment(invoice: Invoice, payment_id, *, actor: Actor) -> None:
    """Undo a mistaken payment; allowed until the invoice is archived. A paid invoice goes
    back to the status it had before it was paid."""
    lock_invoice(invoice)
    payment = payment_of(invoice, payment_id)
    if invoice.status == InvoiceStatus.ARCHIVED:
        raise ConflictError(_("The payments of an archived invoice can no longer be changed."),
                            code="illegal_transition")
    old = invoice.status
    data = _audit_data(payment, invoice.currency)
    invoice.amount_paid = invoice.amount_paid - payment.amount
    invoice.payments.remove(payment)
    db.session.delete(payment)
    if invoice.status == InvoiceStatus.PAID and invoice.balance > 0:
        invoice.status = invoice.status_before_paid or InvoiceStatus.OPEN.value
        invoice.status_before_paid = None
        invoice.paid_at = None
    invoice.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "payment_deleted", organizer_id=invoice.organizer_id,
                 event_id=invoice.event_id, invoice=invoice, from_status=old,
                 to_status=invoice.status, data=data)
