"""Cleaning invoice input: one place that turns a JSON body or a form into typed values.

Both the API and the HTML forms call `clean_invoice_input`, so a rule written here holds in
both. It collects every problem before raising one `ValidationError`, with dotted field names
(`lines.2.quantity`). Computed fields are ignored on input; unknown fields are errors.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email

from ..domain.lifecycle import InvoiceType
from ..domain.money import (
    CURRENCY_MINOR_UNITS,
    MAX_DISCOUNTS,
    DiscountType,
    RoundingMode,
    RoundingRule,
)
from ..errors import ValidationError

MAX_LINES = 1000
ADDRESS_FIELDS = ("company", "first_name", "last_name", "street1", "street2", "city",
                  "postal_code", "state", "country", "vat_id", "tax_office", "tax_number",
                  "email", "phone", "is_corporate")
ADDRESS_LIMITS = {"company": 100, "first_name": 50, "last_name": 50, "street1": 100,
                  "street2": 100, "city": 60, "postal_code": 20, "state": 60, "country": 2,
                  "vat_id": 32, "tax_office": 60, "tax_number": 32, "email": 254, "phone": 32}
LINE_FIELDS = ("sku", "description", "quantity", "unit", "unit_price", "tax_code", "tax_rate",
               "discount_rate", "discount_amount", "weight", "request_note", "order_line")
LINE_COMPUTED = ("position", "net_amount", "tax_amount", "gross_amount")
SHIPPING_FIELDS = ("shipped_at", "number_of_packages", "carriage", "goods_appearance",
                   "tracking_number", "transport_reason")
TEXT_FIELDS = ("introductory", "additional", "payment", "footer", "terms")
WRITABLE = ("type", "customer", "order", "refers", "expires_at", "due_date", "locale", "currency",
            "prices_include_tax", "rounding", "billing_address", "shipping_address", "lines",
            "discounts", "discounts_include_tax", "shipping_method", "payment_method", "shipping",
            "texts", "reference", "package_number", "channel")
COMPUTED = ("id", "number", "status", "organizer", "event", "is_cancellation", "issue_date",
            "seller", "totals", "taxes", "pdf_sha256", "created_at", "closed_at", "updated_at")
CREATE_ONLY = ("order",)
_COUNTRY_CODES = frozenset(code for code in Locale("en").territories
                           if len(code) == 2 and code.isalpha())


class FieldErrors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def clean_decimal(errors, field, value, *, places, minimum=None, maximum=None, exclusive_min=False,
             allow_none=False):
    if value is None or value == "":
        if allow_none:
            return None
        errors.add(field, "This field is required.")
        return None
    if isinstance(value, bool):
        errors.add(field, "Enter a number.")
        return None
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        errors.add(field, "Enter a number.")
        return None
    if not number.is_finite():
        errors.add(field, "Enter a number.")
        return None
    try:
        too_precise = (number.as_tuple().exponent < -places
                       and number != number.quantize(Decimal(1).scaleb(-places)))
    except InvalidOperation:  # more digits than the decimal context holds: far out of range
        errors.add(field, "Enter a smaller number.")
        return None
    if too_precise:
        errors.add(field, f"Use at most {places} decimal places.")
        return None
    if minimum is not None and (number <= minimum if exclusive_min else number < minimum):
        errors.add(field, f"Must be greater than {minimum}." if exclusive_min
                   else f"Must be at least {minimum}.")
        return None
    if maximum is not None and number > maximum:
        errors.add(field, f"Must be at most {maximum}.")
        return None
    return number.quantize(Decimal(1).scaleb(-places)) if places >= 0 else number


def clean_text(errors, field, value, *, max_length, required=False, allow_none=True):
    if value is None or value == "":
        if required:
            errors.add(field, "This field is required.")
        return None if allow_none and value is None else ""
    if not isinstance(value, str):
        errors.add(field, "Enter text.")
        return None
    value = value.strip()
    if len(value) > max_length:
        errors.add(field, f"Use at most {max_length} characters.")
        return None
    if required and not value:
        errors.add(field, "This field is required.")
    return value


def _bool(errors, field, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "on", "yes", "no"}:
        return value.lower() in {"true", "1", "on", "yes"}
    errors.add(field, "Enter true or false.")
    return None


def _choice(errors, field, value, choices):
    if value not in choices:
        errors.add(field, "Choose one of: " + ", ".join(choices) + ".")
        return None
    return value


def clean_date(errors, field, value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, "Enter a date as YYYY-MM-DD.")
        return None


def clean_datetime(errors, field, value):
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            errors.add(field, "Enter a date and time in ISO 8601 form.")
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def clean_int(errors, field, value, *, minimum, maximum):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.add(field, "Enter a whole number.")
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.add(field, "Enter a whole number.")
        return None
    if not minimum <= number <= maximum:
        errors.add(field, f"Must be between {minimum} and {maximum}.")
        return None
    return number


def clean_locale(errors, field, value):
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z]{2})?", value):
        errors.add(field, "Enter a locale such as en, de or en-GB.")
        return None
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        errors.add(field, "Unknown locale.")
        return None
    return value.replace("_", "-")


def clean_country(errors, field, value):
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value.upper() not in _COUNTRY_CODES:
        errors.add(field, "Enter a two-letter ISO country code, e.g. DE.")
        return None
    return value.upper()


def clean_email(errors, field, value, *, required=False):
    if value in (None, ""):
        if required:
            errors.add(field, "This field is required.")
        return ""
    if not isinstance(value, str):
        errors.add(field, "Enter an e-mail address.")
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        errors.add(field, "Enter a valid e-mail address.")
        return None


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
        if key == "is_corporate":
            address[key] = bool(_bool(errors, field, value)) if value is not None else False
        elif key == "country":
            address[key] = clean_country(errors, field, value)
        elif key == "email":
            address[key] = clean_email(errors, field, value)
        else:
            address[key] = clean_text(errors, field, value, max_length=ADDRESS_LIMITS[key]) or ""
    return address


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
        "unit": clean_text(errors, f"{prefix}.unit", raw.get("unit"), max_length=20) or "",
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
        if key not in ("name", amount_key, "tax_rate", "tax_code"):
            errors.add(f"{field}.{key}", "Unknown field.")
    return {
        "name": clean_text(errors, f"{field}.name", raw.get("name"), max_length=80, required=True),
        "amount": clean_decimal(errors, f"{field}.{amount_key}", raw.get(amount_key),
                           places=currency_places, minimum=Decimal(0),
                           maximum=Decimal("999999999.999")),
        "tax_rate": clean_decimal(errors, f"{field}.tax_rate", raw.get("tax_rate", "0"), places=2,
                             minimum=Decimal(0), maximum=Decimal(100)),
        "tax_code": clean_text(errors, f"{field}.tax_code", raw.get("tax_code"), max_length=32),
    }


def _sub_object(errors, field, raw, allowed):
    if not isinstance(raw, dict):
        errors.add(field, "Enter an object.")
        return {}
    for key in raw:
        if key not in allowed:
            errors.add(f"{field}.{key}", "Unknown field.")
    return raw


def clean_invoice_input(raw, *, creating: bool, currency: str) -> dict:
    """Typed, checked values for the fields present in `raw` (absent fields stay absent)."""
    errors = FieldErrors()
    if not isinstance(raw, dict):
        raise ValidationError({"body": ["Send a JSON object."]})
    for key in raw:
        if key in COMPUTED:
            continue
        if key not in WRITABLE:
            errors.add(key, "Unknown field.")
        elif key in CREATE_ONLY and not creating:
            errors.add(key, "Can only be given when the invoice is created.")
    if "currency" in raw:
        currency = raw["currency"] if isinstance(raw["currency"], str) else ""
        if currency not in CURRENCY_MINOR_UNITS:
            errors.add("currency", "Unknown ISO 4217 currency code.")
            currency = "EUR"
    places = CURRENCY_MINOR_UNITS.get(currency, 2)
    out: dict = {}

    def present(key):
        return key in raw

    if present("currency") and "currency" not in errors:
        out["currency"] = currency
    if present("type"):
        out["type"] = _choice(errors, "type", raw["type"], [t.value for t in InvoiceType])
    for key in ("customer", "order", "refers"):
        if present(key):
            out[key] = clean_text(errors, key, raw[key], max_length=64)
    if present("expires_at"):
        out["expires_at"] = clean_datetime(errors, "expires_at", raw["expires_at"])
    if present("due_date"):
        out["due_date"] = clean_date(errors, "due_date", raw["due_date"])
    if present("locale"):
        out["locale"] = clean_locale(errors, "locale", raw["locale"])
    for key in ("prices_include_tax", "discounts_include_tax"):
        if present(key):
            out[key] = _bool(errors, key, raw[key])
    if present("rounding"):
        rounding = _sub_object(errors, "rounding", raw["rounding"], ("mode", "rule"))
        if "mode" in rounding:
            out["rounding_mode"] = _choice(errors, "rounding.mode", rounding["mode"],
                                           [m.value for m in RoundingMode])
        if "rule" in rounding:
            out["rounding_rule"] = _choice(errors, "rounding.rule", rounding["rule"],
                                           [r.value for r in RoundingRule])
    for key in ("billing_address", "shipping_address"):
        if present(key):
            out[key] = clean_address(errors, key, raw[key])
    if present("lines"):
        lines = raw["lines"]
        if not isinstance(lines, list):
            errors.add("lines", "Enter a list of lines.")
        elif len(lines) > MAX_LINES:
            errors.add("lines", f"At most {MAX_LINES} lines.")
        else:
            out["lines"] = [_clean_line(errors, i, line, places) for i, line in enumerate(lines)]
    if present("discounts"):
        discounts = raw["discounts"]
        if not isinstance(discounts, list):
            errors.add("discounts", "Enter a list of discounts.")
        elif len(discounts) > MAX_DISCOUNTS:
            errors.add("discounts", f"At most {MAX_DISCOUNTS} discounts.")
        else:
            cleaned = []
            for i, item in enumerate(discounts):
                item = _sub_object(errors, f"discounts.{i}", item, ("type", "value", "amount"))
                kind = _choice(errors, f"discounts.{i}.type", item.get("type"),
                               [d.value for d in DiscountType])
                maximum = Decimal(100) if kind == DiscountType.PERCENT_OFF else None
                value = clean_decimal(errors, f"discounts.{i}.value", item.get("value"), places=3,
                                 minimum=Decimal(0), exclusive_min=True,
                                 maximum=maximum or Decimal("99999999.999"))
                cleaned.append({"type": kind, "value": value})
            out["discounts"] = cleaned
    if present("shipping_method"):
        out["shipping_method"] = _clean_charge(errors, "shipping_method", raw["shipping_method"],
                                               "cost", places)
    if present("payment_method"):
        out["payment_method"] = _clean_charge(errors, "payment_method", raw["payment_method"],
                                              "fee", places)
    if present("shipping"):
        if raw["shipping"] is None:
            out["shipping"] = None
        else:
            ship = _sub_object(errors, "shipping", raw["shipping"], SHIPPING_FIELDS)
            out["shipping"] = {
                "shipped_at": clean_datetime(errors, "shipping.shipped_at", ship.get("shipped_at")),
                "number_of_packages": clean_int(errors, "shipping.number_of_packages",
                                           ship.get("number_of_packages"), minimum=1,
                                           maximum=1000),
                "carriage": None if ship.get("carriage") in (None, "") else _choice(
                    errors, "shipping.carriage", ship.get("carriage"), ["paid", "forward"]),
                "goods_appearance": clean_text(errors, "shipping.goods_appearance",
                                          ship.get("goods_appearance"), max_length=255),
                "tracking_number": clean_text(errors, "shipping.tracking_number",
                                         ship.get("tracking_number"), max_length=64),
                "transport_reason": clean_text(errors, "shipping.transport_reason",
                                          ship.get("transport_reason"), max_length=255),
            }
    if present("texts"):
        texts = _sub_object(errors, "texts", raw["texts"], TEXT_FIELDS)
        out["texts"] = {k: clean_text(errors, f"texts.{k}", texts[k], max_length=65535) or ""
                        for k in TEXT_FIELDS if k in texts}
    if present("reference"):
        ref = raw["reference"] if raw["reference"] is not None else {}
        ref = _sub_object(errors, "reference", ref, ("type", "number"))
        out["reference"] = {
            "type": clean_text(errors, "reference.type", ref.get("type"), max_length=32),
            "number": clean_text(errors, "reference.number", ref.get("number"), max_length=64),
        }
    for key in ("package_number", "channel"):
        if present(key):
            out[key] = clean_text(errors, key, raw[key], max_length=64)
    if errors:
        raise ValidationError(dict(errors))
    return out
