"""Invoice use cases, shared by the back office, the customer area and the API.

Each function is one step of the lifecycle: it locks the invoice row, asks the lifecycle table
whether the step is allowed, changes what the step changes, writes the audit entry and flushes.
It never commits: the request or command that called it commits once (`jobs.commit`), so a
step is all done or not at all. Jobs (PDF, mail) are queued to run after that commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from ..domain import codelists, money
from ..domain.lifecycle import (
    CREDITED_TYPES,
    Action,
    IllegalTransitionError,
    InvoiceStatus,
    InvoiceType,
    next_status,
)
from ..errors import ConflictError, ValidationError
from ..extensions import db
from ..i18n import _, _l
from ..jobs import enqueue
from ..models import (
    Customer,
    Event,
    Invoice,
    InvoiceDiscount,
    InvoiceLine,
    InvoiceTax,
    Order,
    Sending,
)
from ..models.types import utcnow
from . import audit, documents, frozen, ledger, numbering, payments
from .audit import Actor
from .input import COUNTRY_CODES, FieldErrors, clean_email
from .invoice_input import SHIPPING_FIELDS, TEXT_FIELDS, clean_invoice_input
from .locking import lock_invoice
from .mail_transports import new_message_id

# Address fields copied from a customer's billing address into an invoice.
BUYER_KEYS = ("company", "first_name", "last_name", "street1", "street2", "city", "postal_code",
              "state", "country", "vat_id", "tax_office", "tax_number", "email", "phone",
              "is_corporate", "electronic_address", "registration_id", "e_bill_taxpayer")
_BUYER_FLAGS = ("is_corporate", "e_bill_taxpayer")


def _step(invoice: Invoice, action: Action) -> InvoiceStatus | None:
    try:
        return next_status(invoice.status, action, invoice.type)
    except IllegalTransitionError as exc:
        raise ConflictError(str(exc), code="illegal_transition") from None


# ---------------------------------------------------------------- drafts


def _blank_buyer() -> dict:
    return {key: (False if key in _BUYER_FLAGS else None if key == "electronic_address" else "")
            for key in BUYER_KEYS}


def buyer_from_customer(customer: Customer) -> dict:
    buyer = _blank_buyer()
    buyer.update({k: v for k, v in (customer.billing_address or {}).items() if k in buyer})
    if not buyer["email"]:
        buyer["email"] = customer.email or ""
    if not (buyer["first_name"] or buyer["last_name"] or buyer["company"]):
        first, _, last = (customer.name or "").partition(" ")
        buyer["first_name"], buyer["last_name"] = first, last
    return buyer


def _find_customer(event: Event, reference: str) -> Customer | None:
    return db.session.scalar(select(Customer).where(
        Customer.organizer_id == event.organizer_id, Customer.reference == reference))


def _find_order(event: Event, code: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.event_id == event.id, Order.code == code))


def _find_refers(event: Event, number: str) -> Invoice | None:
    return db.session.scalar(select(Invoice).where(
        Invoice.event_id == event.id, Invoice.number == number))


def create_draft(event: Event, data: dict, *, actor: Actor) -> Invoice:
    """A new draft: blank, or with `order` copying that order's lines and buyer."""
    clean = clean_invoice_input(data, creating=True, currency=event.currency)
    invoice = Invoice(
        organizer_id=event.organizer_id, event=event, event_id=event.id,
        currency=event.currency, locale=event.locale, status=InvoiceStatus.DRAFT.value,
        type=InvoiceType.INVOICE.value, billing_address=_blank_buyer(),
        prices_include_tax=False, rounding_mode="half_up", rounding_rule="per_line",
        discounts_include_tax=False, payment_means=event.default_payment_means(),
        **{f"{name}_text": value for name, value in event.texts(event.locale).items()},
    )
    errors: dict[str, list[str]] = {}
    db.session.add(invoice)
    with db.session.no_autoflush:
        if clean.get("order"):
            order = _find_order(event, clean["order"])
            if order is None:
                errors["order"] = [_("No order with this code in this event.")]
            else:
                _copy_order(invoice, order)
        _apply(invoice, clean, errors, event=event)
    if errors:
        db.session.expunge(invoice)
        raise ValidationError(errors)
    recompute(invoice)
    db.session.flush()
    audit.record(actor, "create", organizer_id=event.organizer_id, event_id=event.id,
                 invoice=invoice, to_status=InvoiceStatus.DRAFT.value,
                 data={"order": invoice.order_code} if invoice.order_code else {})
    return invoice


