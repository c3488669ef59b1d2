"""The invoice's input: one small cleaner per section, composed by `clean_invoice_input`.

Both the API and the HTML forms call `clean_invoice_input`, so a rule written here holds in
both. It collects every problem before raising one `ValidationError`, with dotted field names
(`lines.2.quantity`). Computed fields are ignored on input; unknown fields are errors. The field
cleaners themselves (text, decimal, date, e-mail, …) are `services.input`'s, shared with orders,
customers, organizers and the list queries; that module's docstring says why they are not
pydantic models.
"""

from __future__ import annotations

from decimal import Decimal

from ..domain import codelists
from ..domain.lifecycle import InvoiceType
from ..domain.money import (
    CURRENCY_MINOR_UNITS,
    MAX_DISCOUNTS,
    DiscountType,
    RoundingMode,
    RoundingRule,
)
from ..errors import ValidationError
from .input import (  # re-exported: callers import the shared cleaners from here too
    FieldErrors,
    clean_bool,
    clean_choice,
    clean_country,
    clean_date,
    clean_datetime,
    clean_decimal,
    clean_electronic_address,
    clean_email,
    clean_int,
    clean_locale,
    clean_payment_means,
    clean_sub_object,
    clean_text,
)

__all__ = ["FieldErrors", "clean_address", "clean_country", "clean_date", "clean_datetime",
           "clean_decimal", "clean_email", "clean_int", "clean_invoice_input", "clean_locale",
           "clean_text"]

MAX_LINES = 1000
ADDRESS_FIELDS = ("company", "first_name", "last_name", "street1", "street2", "city",
                  "postal_code", "state", "country", "vat_id", "tax_office", "tax_number",
                  "email", "phone", "is_corporate", "electronic_address", "registration_id",
                  "e_bill_taxpayer")
ADDRESS_LIMITS = {"company": 100, "first_name": 50, "last_name": 50, "street1": 100,
                  "street2": 100, "city": 60, "postal_code": 20, "state": 60, "country": 2,
                  "vat_id": 32, "tax_office": 60, "tax_number": 32, "email": 254, "phone": 32,
                  "registration_id": 64}
LINE_FIELDS = ("sku", "description", "quantity", "unit", "unit_price", "tax_code", "tax_rate",
               "tax_category", "exemption_reason", "exemption_code", "discount_rate",
               "discount_amount", "weight", "request_note", "order_line")
LINE_COMPUTED = ("position", "net_amount", "tax_amount", "gross_amount")
SHIPPING_FIELDS = ("shipped_at", "number_of_packages", "carriage", "goods_appearance",
                   "tracking_number", "transport_reason")
TEXT_FIELDS = ("introductory", "additional", "payment", "footer", "terms")
WRITABLE = ("type", "customer", "order", "refers", "expires_at", "due_date", "locale", "currency",
            "prices_include_tax", "rounding", "billing_address", "shipping_address", "lines",
            "discounts", "discounts_include_tax", "shipping_method", "payment_method", "shipping",
            "texts", "reference", "package_number", "channel", "delivery_date", "period",
            "buyer_reference", "payment_means")
COMPUTED = ("id", "number", "status", "organizer", "event", "is_cancellation", "issue_date",
            "seller", "totals", "taxes", "pdf_sha256", "created_at", "closed_at", "updated_at",
            "preceding_invoice", "chain_hash", "xml")
CREATE_ONLY = ("order",)


def clean_address(errors, prefix: str, raw) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.add(prefix, "Enter an object.")
        return None
    address = {}
    for key in raw:
        if key not in ADDRESS_FIELDS:
            errors.add(f"{prefix}.{key}", "Unknown field.")
    for key in ADDRESS_FIELDS:
        field, value = f"{prefix}.{key}", raw.get(key)
        if key in ("is_corporate", "e_bill_taxpayer"):
            address[key] = bool(clean_bool(errors, field, value)) if value is not None else False
        elif key == "electronic_address":
            address[key] = clean_electronic_address(errors, field, value)
        elif key == "country":
            address[key] = clean_country(errors, field, value)
        elif key == "email":
            address[key] = clean_email(errors, field, value)
        else:
            address[key] = clean_text(errors, field, value, max_length=ADDRESS_LIMITS[key]) or ""
    return address


def clean_unit(errors, field, value) -> str:
    """A UN/ECE Rec 20 code (default C62); the free-text units of earlier clients ("pcs",
    "h", ...) are read as their codes so that they keep working."""
    if value is None or value == "":
        return codelists.DEFAULT_UNIT
    if not isinstance(value, str) or (value.strip().upper() not in codelists.UNITS
                                      and value.strip().lower() not in codelists.LEGACY_UNITS):
        errors.add(field, "Use a UN/ECE Recommendation 20 unit code, e.g. C62, H87, HUR.")
        return codelists.DEFAULT_UNIT
    return codelists.unit_from_legacy(value)


