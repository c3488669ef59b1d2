"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask

from .domain.codelists import PAYMENT_MEANS, UNITS, VAT_CATEGORIES
from .formatting import format_age, format_date, format_money, format_number, format_price
from .services.documents.labels import unit_symbol


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["price"] = format_price
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["age"] = format_age
    app.jinja_env.filters["unit"] = unit_symbol
    app.jinja_env.globals.update(PAYMENT_MEANS_LABELS=PAYMENT_MEANS, UNIT_LABELS=UNITS,
                                 VAT_CATEGORY_LABELS=VAT_CATEGORIES)
