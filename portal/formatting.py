"""Locale-aware display of money and dates (babel), used by pages, PDFs and mails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.numbers import format_currency, format_decimal

from .domain.money import minor_units


@lru_cache(maxsize=256)
def _locale(locale: str | None) -> Locale:
    """Parsed once per locale string: a list page formats dozens of amounts and dates."""
    try:
        return Locale.parse((locale or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def babel_locale(locale: str | None) -> str:
    return str(_locale(locale))


def format_money(amount: Decimal | None, currency: str, locale: str | None = "en") -> str:
    if amount is None:
        return ""
    return format_currency(Decimal(amount), currency, locale=_locale(locale),
                           currency_digits=True)


def format_price(amount: Decimal | None, currency: str, locale: str | None = "en") -> str:
    """A unit price: the currency's decimals, or more when the price has them (0.125 EUR)."""
    if amount is None:
        return ""
    amount = Decimal(amount)
    rounded = amount.quantize(Decimal(1).scaleb(-minor_units(currency)))
    if rounded == amount:
        return format_money(rounded, currency, locale)
    return format_currency(amount.normalize(), currency, locale=_locale(locale),
                           decimal_quantization=False)


def format_number(value: Decimal | None, locale: str | None = "en", places: int = 2) -> str:
    if value is None:
        return ""
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(Decimal(value), format=pattern, locale=_locale(locale))


def format_date(value: dt.date | dt.datetime | None, locale: str | None = "en",
                form: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return _format_date(value, format=form, locale=_locale(locale))


def format_age(seconds: float) -> str:
    """A job's age, short: 45s, 12m, 5h, 3d."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