def _copy_order(invoice: Invoice, order: Order) -> None:
    invoice.order = order
    invoice.order_code = order.code
    invoice.customer = order.customer
    invoice.billing_address = buyer_from_customer(order.customer)
    invoice.locale = order.customer.locale or invoice.locale
    invoice.lines = [
        InvoiceLine(position=i, sku=line.sku, description=line.name, quantity=line.quantity,
                    unit=codelists.DEFAULT_UNIT, unit_price=line.unit_price,
                    tax_rate=line.tax_rate, tax_code=line.tax_code,
                    tax_category=codelists.default_category(line.tax_rate),
                    order_line_id=line.id, net_amount=0, tax_amount=0, gross_amount=0)
        for i, line in enumerate(order.lines, start=1)
    ]


def update_draft(invoice: Invoice, data: dict, *, actor: Actor) -> Invoice:
    lock_invoice(invoice)
    _step(invoice, Action.EDIT)
    clean = clean_invoice_input(data, creating=False, currency=invoice.currency)
    errors: dict[str, list[str]] = {}
    with db.session.no_autoflush:
        _apply(invoice, clean, errors, event=invoice.event)
    if errors:
        raise ValidationError(errors)
    recompute(invoice)
    invoice.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "edit", organizer_id=invoice.organizer_id, event_id=invoice.event_id,
                 invoice=invoice, from_status=invoice.status, to_status=invoice.status,
                 data={"fields": sorted(clean)})
    return invoice


def delete_draft(invoice: Invoice, *, actor: Actor) -> None:
    lock_invoice(invoice)
    _step(invoice, Action.DELETE)
    audit.record(actor, "delete", organizer_id=invoice.organizer_id, event_id=invoice.event_id,
                 invoice=invoice, from_status=invoice.status, to_status=None)
    db.session.delete(invoice)
    db.session.flush()


def _apply(invoice: Invoice, clean: dict, errors: dict, *, event: Event) -> None:
    """Set the cleaned fields on a draft, checking what needs the database."""
    locale_before = invoice.locale
    simple = ("type", "expires_at", "due_date", "locale", "currency", "prices_include_tax",
              "rounding_mode", "rounding_rule", "discounts_include_tax", "package_number",
              "channel", "delivery_date", "buyer_reference", "payment_means")
    nullable = ("expires_at", "due_date", "package_number", "channel", "delivery_date",
                "buyer_reference", "payment_means")
    for key in simple:
        if key in clean and clean[key] is not None:
            setattr(invoice, key, clean[key])
        elif key in clean and key in nullable:
            setattr(invoice, key, None)
    if "period" in clean:
        period = clean["period"] or {}
        invoice.period_start, invoice.period_end = period.get("start"), period.get("end")
    if "customer" in clean:
        if clean["customer"]:
            customer = _find_customer(event, clean["customer"])
            if customer is None:
                errors["customer"] = [_("No customer with this reference.")]
            else:
                invoice.customer = customer
                if "billing_address" not in clean and not _has_buyer(invoice.billing_address):
                    invoice.billing_address = buyer_from_customer(customer)
                if "locale" not in clean:
                    invoice.locale = customer.locale or invoice.locale
        else:
            invoice.customer = None
    if "refers" in clean:
        if clean["refers"]:
            target = _find_refers(event, clean["refers"])
            if target is None:
                errors["refers"] = [_("No invoice with this number in this event.")]
            elif target.id == invoice.id:
                errors["refers"] = [_("An invoice cannot refer to itself.")]
            else:
                invoice.refers = target
        else:
            invoice.refers = None
    if invoice.type == InvoiceType.CREDIT_NOTE and invoice.refers is None and "refers" not in errors:
        errors["refers"] = ["A credit note must refer to the invoice it corrects."]
    if "billing_address" in clean and clean["billing_address"] is not None:
        invoice.billing_address = clean["billing_address"]
    if "shipping_address" in clean:
        invoice.shipping_address = clean["shipping_address"]
    if "lines" in clean:
        _replace(invoice, "lines",
                 [_line_from(i, line) for i, line in enumerate(clean["lines"], start=1)])
    if "discounts" in clean:
        _replace(invoice, "discounts", [
            InvoiceDiscount(position=i, type=d["type"], value=d["value"], amount=0)
            for i, d in enumerate(clean["discounts"], start=1)
        ])
    for charge, prefix, amount_attr in (("shipping_method", "shipping", "shipping_cost"),
                                        ("payment_method", "payment", "payment_fee")):
        if charge in clean:
            value = clean[charge]
            setattr(invoice, f"{prefix}_method_name", value["name"] if value else None)
            setattr(invoice, amount_attr, value["amount"] if value else None)
            setattr(invoice, f"{prefix}_tax_rate", value["tax_rate"] if value else None)
            setattr(invoice, f"{prefix}_tax_code", value["tax_code"] if value else None)
            setattr(invoice, f"{prefix}_tax_category", value["tax_category"] if value else None)
            setattr(invoice, f"{prefix}_exemption_reason",
                    value["exemption_reason"] if value else None)
    if "shipping" in clean:
        ship = clean["shipping"] or {}
        for key in SHIPPING_FIELDS:
            setattr(invoice, key, ship.get(key))
    if "texts" in clean:
        for key in TEXT_FIELDS:
            if key in clean["texts"]:
                setattr(invoice, f"{key}_text", clean["texts"][key])
    elif invoice.locale != locale_before and locale_before is not None:
        _texts_follow_locale(invoice, event, locale_before)
    if "reference" in clean:
        invoice.reference_type = clean["reference"]["type"]
        invoice.reference_number = clean["reference"]["number"]
    if invoice.type == InvoiceType.SHIPPING_INVOICE or not any(
            getattr(invoice, k) is not None for k in SHIPPING_FIELDS):
        return
    errors.setdefault("shipping", []).append(_("Shipping fields are for shipping invoices only."))


