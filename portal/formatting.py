"""Locale-aware display of money and dates (babel), used by pages, PDFs and mails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.numbers import format_currency, format_decimal


def babel_locale(locale: str | None) -> str:
    try:
        return str(Locale.parse((locale or "en").replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        return "en"


def format_money(amount: Decimal | None, currency: str, locale: str | None = "en") -> str:
    if amount is None:
        return ""
    return format_currency(Decimal(amount), currency, locale=babel_locale(locale),
                           currency_digits=True)


def format_number(value: Decimal | None, locale: str | None = "en", places: int = 2) -> str:
    if value is None:
        return ""
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(Decimal(value), format=pattern, locale=babel_locale(locale))


def format_date(value: dt.date | dt.datetime | None, locale: str | None = "en",
                form: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return _format_date(value, format=form, locale=babel_locale(locale))