def clean_category(errors, prefix: str, raw: dict, rate) -> dict:
    """`tax_category` (default S, or Z at 0 %), `exemption_reason`, `exemption_code`.

    Whether the category fits the rate is checked at close (the draft may be unfinished)."""
    category = raw.get("tax_category")
    if category in (None, ""):
        category = codelists.default_category(rate)
    else:
        category = clean_choice(errors, f"{prefix}.tax_category", category,
                                list(codelists.VAT_CATEGORIES))
    code = raw.get("exemption_code")
    if code not in (None, ""):
        code = clean_choice(errors, f"{prefix}.exemption_code", code, list(codelists.VATEX))
    return {
        "tax_category": category or codelists.DEFAULT_CATEGORY,
        "exemption_reason": clean_text(errors, f"{prefix}.exemption_reason",
                                       raw.get("exemption_reason"), max_length=1000) or None,
        "exemption_code": code or None,
    }


def _clean_line(errors, i: int, raw, currency_places: int) -> dict | None:
    prefix = f"lines.{i}"
    if not isinstance(raw, dict):
        errors.add(prefix, "Enter an object.")
        return None
    for key in raw:
        if key not in LINE_FIELDS and key not in LINE_COMPUTED:
            errors.add(f"{prefix}.{key}", "Unknown field.")
    line = {
        "sku": clean_text(errors, f"{prefix}.sku", raw.get("sku"), max_length=40) or "",
        "description": clean_text(errors, f"{prefix}.description", raw.get("description"),
                             max_length=255, required=True) or "",
        "quantity": clean_decimal(errors, f"{prefix}.quantity", raw.get("quantity"), places=2,
                             minimum=Decimal(0), exclusive_min=True, maximum=Decimal("99999999.99")),
        "unit": clean_unit(errors, f"{prefix}.unit", raw.get("unit")),
        "unit_price": clean_decimal(errors, f"{prefix}.unit_price", raw.get("unit_price"), places=3,
                               minimum=Decimal("-999999999999.999"),
                               maximum=Decimal("999999999999.999")),
        "tax_code": clean_text(errors, f"{prefix}.tax_code", raw.get("tax_code"), max_length=32)
        or "VAT",
        "tax_rate": clean_decimal(errors, f"{prefix}.tax_rate", raw.get("tax_rate", "0"), places=2,
                             minimum=Decimal(0), maximum=Decimal(100)),
        "discount_rate": clean_decimal(errors, f"{prefix}.discount_rate", raw.get("discount_rate"),
                                  places=2, minimum=Decimal(0), maximum=Decimal(100),
                                  allow_none=True),
        "discount_amount": clean_decimal(errors, f"{prefix}.discount_amount",
                                    raw.get("discount_amount"), places=currency_places,
                                    minimum=Decimal(0), allow_none=True),
        "weight": clean_decimal(errors, f"{prefix}.weight", raw.get("weight"), places=3,
                           minimum=Decimal(0), maximum=Decimal("9999999.999"), allow_none=True),
        "request_note": clean_text(errors, f"{prefix}.request_note", raw.get("request_note"),
                              max_length=255) or "",
        "order_line": raw.get("order_line"),
    }
    line.update(clean_category(errors, prefix, raw, line["tax_rate"]))
    if line["discount_rate"] is not None and line["discount_amount"] is not None:
        errors.add(f"{prefix}.discount_amount", "Give a discount rate or an amount, not both.")
    if (line["discount_amount"] is not None and line["quantity"] is not None
            and line["unit_price"] is not None
            and line["discount_amount"] > abs(line["unit_price"] * line["quantity"])):
        errors.add(f"{prefix}.discount_amount", "The discount is larger than the line.")
    return line


def _clean_charge(errors, field, raw, amount_key, currency_places):
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.add(field, "Enter an object or null.")
        return None
    for key in raw:
        if key not in ("name", amount_key, "tax_rate", "tax_code", "tax_category",
                       "exemption_reason"):
            errors.add(f"{field}.{key}", "Unknown field.")
    rate = clean_decimal(errors, f"{field}.tax_rate", raw.get("tax_rate", "0"), places=2,
                         minimum=Decimal(0), maximum=Decimal(100))
    category = clean_category(errors, field, raw, rate)
    return {
        "tax_category": category["tax_category"],
        "exemption_reason": category["exemption_reason"],
        "name": clean_text(errors, f"{field}.name", raw.get("name"), max_length=80, required=True),
        "amount": clean_decimal(errors, f"{field}.{amount_key}", raw.get(amount_key),
                           places=currency_places, minimum=Decimal(0),
                           maximum=Decimal("999999999.999")),
        "tax_rate": rate,
        "tax_code": clean_text(errors, f"{field}.tax_code", raw.get("tax_code"), max_length=32),
    }