def _texts_follow_locale(invoice: Invoice, event: Event, locale_before: str) -> None:
    """The draft's language changed: each text still as the event gave it for the old
    language becomes the event's text for the new one (SPEC §14); edited texts stay."""
    before, after = event.texts(locale_before), event.texts(invoice.locale)
    for key in TEXT_FIELDS:
        if (getattr(invoice, f"{key}_text") or "") == before.get(key, ""):
            setattr(invoice, f"{key}_text", after.get(key, ""))


def _replace(invoice: Invoice, attr: str, items: list) -> None:
    """Swap a child collection, deleting the old rows first.

    The unit of work inserts before it deletes orphans, which would trip the
    (invoice, position) unique constraints.
    """
    current = getattr(invoice, attr)
    if invoice.id is not None and current:
        current.clear()
        db.session.flush()
    setattr(invoice, attr, items)


def _line_from(position: int, line: dict) -> InvoiceLine:
    return InvoiceLine(
        position=position, sku=line["sku"], description=line["description"],
        quantity=line["quantity"], unit=line["unit"], unit_price=line["unit_price"],
        tax_code=line["tax_code"], tax_rate=line["tax_rate"],
        tax_category=line["tax_category"], exemption_reason=line["exemption_reason"],
        exemption_code=line["exemption_code"], discount_rate=line["discount_rate"], discount_amount=line["discount_amount"],
        weight=line["weight"], request_note=line["request_note"],
        net_amount=0, tax_amount=0, gross_amount=0,
    )


def _has_buyer(address: dict | None) -> bool:
    return bool(address) and any(address.get(k) for k in ("company", "first_name", "last_name"))


# ---------------------------------------------------------------- money


def money_input(invoice: Invoice) -> money.InvoiceInput:
    def charge(amount, rate, code, category):
        if amount is None:
            return None
        return money.ChargeInput(amount=amount, tax_rate=rate or Decimal(0), tax_code=code,
                                 tax_category=category)

    return money.InvoiceInput(
        currency=invoice.currency,
        lines=[money.LineInput(quantity=line.quantity, unit_price=line.unit_price,
                               tax_rate=line.tax_rate, tax_code=line.tax_code or "",
                               tax_category=line.tax_category
                               or codelists.default_category(line.tax_rate),
                               discount_rate=line.discount_rate,
                               discount_amount=line.discount_amount, weight=line.weight)
               for line in invoice.lines],
        prices_include_tax=invoice.prices_include_tax,
        mode=money.RoundingMode(invoice.rounding_mode),
        rule=money.RoundingRule(invoice.rounding_rule),
        discounts=[money.DiscountInput(type=money.DiscountType(d.type), value=d.value)
                   for d in invoice.discounts],
        discounts_include_tax=invoice.discounts_include_tax,
        shipping=charge(invoice.shipping_cost, invoice.shipping_tax_rate,
                        invoice.shipping_tax_code, invoice.shipping_tax_category),
        payment=charge(invoice.payment_fee, invoice.payment_tax_rate, invoice.payment_tax_code,
                       invoice.payment_tax_category),
    )


