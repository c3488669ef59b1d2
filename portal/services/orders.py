"""Orders: what a customer bought, ready to be invoiced."""

from __future__ import annotations

from sqlalchemy import select

from ..errors import ValidationError
from ..extensions import db
from ..i18n import _
from ..models import Customer, Event, Order, OrderLine
from . import audit
from .audit import Actor
from .input import FieldErrors, clean_datetime, clean_decimal, clean_text

ORDER_FIELDS = ("code", "customer", "placed_at", "lines")
LINE_FIELDS = ("sku", "name", "quantity", "unit_price", "tax_rate", "tax_code")


def _clean_order_line(errors: FieldErrors, i: int, raw) -> OrderLine | None:
    prefix = f"lines.{i}"
    if not isinstance(raw, dict):
        errors.add(prefix, _("Enter an object."))
        return None
    for key in raw:
        if key not in LINE_FIELDS:
            errors.add(f"{prefix}.{key}", _("Unknown field."))
    return OrderLine(
        position=i + 1,
        sku=clean_text(errors, f"{prefix}.sku", raw.get("sku"), max_length=40) or "",
        name=clean_text(errors, f"{prefix}.name", raw.get("name"), max_length=255,
                        required=True) or "",
        quantity=clean_decimal(errors, f"{prefix}.quantity", raw.get("quantity"), places=2,
                               minimum=0, exclusive_min=True, maximum=99999999),
        unit_price=clean_decimal(errors, f"{prefix}.unit_price", raw.get("unit_price"),
                                 places=3, minimum=0, maximum=999999999999),
        tax_rate=clean_decimal(errors, f"{prefix}.tax_rate", raw.get("tax_rate", "0"),
                               places=2, minimum=0, maximum=100),
        tax_code=clean_text(errors, f"{prefix}.tax_code", raw.get("tax_code"),
                            max_length=32) or "VAT",
    )


def _clean_order_lines(errors: FieldErrors, raw_lines) -> list[OrderLine]:
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.add("lines", _("Give at least one line."))
        return []
    lines = (_clean_order_line(errors, i, raw) for i, raw in enumerate(raw_lines))
    return [line for line in lines if line is not None]


def create_order(event: Event, data: dict, *, actor: Actor) -> Order:
    errors = FieldErrors()
    if not isinstance(data, dict):
        raise ValidationError({"body": [_("Send a JSON object.")]})
    for key in data:
        if key not in ORDER_FIELDS and key not in ("id", "created_at"):
            errors.add(key, _("Unknown field."))
    code = clean_text(errors, "code", data.get("code"), max_length=32, required=True)
    if code and db.session.scalar(select(Order.id).where(Order.event_id == event.id,
                                                         Order.code == code)):
        errors.add("code", _("An order with this code exists in this event."))
    reference = clean_text(errors, "customer", data.get("customer"), max_length=64, required=True)
    customer = None
    if reference:
        customer = db.session.scalar(select(Customer).where(
            Customer.organizer_id == event.organizer_id, Customer.reference == reference))
        if customer is None:
            errors.add("customer", _("No customer with this reference."))
    placed_at = clean_datetime(errors, "placed_at", data.get("placed_at"))
    lines = _clean_order_lines(errors, data.get("lines"))
    if errors:
        raise ValidationError(dict(errors))
    order = Order(event_id=event.id, customer=customer, code=code, lines=lines)
    if placed_at:
        order.placed_at = placed_at
    db.session.add(order)
    db.session.flush()
    audit.record(actor, "create", organizer_id=event.organizer_id, event_id=event.id,
                 object_type="order", object_id=order.id, data={"code": code})
    return order