# ---------------------------------------------------------------- sections
# Each section reads the keys it owns that are present in `raw` and returns the cleaned values;
# absent keys stay absent, so a partial update changes only what it names.


def _clean_keys(errors, raw, *, creating: bool) -> None:
    for key in raw:
        if key in COMPUTED:
            continue
        if key not in WRITABLE:
            errors.add(key, "Unknown field.")
        elif key in CREATE_ONLY and not creating:
            errors.add(key, "Can only be given when the invoice is created.")


def _clean_currency(errors, raw, currency: str) -> tuple[dict, int]:
    """The cleaned currency (if given) and its minor-unit places, which the amounts follow."""
    if "currency" not in raw:
        return {}, CURRENCY_MINOR_UNITS.get(currency, 2)
    currency = raw["currency"] if isinstance(raw["currency"], str) else ""
    if currency not in CURRENCY_MINOR_UNITS:
        errors.add("currency", "Unknown ISO 4217 currency code.")
        return {}, CURRENCY_MINOR_UNITS["EUR"]
    return {"currency": currency}, CURRENCY_MINOR_UNITS[currency]


def _reference_text(errors, field, value):
    return clean_text(errors, field, value, max_length=64)


def _invoice_type(errors, field, value):
    return clean_choice(errors, field, value, [t.value for t in InvoiceType])


# Plain header fields: key -> the field cleaner for its value, in the order of the output.
HEADER_CLEANERS = {
    "type": _invoice_type,
    "customer": _reference_text,
    "order": _reference_text,
    "refers": _reference_text,
    "expires_at": clean_datetime,
    "due_date": clean_date,
    "locale": clean_locale,
    "prices_include_tax": clean_bool,
    "discounts_include_tax": clean_bool,
}
TRAILER_CLEANERS = {"package_number": _reference_text, "channel": _reference_text,
                    "delivery_date": clean_date}


def _clean_plain(errors, raw, cleaners) -> dict:
    return {key: clean(errors, key, raw[key]) for key, clean in cleaners.items() if key in raw}


def _clean_header(errors, raw, places) -> dict:
    return _clean_plain(errors, raw, HEADER_CLEANERS)


def _clean_rounding(errors, raw, places) -> dict:
    if "rounding" not in raw:
        return {}
    rounding = clean_sub_object(errors, "rounding", raw["rounding"], ("mode", "rule"))
    out = {}
    if "mode" in rounding:
        out["rounding_mode"] = clean_choice(errors, "rounding.mode", rounding["mode"],
                                            [m.value for m in RoundingMode])
    if "rule" in rounding:
        out["rounding_rule"] = clean_choice(errors, "rounding.rule", rounding["rule"],
                                            [r.value for r in RoundingRule])
    return out


def _clean_addresses(errors, raw, places) -> dict:
    return {key: clean_address(errors, key, raw[key])
            for key in ("billing_address", "shipping_address") if key in raw}


def _clean_list(errors, raw, key: str, maximum: int, clean_item) -> dict:
    """`{key: [cleaned items]}` for a list of at most `maximum` items; {} when absent or bad."""
    if key not in raw:
        return {}
    items = raw[key]
    if not isinstance(items, list):
        errors.add(key, f"Enter a list of {key}.")
    elif len(items) > maximum:
        errors.add(key, f"At most {maximum} {key}.")
    else:
        return {key: [clean_item(i, item) for i, item in enumerate(items)]}
    return {}


def _clean_lines(errors, raw, places) -> dict:
    return _clean_list(errors, raw, "lines", MAX_LINES,
                       lambda i, line: _clean_line(errors, i, line, places))


def _clean_discount(errors, i: int, raw) -> dict:
    item = clean_sub_object(errors, f"discounts.{i}", raw, ("type", "value", "amount"))
    kind = clean_choice(errors, f"discounts.{i}.type", item.get("type"),
                        [d.value for d in DiscountType])
    maximum = Decimal(100) if kind == DiscountType.PERCENT_OFF else None
    value = clean_decimal(errors, f"discounts.{i}.value", item.get("value"), places=3,
                          minimum=Decimal(0), exclusive_min=True,
                          maximum=maximum or Decimal("99999999.999"))
    return {"type": kind, "value": value}