def recompute(invoice: Invoice) -> money.InvoiceTotals:
    """Compute a draft's figures with the money engine and store them on it."""
    try:
        totals = money.compute_invoice(money_input(invoice))
    except money.MoneyError as exc:
        raise ValidationError({"lines": [str(exc)]}) from None
    store_totals(invoice, totals)
    return totals


def _exemption_reasons(invoice: Invoice) -> dict[str, tuple[str | None, str | None]]:
    """Per VAT category, the first exemption reason (and VATEX code) given for it on a line
    or charge: the tax breakdown row of the category carries it (EN 16931 BT-120/121)."""
    found: dict[str, tuple[str | None, str | None]] = {}
    items = [(line.tax_category, line.exemption_reason, line.exemption_code)
             for line in invoice.lines]
    items += [(invoice.shipping_tax_category, invoice.shipping_exemption_reason, None),
              (invoice.payment_tax_category, invoice.payment_exemption_reason, None)]
    for category, reason, code in items:
        if category and (reason or code) and category not in found:
            found[category] = (reason or (codelists.VATEX.get(code) if code else None), code)
    return found


def store_totals(invoice: Invoice, totals: money.InvoiceTotals) -> None:
    for line, result in zip(invoice.lines, totals.lines, strict=True):
        line.net_amount, line.tax_amount, line.gross_amount = result.net, result.tax, result.gross
    for discount, applied in zip(invoice.discounts, totals.discounts, strict=True):
        discount.amount = applied.amount
    reasons = _exemption_reasons(invoice)
    _replace(invoice, "taxes", [
        InvoiceTax(position=i, code=group.code, rate=group.rate, category=group.category,
                   exemption_reason=reasons.get(group.category, (None, None))[0],
                   exemption_code=reasons.get(group.category, (None, None))[1],
                   taxable=group.net, amount=group.tax, gross=group.gross)
        for i, group in enumerate(totals.groups, start=1)
    ])
    invoice.prediscount_net = totals.prediscount.net
    invoice.prediscount_gross = totals.prediscount.gross
    invoice.discount_total = (totals.discount.gross if invoice.discounts_include_tax
                              else totals.discount.net)
    invoice.subtotal_net, invoice.subtotal_gross = totals.subtotal.net, totals.subtotal.gross
    for prefix, part in (("shipping", totals.shipping), ("payment", totals.payment)):
        setattr(invoice, f"{prefix}_net", part.net if part else None)
        setattr(invoice, f"{prefix}_tax", part.tax if part else None)
        setattr(invoice, f"{prefix}_gross", part.gross if part else None)
    invoice.net_total, invoice.tax_total = totals.total.net, totals.total.tax
    invoice.gross_total = totals.total.gross
    invoice.total_quantity, invoice.total_weight = totals.quantity, totals.weight


# ---------------------------------------------------------------- lifecycle


