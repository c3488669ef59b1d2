"""Glue between the back-office forms and the services.

- `attach_errors` puts a service's dotted field errors (`lines.2.quantity`) next to the
  form field of that name, so rules are written once (in the services) and shown in place.
- `editor_command` runs the "add line" / "remove line" buttons of the line editors: they post
  the whole form back and it is re-rendered with one row more or less, so the editors work
  without JavaScript.
- `invoice_input` / `invoice_form_data` turn the invoice form into the input of
  `clean_invoice_input` and an invoice back into form values.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask import request
from wtforms import FieldList, FormField
from wtforms.form import BaseForm

from ..errors import ValidationError
from ..i18n import _
from ..services.input import delocalize_decimal
from ..services.invoice_input import ADDRESS_FIELDS, SHIPPING_FIELDS, TEXT_FIELDS
from .forms import options

MAX_ROWS = {"lines": 1000, "discounts": 5}
_COMMAND = re.compile(r"^(add|remove):([a-z_]+)(?::(\d+))?$")
# Line fields that do not make a row count as filled in (they come prefilled).
_LINE_DEFAULTS = ("tax_code", "tax_rate", "unit", "tax_category", "exemption_code")
_BUYER_FLAGS = ("is_corporate", "e_bill_taxpayer")
# Prefilled values that leave a row blank while they are unchanged (a new row says 1).
_LINE_PREFILLED = {"quantity": "1"}
# Number fields typed in the user's locale ("12,50" in de), read by babel (issue 18).
_LINE_NUMBERS = ("quantity", "unit_price", "tax_rate", "discount_rate", "discount_amount",
                 "weight")
_CHARGE_NUMBERS = ("cost", "fee", "tax_rate")


# ---------------------------------------------------------------- errors


def _child(node, part: str):
    if isinstance(node, FieldList):
        if part.isdigit() and int(part) < len(node.entries):
            return node.entries[int(part)]
        return None
    if isinstance(node, FormField):
        node = node.form
    if isinstance(node, BaseForm):
        return node._fields.get(part)
    return None


def attach_errors(form, fields: dict[str, list[str]],
                  positions: dict[str, list[int]] | None = None) -> list[str]:
    """Show each error next to its field; returns the messages that have no field.

    `positions` maps a list name to the form row of each item sent to the service (blank
    rows are not sent, so item 2 may be row 3).
    """
    unplaced: list[str] = []
    form.group_messages = {}
    for path, messages in fields.items():
        parts = path.split(".")
        if positions and len(parts) > 1 and parts[0] in positions and parts[1].isdigit():
            rows = positions[parts[0]]
            index = int(parts[1])
            parts[1] = str(rows[index]) if index < len(rows) else parts[1]
        node = form
        for part in parts:
            node = _child(node, part)
            if node is None:
                break
        if node is None:
            unplaced.extend(f"{path}: {message}" for message in messages)
        elif isinstance(node, FieldList | FormField):
            node.group_errors = list(getattr(node, "group_errors", [])) + list(messages)
        else:
            node.errors = list(node.errors or []) + list(messages)
    form.unplaced_errors = unplaced
    form.error_count = sum(len(messages) for messages in fields.values())
    return unplaced


# ---------------------------------------------------------------- line editors


def editor_command(form) -> bool:
    """Run an add/remove row button of `form`; True when one was pressed (re-render only)."""
    if request.form.get("command") == "restore":
        return True  # a form given back after an expired session: show it, save nothing
    match = _COMMAND.match(request.form.get("command", ""))
    if not match:
        return False
    verb, name, index = match.groups()
    rows = getattr(form, name, None)
    if not isinstance(rows, FieldList):
        return False
    if verb == "add" and len(rows.entries) < MAX_ROWS.get(name, 1000):
        rows.append_entry()
    elif verb == "remove" and index is not None and int(index) < len(rows.entries):
        del rows.entries[int(index)]
    return True


def _blank(values: dict, ignore: tuple[str, ...] = (), prefilled: dict | None = None) -> bool:
    prefilled = prefilled or {}
    return not any((value.strip() if isinstance(value, str) else value)
                   for key, value in values.items() if key not in ignore
                   and not (key in prefilled and (value or "").strip() == prefilled[key]))


def rows_input(rows: FieldList, ignore: tuple[str, ...] = (),
               prefilled: dict | None = None) -> tuple[list[dict], list[int]]:
    """The filled-in rows of a row editor, and the form row each came from."""
    items, positions = [], []
    for position, entry in enumerate(rows.entries):
        values = dict(entry.data)
        if _blank(values, ignore, prefilled):
            continue
        items.append({key: (value.strip() if isinstance(value, str) else value)
                      for key, value in values.items()})
        positions.append(position)
    return items, positions


# ---------------------------------------------------------------- invoice form <-> input


def _none_if_blank(values: dict, ignore: tuple[str, ...] = ()) -> dict | None:
    return None if _blank(values, ignore) else values


def _delocalize(values: dict | None, keys: tuple[str, ...], locale: str | None):
    if values and locale:
        for key in keys:
            if key in values:
                values[key] = delocalize_decimal(values[key], locale)
    return values


def invoice_input(form, *, creating: bool,
                  locale: str | None = None) -> tuple[dict, dict[str, list[int]]]:
    """The body for `create_draft` / `update_draft` from the invoice form; numbers typed in
    `locale` (the user's) are read as such."""
    lines, line_rows = rows_input(form.lines, ignore=_LINE_DEFAULTS, prefilled=_LINE_PREFILLED)
    discounts, discount_rows = rows_input(form.discounts, ignore=("type",))
    for item in lines:
        _delocalize(item, _LINE_NUMBERS, locale)
    for item in discounts:
        _delocalize(item, ("value",), locale)
    billing = dict(form.billing_address.data)
    endpoint = ((billing.pop("electronic_address_id", "") or "").strip(),
                (billing.pop("electronic_address_scheme", "") or "").strip())
    billing["electronic_address"] = ({"id": endpoint[0], "scheme": endpoint[1]}
                                     if any(endpoint) else None)
    shipping_address = dict(form.shipping_address.data)
    period = (form.period_start.data or None, form.period_end.data or None)
    raw = {
        "type": form.type.data,
        "customer": form.customer.data or None,
        "refers": (form.refers.data or "").strip() or None,
        "locale": (form.locale.data or "").strip() or None,
        "currency": (form.currency.data or "").strip().upper(),
        "due_date": form.due_date.data or None,
        "expires_at": form.expires_at.data or None,
        "prices_include_tax": bool(form.prices_include_tax.data),
        "discounts_include_tax": bool(form.discounts_include_tax.data),
        "rounding": dict(form.rounding.data),
        "shipping_address": _none_if_blank(shipping_address, ("is_corporate",)),
        "lines": lines,
        "discounts": discounts,
        "shipping_method": _delocalize(_none_if_blank(dict(form.shipping_method.data)),
                                       _CHARGE_NUMBERS, locale),
        "payment_method": _delocalize(_none_if_blank(dict(form.payment_method.data)),
                                      _CHARGE_NUMBERS, locale),
        "shipping": _none_if_blank(dict(form.shipping.data)),
        "texts": {key: form.texts.form[key].data or "" for key in TEXT_FIELDS},
        "reference": {key: (value or "").strip() or None
                      for key, value in form.reference.data.items()},
        "package_number": (form.package_number.data or "").strip() or None,
        "channel": (form.channel.data or "").strip() or None,
        "delivery_date": form.delivery_date.data or None,
        "period": {"start": period[0], "end": period[1]} if any(period) else None,
        "buyer_reference": (form.buyer_reference.data or "").strip() or None,
    }
    # A blank buyer lets the customer's billing address fill in.
    if not _blank(billing, _BUYER_FLAGS):
        raw["billing_address"] = billing
    if creating and raw["locale"] is None:
        del raw["locale"]
    return raw, {"lines": line_rows, "discounts": discount_rows}


def plain(value, places: int = 0) -> str:
    """A stored decimal as a person types it: 3.00 -> 3, 56.330 -> 56.33 (keep `places`)."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(number, "f")
    if "." in text:
        whole, _, fraction = text.partition(".")
        fraction = fraction.rstrip("0").ljust(places, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    return text


def _local_datetime(value: str | None) -> str:
    """ISO 8601 UTC ("2026-01-02T10:30:00Z") as a datetime-local value."""
    return (value or "")[:16]


def invoice_form_data(data: dict, invoice=None) -> dict:
    """Form values for an invoice in its API shape (`invoice_to_dict`)."""
    buyer = data["billing_address"] or {}
    billing = {key: buyer.get(key) or "" for key in ADDRESS_FIELDS
               if key not in ("electronic_address", *_BUYER_FLAGS)}
    for flag in _BUYER_FLAGS:
        billing[flag] = bool(buyer.get(flag))
    endpoint = buyer.get("electronic_address") or {}
    billing["electronic_address_id"] = endpoint.get("id") or ""
    billing["electronic_address_scheme"] = endpoint.get("scheme") or ""
    shipping_address = {key: (data["shipping_address"] or {}).get(key) or ""
                        for key in ADDRESS_FIELDS}
    shipping_address["is_corporate"] = bool((data["shipping_address"] or {}).get("is_corporate"))
    shipping = dict(data.get("shipping") or {})
    shipping = {key: "" if shipping.get(key) is None else str(shipping[key])
                for key in SHIPPING_FIELDS}
    shipping["shipped_at"] = _local_datetime(shipping["shipped_at"])

    def charge(item, amount_key, code, category):
        item = item or {}
        return {"name": item.get("name") or "", amount_key: plain(item.get(amount_key), 2),
                "tax_rate": plain(item.get("tax_rate")), "tax_code": code or "",
                "tax_category": category or "",
                "exemption_reason": item.get("exemption_reason") or ""}

    return {
        "type": data["type"],
        "customer": data["customer"] or "",
        "refers": data["refers"] or "",
        "locale": data["locale"] or "",
        "currency": data["currency"],
        "due_date": data["due_date"] or "",
        "expires_at": _local_datetime(data["expires_at"]),
        "prices_include_tax": data["prices_include_tax"],
        "discounts_include_tax": data["discounts_include_tax"],
        "rounding": dict(data["rounding"]),
        "billing_address": billing,
        "shipping_address": shipping_address,
        "lines": [{
            "sku": line["sku"] or "", "description": line["description"] or "",
            "quantity": plain(line["quantity"]), "unit": line["unit"] or "C62",
            "tax_category": line.get("tax_category") or "",
            "exemption_reason": line.get("exemption_reason") or "",
            "exemption_code": line.get("exemption_code") or "",
            "unit_price": plain(line["unit_price"], 2), "tax_code": line["tax_code"] or "",
            "tax_rate": plain(line["tax_rate"]), "discount_rate": plain(line["discount_rate"]),
            "discount_amount": plain(line["discount_amount"], 2),
            "weight": plain(line["weight"]), "request_note": line.get("request_note") or "",
        } for line in data["lines"]] or [{}],
        "discounts": [{"type": d["type"], "value": plain(d["value"])}
                      for d in data["discounts"]],
        "shipping_method": charge(data["shipping_method"], "cost",
                                  getattr(invoice, "shipping_tax_code", None),
                                  getattr(invoice, "shipping_tax_category", None)),
        "payment_method": charge(data["payment_method"], "fee",
                                 getattr(invoice, "payment_tax_code", None),
                                 getattr(invoice, "payment_tax_category", None)),
        "shipping": shipping,
        "texts": dict(data["texts"]),
        "reference": {"type": data["reference"]["type"] or "",
                      "number": data["reference"]["number"] or ""},
        "package_number": data["package_number"] or "",
        "channel": data["channel"] or "",
        "delivery_date": data.get("delivery_date") or "",
        "period_start": (data.get("period") or {}).get("start") or "",
        "period_end": (data.get("period") or {}).get("end") or "",
        "buyer_reference": data.get("buyer_reference") or "",
    }


def event_choices(organizer) -> list:
    return options((str(event.id), event.name) for event in organizer.events)


def chosen_events(organizer, ids) -> list:
    """The organizer's events among the ticked `ids`; an id of anything else is refused."""
    by_id = {str(event.id): event for event in organizer.events}
    if any(i not in by_id for i in ids or []):
        raise ValidationError({"events": [_("Choose events of this organizer.")]})
    return [by_id[i] for i in ids or []]