def _clean_discounts(errors, raw, places) -> dict:
    return _clean_list(errors, raw, "discounts", MAX_DISCOUNTS,
                       lambda i, item: _clean_discount(errors, i, item))


def _clean_charges(errors, raw, places) -> dict:
    """The shipping and payment methods: a named charge with its amount under its own key."""
    return {key: _clean_charge(errors, key, raw[key], amount_key, places)
            for key, amount_key in (("shipping_method", "cost"), ("payment_method", "fee"))
            if key in raw}


def _clean_carriage(errors, field, value):
    if value in (None, ""):
        return None
    return clean_choice(errors, field, value, ["paid", "forward"])


def _clean_shipping(errors, raw, places) -> dict:
    if "shipping" not in raw:
        return {}
    if raw["shipping"] is None:
        return {"shipping": None}
    ship = clean_sub_object(errors, "shipping", raw["shipping"], SHIPPING_FIELDS)
    return {"shipping": {
        "shipped_at": clean_datetime(errors, "shipping.shipped_at", ship.get("shipped_at")),
        "number_of_packages": clean_int(errors, "shipping.number_of_packages",
                                        ship.get("number_of_packages"), minimum=1,
                                        maximum=1000),
        "carriage": _clean_carriage(errors, "shipping.carriage", ship.get("carriage")),
        "goods_appearance": clean_text(errors, "shipping.goods_appearance",
                                       ship.get("goods_appearance"), max_length=255),
        "tracking_number": clean_text(errors, "shipping.tracking_number",
                                      ship.get("tracking_number"), max_length=64),
        "transport_reason": clean_text(errors, "shipping.transport_reason",
                                       ship.get("transport_reason"), max_length=255),
    }}


def _clean_texts(errors, raw, places) -> dict:
    if "texts" not in raw:
        return {}
    texts = clean_sub_object(errors, "texts", raw["texts"], TEXT_FIELDS)
    return {"texts": {k: clean_text(errors, f"texts.{k}", texts[k], max_length=65535) or ""
                      for k in TEXT_FIELDS if k in texts}}


def _clean_reference(errors, raw, places) -> dict:
    if "reference" not in raw:
        return {}
    ref = raw["reference"] if raw["reference"] is not None else {}
    ref = clean_sub_object(errors, "reference", ref, ("type", "number"))
    return {"reference": {
        "type": clean_text(errors, "reference.type", ref.get("type"), max_length=32),
        "number": clean_text(errors, "reference.number", ref.get("number"), max_length=64),
    }}


def _clean_trailer(errors, raw, places) -> dict:
    return _clean_plain(errors, raw, TRAILER_CLEANERS)


def _clean_legal(errors, raw, places) -> dict:
    """SPEC §9: the service period, the buyer reference (BT-10) and the payment means."""
    out = {}
    if "period" in raw:
        if raw["period"] is None:
            out["period"] = None
        else:
            period = clean_sub_object(errors, "period", raw["period"], ("start", "end"))
            start = clean_date(errors, "period.start", period.get("start"))
            end = clean_date(errors, "period.end", period.get("end"))
            if isinstance(raw["period"], dict) and (start is None or end is None):
                for key, value in (("start", start), ("end", end)):
                    if value is None and "period." + key not in errors:
                        errors.add(f"period.{key}", "This field is required.")
            elif start and end and end < start:
                errors.add("period.end", "The period cannot end before it starts.")
            out["period"] = {"start": start, "end": end}
    if "buyer_reference" in raw:
        out["buyer_reference"] = clean_text(errors, "buyer_reference", raw["buyer_reference"],
                                            max_length=200) or None
    if "payment_means" in raw:
        out["payment_means"] = clean_payment_means(errors, "payment_means", raw["payment_means"])
    return out


# The sections in the order of the output (and of the messages within it).
SECTIONS = (_clean_header, _clean_rounding, _clean_addresses, _clean_lines, _clean_discounts,
            _clean_charges, _clean_shipping, _clean_texts, _clean_reference, _clean_trailer,
            _clean_legal)


def clean_invoice_input(raw, *, creating: bool, currency: str) -> dict:
    """Typed, checked values for the fields present in `raw` (absent fields stay absent)."""
    if not isinstance(raw, dict):
        raise ValidationError({"body": ["Send a JSON object."]})
    errors = FieldErrors()
    _clean_keys(errors, raw, creating=creating)
    out, places = _clean_currency(errors, raw, currency)
    for section in SECTIONS:
        out.update(section(errors, raw, places))
    errors.raise_if_any()
    return out