def close_invoice(invoice: Invoice, *, actor: Actor, today: dt.date | None = None) -> Invoice:
    """Freeze a draft: snapshot seller and buyer, number it, and queue its document of record."""
    lock_invoice(invoice)
    new_status = _step(invoice, Action.CLOSE)
    if invoice.is_expired():
        raise ConflictError(_("This offer expired; it can no longer be closed."), code="expired")
    problems: dict[str, list[str]] = {}
    if not invoice.lines:
        problems["lines"] = [_("An invoice needs at least one line before it can be closed.")]
    if not _has_buyer(invoice.billing_address):
        problems["billing_address"] = [_("Give the buyer's name or company before closing.")]
    if invoice.type == InvoiceType.CREDIT_NOTE and (
            invoice.refers is None or invoice.refers.status == InvoiceStatus.DRAFT):
        problems["refers"] = [_("A credit note must refer to a closed invoice.")]
    for field, messages in legal_problems(invoice).items():
        problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems, _("This draft is not ready to be closed."))
    totals = recompute(invoice)
    if totals.total.gross < 0 and invoice.type != InvoiceType.CREDIT_NOTE:
        # A line may carry a negative price (a voucher, a correction), but a claim never
        # totals below zero: money owed to the buyer is a credit note.
        raise ValidationError({"lines": [_(
            "The total is below zero. Lines may have negative prices, but an invoice cannot; "
            "issue a credit note for money owed to the buyer.")]},
            _("This draft is not ready to be closed."))
    event = invoice.event
    today = today or dt.date.today()
    invoice.seller = event.seller()
    invoice.billing_address = dict(invoice.billing_address)
    invoice.issue_date = today
    if invoice.due_date is None and invoice.type != InvoiceType.CREDIT_NOTE:
        invoice.due_date = today + dt.timedelta(days=event.due_days)
    _default_supply_dates(invoice, event, today)
    if invoice.type == InvoiceType.CREDIT_NOTE:
        invoice.payment_text = ""  # refunded, never paid: no payment instructions
    if invoice.payment_means is None:
        invoice.payment_means = event.default_payment_means()
    # The e-invoice rules run before the number is taken (and so outside the counter's lock):
    # a refusal rolls everything back and uses no number (SPEC §11).
    documents.refuse_if_invalid(invoice, today=today)
    invoice.sequence_value, invoice.number = numbering.take_next_number(event, invoice.type)
    invoice.status = new_status.value
    invoice.closed_at = invoice.updated_at = utcnow()
    documents.stamp_einvoice_hashes(invoice)
    ledger.link(invoice)  # in this transaction, under the sequence's lock (services.ledger)
    frozen.freeze(invoice)  # last: the stored representation holds the number and hashes
    db.session.flush()
    audit.record(actor, "close", organizer_id=invoice.organizer_id, event_id=invoice.event_id,
                 invoice=invoice, from_status=InvoiceStatus.DRAFT.value,
                 to_status=invoice.status, data={"number": invoice.number})
    enqueue("portal.render_document", invoice.id, organizer_id=invoice.organizer_id)
    return invoice


def check_invoice(invoice: Invoice, *, today: dt.date | None = None) -> dict:
    """The e-invoice rules run on a draft without closing it (SPEC §11 "check"): the fatal
    findings in the shape a refused close answers with (`fields`: rule id -> message), and the
    warnings apart. Nothing changes. 409 for a closed invoice (its XMLs are stored)."""
    if not invoice.is_draft:
        raise ConflictError("Only a draft can be checked; a closed invoice's e-invoice is "
                            "stored.", code="not_draft")
    if not documents.einvoice_enabled(invoice):
        return {"einvoice": False, "valid": True, "fields": {}, "warnings": {}}
    found = documents.einvoice_findings(invoice, today=today)
    fatal = {f.rule: f.message for f in found if f.fatal}
    warnings = {f.rule: f.message for f in found if not f.fatal}
    return {"einvoice": True, "valid": not fatal, "fields": fatal, "warnings": warnings}


def _default_supply_dates(invoice: Invoice, event: Event, today: dt.date) -> None:
    """Without a delivery date or service period the event's dates are the period (SPEC §9);
    an event without dates makes the issue date the delivery date."""
    if invoice.delivery_date or invoice.period_start or invoice.period_end:
        return
    if event.start_date and event.end_date:
        invoice.period_start, invoice.period_end = event.start_date, event.end_date
    elif event.start_date:
        invoice.delivery_date = event.start_date
    else:
        invoice.delivery_date = today


_CATEGORY_MESSAGES = {
    "unknown_category": _l("Choose a VAT category (S, Z, E, AE, K, G or O)."),
    "standard_needs_rate": _l("The standard category (S) needs a tax rate above 0 %."),
    "zero_category_needs_zero_rate": _l("Only the standard category (S) carries a tax rate; "
                                     "this category is charged at 0 %."),
    "exemption_reason_missing": _l("Say why no VAT is charged (an exemption reason)."),
}


