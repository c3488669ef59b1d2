"""THE field cleaners: one rule per kind of value, shared by every input in the portal.

Each cleaner takes the `FieldErrors` being collected, the dotted field name (`lines.2.quantity`)
and the raw value; it returns the typed value, or None after adding a message. Callers collect
every problem and raise one `ValidationError` at the end, so the back office (forms), the API
(JSON bodies) and the CLI accept exactly the same things and answer with the same messages.
The sections built from these (invoice header, lines, addresses, …) live in `invoice_input`,
`orders` and `customers`; the character rule (NUL, lone surrogates) is `portal.input_guard`'s.

Why not pydantic v2 (issue 11, measured, not guessed): a prototype of the invoice line as a
pydantic model was 43 lines against the 41 of `_clean_line`, before any of the work needed to
give the same answers. On the existing tests' bad line inputs it answered every one with a
different message ("Input should be greater than 0" for "Must be greater than 0.",
"Field required" for "This field is required.", "Input should be a valid dictionary or
instance of Line" for "Enter an object."), ranked problems differently (`-1e-999999` is "too
many decimal places" here, "must be >= 0" there; a 32-digit price is "Enter a smaller number."
here, "no more than 3 decimal places" there), and a naive `Decimal | None` with `ge=0` raised
TypeError (a 500) instead of a field error. Keeping the messages would take a translation table
from pydantic's error types to ours (through gettext) plus a `""`-to-None validator per
optional field, and its generated JSON Schema (anyOf/null, titles, its own decimal pattern)
is not the document `api/openapi.py` states and the agreement test checks. The exactness of
JSON numbers does not need it either: `api.schemas.json_body` already parses with
`parse_float=Decimal`. So: one more compiled dependency (pydantic, pydantic-core; not installed
today, schemathesis does not pull it in) for no fewer lines and different answers. Not adopted.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from email_validator import EmailNotValidError, validate_email

from ..domain.codelists import NOT_COUNTRIES, PAYMENT_MEANS
from ..errors import ValidationError
from ..i18n import _

# ISO 3166-1 alpha-2: babel's two-letter territories, less its regions (EU, UN, ZZ, ...).
COUNTRY_CODES = frozenset(code for code in Locale("en").territories
                          if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES)
_COUNTRY_CODES = COUNTRY_CODES
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")


class FieldErrors(dict):
    """Messages per dotted field name, collected before one `ValidationError` is raised."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


_PLAIN_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")


def delocalize_decimal(value, locale: str | None):
    """A number as a person types it in `locale` ("12,50" or "1.234,5" in de) as the plain
    text the cleaners take ("12.50", "1234.5"), parsed by babel; HTML forms only, the JSON
    API stays strict. A plain "12.50" is taken as it is in every locale (typed from habit);
    anything else comes back unchanged, for `clean_decimal` to refuse with its message."""
    if not locale or not isinstance(value, str) or not value.strip():
        return value
    from babel.numbers import NumberFormatError, parse_decimal

    text = value.strip()
    if _PLAIN_DECIMAL.match(text) and "," not in text:
        try:
            return str(parse_decimal(text, locale=locale.replace("-", "_"), strict=True))
        except (NumberFormatError, ValueError):
            return text  # "12.50" in de: a plain decimal, not a thousands group
        except Exception:  # noqa: BLE001 - an unknown locale: the text as typed
            return text
    try:
        return str(parse_decimal(text, locale=locale.replace("-", "_"), strict=True))
    except Exception:  # noqa: BLE001 - NumberFormatError, an unknown locale: as typed
        return value


def clean_decimal(errors, field, value, *, places, minimum=None, maximum=None, exclusive_min=False,
             allow_none=False, locale: str | None = None):
    """`locale` (HTML forms): read the number as typed in that locale first."""
    if locale is not None:
        value = delocalize_decimal(value, locale)
    if value is None or value == "":
        if allow_none:
            return None
        errors.add(field, _("This field is required."))
        return None
    if isinstance(value, bool):
        errors.add(field, _("Enter a number."))
        return None
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        errors.add(field, _("Enter a number."))
        return None
    if not number.is_finite():
        errors.add(field, _("Enter a number."))
        return None
    try:
        too_precise = (number.as_tuple().exponent < -places
                       and number != number.quantize(Decimal(1).scaleb(-places)))
    except InvalidOperation:  # more digits than the decimal context holds: far out of range
        errors.add(field, _("Enter a smaller number."))
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
            errors.add(field, _("This field is required."))
        return None if allow_none and value is None else ""
    if not isinstance(value, str):
        errors.add(field, _("Enter text."))
        return None
    value = value.strip()
    if len(value) > max_length:
        errors.add(field, f"Use at most {max_length} characters.")
        return None
    if required and not value:
        errors.add(field, _("This field is required."))
    return value