def legal_problems(invoice: Invoice) -> dict[str, list[str]]:
    """What SPEC §9 requires of a document before it is closed, every problem at once.

    The seller (as it would be frozen now): a name, an address, a VAT id or tax number;
    every country an ISO 3166-1 code; each line's and charge's VAT category fitting its
    rate, with an exemption reason where the category needs one. The back office and the
    API both close through `close_invoice`, so both list exactly these.
    """
    problems = FieldErrors()
    seller = invoice.event.seller()
    if not (seller.get("legal_name") or seller.get("company")):
        problems.add("seller.legal_name", _("The seller's name is missing (organizer profile)."))
    if not (seller.get("street1") and seller.get("city") and seller.get("postal_code")
            and seller.get("country")):
        problems.add("seller.street1",
                     _("The seller's address (street, postal code, city, country) is "
                       "incomplete (organizer profile)."))
    if not (seller.get("vat_id") or seller.get("tax_number")):
        problems.add("seller.vat_id",
                     _("The seller needs a VAT id or a tax number (organizer profile)."))
    for field, country in (("seller.country", seller.get("country")),
                           ("billing_address.country",
                            (invoice.billing_address or {}).get("country")),
                           ("shipping_address.country",
                            (invoice.shipping_address or {}).get("country"))):
        if country and country not in COUNTRY_CODES:
            problems.add(field, _("%(code)s is not an ISO 3166-1 country code.", code=country))
    items = [(f"lines.{i}", line.tax_category, line.tax_rate, line.exemption_reason
              or line.exemption_code) for i, line in enumerate(invoice.lines)]
    for name, prefix in (("shipping_method", "shipping"), ("payment_method", "payment")):
        if getattr(invoice, f"{prefix}_method_name") is not None or (
                getattr(invoice, "shipping_cost" if prefix == "shipping" else "payment_fee")
                is not None):
            rate = getattr(invoice, f"{prefix}_tax_rate") or Decimal(0)
            category = (getattr(invoice, f"{prefix}_tax_category")
                        or codelists.default_category(rate))
            items.append((name, category, rate,
                          getattr(invoice, f"{prefix}_exemption_reason")))
    for field, category, rate, reason in items:
        problem = codelists.category_problem(category, rate, reason)
        if problem:
            problems.add(f"{field}.tax_category", str(_CATEGORY_MESSAGES[problem]))
    return dict(problems)


def _transition(invoice: Invoice, action: Action, *, actor: Actor, data: dict | None = None):
    lock_invoice(invoice)
    new_status = _step(invoice, action)
    old = invoice.status
    invoice.status = new_status.value
    invoice.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, action.value, organizer_id=invoice.organizer_id,
                 event_id=invoice.event_id, invoice=invoice, from_status=old,
                 to_status=invoice.status, data=data)
    return invoice


def send_invoice(invoice: Invoice, *, actor: Actor, to: str | None = None,
                 confirm: bool = False) -> Sending:
    """Record a sending and queue its delivery. An open invoice becomes sent at once (SPEC §3);
    should this delivery fail, `fail_sending` moves it back to open.

    While a sending's outcome is unknown (the buyer may have that mail already) and no mail
    of the invoice was delivered since, a new send is refused with 409 `delivery_unknown`
    unless `confirm` is true."""
    lock_invoice(invoice)
    new_status = _step(invoice, Action.SEND)
    unknown = None if confirm else unconfirmed_unknown_sending(invoice)
    if unknown is not None:
        raise ConflictError(
            _("The last mail of this invoice may have arrived (its delivery outcome is "
              "unknown, Message-ID %(message_id)s). Check with the buyer, then confirm to "
              "send it again.", message_id=unknown.message_id or "-"),
            code="delivery_unknown")
    address = to or (invoice.billing_address or {}).get("email") or (
        invoice.customer.email if invoice.customer else "")
    if not address:
        raise ValidationError({"to": [_("The buyer has no e-mail address; give one.")]})
    errors = FieldErrors()
    address = clean_email(errors, "to", address, required=True)
    if errors:
        raise ValidationError(dict(errors))
    old = invoice.status
    # The Message-ID is fixed now, so the answer to this send can name it (SPEC §12, OM's
    # `messageId`); the delivery job sends the mail with exactly it.
    sending = Sending(invoice=invoice, to=address, outcome="queued", actor_label=actor.label,
                      reopens=new_status.value != old, message_id=new_message_id())
    invoice.status = new_status.value
    invoice.updated_at = utcnow()
    db.session.add(sending)
    db.session.flush()
    audit.record(actor, "send", organizer_id=invoice.organizer_id, event_id=invoice.event_id,
                 invoice=invoice, from_status=old, to_status=invoice.status,
                 data={"to": address, "sending": sending.id})
    enqueue("portal.deliver_sending", sending.id, organizer_id=invoice.organizer_id)
    return sending


def unconfirmed_unknown_sending(invoice: Invoice) -> Sending | None:
    """The newest sending of unknown outcome with no delivered sending after it, if any:
    what a new send must be confirmed over."""
    last_sent = select(func.coalesce(func.max(Sending.id), 0)).where(
        Sending.invoice_id == invoice.id, Sending.outcome == "sent").scalar_subquery()
    return db.session.scalar(
        select(Sending).where(Sending.invoice_id == invoice.id, Sending.outcome == "unknown",
                              Sending.id > last_sent)
        .order_by(Sending.id.desc()).limit(1))


def complete_sending(sending: Sending, *, message_id: str) -> None:
    """Delivery succeeded: record it."""
    invoice = lock_invoice(sending.invoice)
    sending.outcome, sending.message_id = "sent", message_id
    sending.delivered_at = utcnow()
    sending.error = None
    audit.record(Actor.system("mail"), "delivered", organizer_id=invoice.organizer_id,
                 event_id=invoice.event_id, invoice=invoice, from_status=invoice.status,
                 to_status=invoice.status, data={"to": sending.to, "message_id": message_id})


def fail_sending(sending: Sending, *, error: str) -> None:
    """Delivery failed: record why. If this sending made the invoice `sent` and nothing has
    moved it since, nor reached the buyer otherwise, it goes back to open; a retry is a new send."""
    invoice = lock_invoice(sending.invoice)
    sending.outcome, sending.error = "failed", error[:2000]
    old = invoice.status
    delivered = any(s.outcome == "sent" for s in invoice.sendings if s.id != sending.id)
    if sending.reopens and old == InvoiceStatus.SENT and not delivered:
        invoice.status = InvoiceStatus.OPEN.value
        invoice.updated_at = utcnow()
    audit.record(Actor.system("mail"), "delivery_failed", organizer_id=invoice.organizer_id,
                 event_id=invoice.event_id, invoice=invoice, from_status=old,
                 to_status=invoice.status, data={"to": sending.to, "error": error[:500]})


def unknown_sending(sending: Sending, *, error: str) -> None:
    """The message may have reached the mail server (cut off after it went out whole): not a
    failure, so the invoice keeps its status; a new send asks for confirmation first."""
    invoice = lock_invoice(sending.invoice)
    sending.outcome, sending.error = "unknown", error[:2000]
    audit.record(Actor.system("mail"), "delivery_unknown", organizer_id=invoice.organizer_id,
                 event_id=invoice.event_id, invoice=invoice, from_status=invoice.status,
                 to_status=invoice.status,
                 data={"to": sending.to, "message_id": sending.message_id})


def pay_invoice(invoice: Invoice, *, actor: Actor, today: dt.date | None = None) -> Invoice:
    """`pay` (SPEC §3, §10): a payment of the whole balance, dated today, method `other`."""
    return payments.pay_in_full(invoice, actor=actor, today=today)


def dispute_invoice(invoice: Invoice, *, actor: Actor, reason: str = "") -> Invoice:
    reason = (reason or "").strip()
    if actor.kind == "customer" and not reason:
        raise ValidationError({"reason": [_("Tell us what is wrong with this invoice.")]})
    if len(reason) > 2000:
        raise ValidationError({"reason": [_("Use at most 2000 characters.")]})
    _transition(invoice, Action.DISPUTE, actor=actor, data={"reason": reason})
    invoice.dispute_reason = reason
    enqueue("portal.mail_dispute", invoice.id)  # the organizer is told (SPEC §14)
    return invoice


def resolve_invoice(invoice: Invoice, *, actor: Actor) -> Invoice:
    _transition(invoice, Action.RESOLVE, actor=actor)
    enqueue("portal.mail_resolution", invoice.id)  # and the customer (SPEC §14)
    return invoice


def archive_invoice(invoice: Invoice, *, actor: Actor) -> Invoice:
    return _transition(invoice, Action.ARCHIVE, actor=actor)