def clean_bool(errors, field, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "on", "yes", "no"}:
        return value.lower() in {"true", "1", "on", "yes"}
    errors.add(field, _("Enter true or false."))
    return None


def clean_choice(errors, field, value, choices):
    if value not in choices:
        errors.add(field, _("Choose one of: %(choices)s.", choices=", ".join(choices)))
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
        errors.add(field, _("Enter a date as YYYY-MM-DD."))
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
            errors.add(field, _("Enter a date and time in ISO 8601 form."))
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def clean_int(errors, field, value, *, minimum, maximum):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.add(field, _("Enter a whole number."))
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.add(field, _("Enter a whole number."))
        return None
    if not minimum <= number <= maximum:
        errors.add(field, f"Must be between {minimum} and {maximum}.")
        return None
    return number


def clean_locale(errors, field, value):
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z]{2})?", value):
        errors.add(field, _("Enter a locale such as en, de or en-GB."))
        return None
    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        errors.add(field, _("Unknown locale."))
        return None
    return value.replace("_", "-")


def clean_country(errors, field, value):
    if value in (None, ""):
        return ""
    if not isinstance(value, str) or value.upper() not in _COUNTRY_CODES:
        errors.add(field, _("Enter a two-letter ISO country code, e.g. DE."))
        return None
    return value.upper()


def clean_email(errors, field, value, *, required=False):
    if value in (None, ""):
        if required:
            errors.add(field, _("This field is required."))
        return ""
    if not isinstance(value, str):
        errors.add(field, _("Enter an e-mail address."))
        return None
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        errors.add(field, _("Enter a valid e-mail address."))
        return None


def clean_sub_object(errors, field, raw, allowed):
    if not isinstance(raw, dict):
        errors.add(field, _("Enter an object."))
        return {}
    for key in raw:
        if key not in allowed:
            errors.add(f"{field}.{key}", _("Unknown field."))
    return raw


def is_iban(value: str) -> bool:
    """ISO 13616: the shape and the mod-97 check digits."""
    if not _IBAN.match(value):
        return False
    digits = "".join(str(int(ch, 36)) for ch in value[4:] + value[:4])
    return int(digits) % 97 == 1


def clean_iban(errors, field, value):
    text = clean_text(errors, field, value, max_length=42)
    if not text:
        return ""
    text = text.replace(" ", "").upper()
    if not is_iban(text):
        errors.add(field, _("Enter a valid IBAN."))
        return None
    return text


def clean_bic(errors, field, value):
    text = clean_text(errors, field, value, max_length=11)
    if not text:
        return ""
    text = text.replace(" ", "").upper()
    if not _BIC.match(text):
        errors.add(field, _("Enter a valid BIC (8 or 11 characters)."))
        return None
    return text


def clean_payment_means(errors, field, raw):
    """`{"code", "iban", "bic", "account_name"}` (UNTDID 4461 code) or None."""
    if raw is None:
        return None
    item = clean_sub_object(errors, field, raw, ("code", "iban", "bic", "account_name"))
    if not item and not isinstance(raw, dict):
        return None
    code = item.get("code", "58")
    code = clean_choice(errors, f"{field}.code", str(code) if isinstance(code, int) else code,
                        list(PAYMENT_MEANS))
    return {
        "code": code,
        "iban": clean_iban(errors, f"{field}.iban", item.get("iban")),
        "bic": clean_bic(errors, f"{field}.bic", item.get("bic")),
        "account_name": clean_text(errors, f"{field}.account_name", item.get("account_name"),
                                   max_length=100) or "",
    }


def clean_electronic_address(errors, field, raw):
    """An electronic address (EN 16931 BT-34/BT-49): `{"id", "scheme"}` or None."""
    if raw is None:
        return None
    item = clean_sub_object(errors, field, raw, ("id", "scheme"))
    if not isinstance(raw, dict):
        return None
    ident = clean_text(errors, f"{field}.id", item.get("id"), max_length=200, required=True)
    scheme = clean_text(errors, f"{field}.scheme", item.get("scheme"), max_length=10,
                        required=True)
    if ident is None or scheme is None:
        return None
    return {"id": ident, "scheme": scheme.upper()}