def cancel_invoice(invoice: Invoice, *, actor: Actor,
                   today: dt.date | None = None) -> Invoice | None:
    """Cancel; an invoice or shipping invoice gets a closed, numbered credit note negating it."""
    _transition(invoice, Action.CANCEL, actor=actor)
    if InvoiceType(invoice.type) not in CREDITED_TYPES:
        return None
    # Numbered before it joins the session: a draft-less credit note is closed from birth.
    value, number = numbering.take_next_number(invoice.event, InvoiceType.CREDIT_NOTE)
    credit = _credit_note_for(invoice, today or dt.date.today())
    credit.sequence_value, credit.number = value, number
    db.session.add(credit)
    db.session.flush()
    documents.stamp_einvoice_hashes(credit)
    ledger.link(credit)  # after the XML hashes: the link covers them
    frozen.freeze(credit)
    audit.record(actor, "close", organizer_id=credit.organizer_id, event_id=credit.event_id,
                 invoice=credit, from_status=None, to_status=credit.status,
                 data={"number": credit.number, "cancels": invoice.number})
    enqueue("portal.render_document", credit.id, organizer_id=credit.organizer_id)
    return credit


def _neg(value):
    """Exact negation; zero stays 0, not -0."""
    return None if value is None else (-value if value else value)


def _credit_note_for(original: Invoice, today: dt.date) -> Invoice:
    """A credit note that negates the original's stored figures exactly (never recomputed)."""
    now = utcnow()
    copied = ("organizer_id", "event_id", "customer_id", "order_id", "order_code", "currency",
              "prices_include_tax", "rounding_mode", "rounding_rule", "discounts_include_tax",
              "seller", "billing_address", "shipping_address", "locale", "shipping_method_name",
              "shipping_tax_rate", "shipping_tax_code", "payment_method_name",
              "payment_tax_rate", "payment_tax_code", "additional_text",
              "footer_text", "terms_text", "total_quantity", "total_weight",
              "reference_type", "reference_number", "package_number", "channel",
              "delivery_date", "period_start", "period_end", "buyer_reference",
              "payment_means", "shipping_tax_category", "payment_tax_category",
              "shipping_exemption_reason", "payment_exemption_reason")
    negated = ("prediscount_net", "prediscount_gross", "discount_total", "subtotal_net",
               "subtotal_gross", "shipping_cost", "shipping_net", "shipping_tax",
               "shipping_gross", "payment_fee", "payment_net", "payment_tax", "payment_gross",
               "net_total", "tax_total", "gross_total")
    credit = Invoice(
        type=InvoiceType.CREDIT_NOTE.value, status=InvoiceStatus.OPEN.value,
        refers=original, is_cancellation=True, issue_date=today, closed_at=now,
        # A credit reads as a credit: no "thank you for your purchase", no payment request.
        introductory_text="", payment_text="",
        created_at=now, updated_at=now,
        **{key: getattr(original, key) for key in copied},
        **{key: _neg(getattr(original, key)) for key in negated},
    )
    credit.event = original.event
    credit.lines = [
        InvoiceLine(position=line.position, sku=line.sku, description=line.description,
                    quantity=line.quantity, unit=line.unit, unit_price=_neg(line.unit_price),
                    tax_code=line.tax_code, tax_rate=line.tax_rate,
                    tax_category=line.tax_category, exemption_reason=line.exemption_reason,
                    exemption_code=line.exemption_code,
                    discount_rate=line.discount_rate, discount_amount=_neg(line.discount_amount),
                    weight=line.weight, request_note=line.request_note,
                    order_line_id=line.order_line_id, net_amount=_neg(line.net_amount),
                    tax_amount=_neg(line.tax_amount), gross_amount=_neg(line.gross_amount))
        for line in original.lines
    ]
    credit.discounts = [InvoiceDiscount(position=d.position, type=d.type, value=d.value,
                                        amount=_neg(d.amount)) for d in original.discounts]
    credit.taxes = [InvoiceTax(position=t.position, code=t.code, rate=t.rate,
                               category=t.category, exemption_reason=t.exemption_reason,
                               exemption_code=t.exemption_code, taxable=_neg(t.taxable), amount=_neg(t.amount),
                               gross=_neg(t.gross))
                    for t in original.taxes]
    return credit
