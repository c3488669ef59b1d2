"""Live totals for the line editor (issue 18): the money engine on a draft that is never
stored. The rules are the drafts' own (`invoices._apply`, `invoices.recompute`); nothing is
reimplemented here or in the browser."""

from __future__ import annotations

from ..errors import ValidationError
from ..models import Event, Invoice
from . import invoices
from .invoice_input import clean_invoice_input

# The parts of an invoice that decide its figures (no customer, order or reference: nothing
# here may tie the transient invoice to a stored row, which would add it to the session).
MONEY_KEYS = ("currency", "prices_include_tax", "discounts_include_tax", "rounding", "lines",
              "discounts", "shipping_method", "payment_method")


def preview_invoice(event: Event, raw: dict) -> Invoice:
    """A transient invoice (never added to the session) with the figures the engine computes
    for `raw` (the body `create_draft` takes); ValidationError lists every field problem."""
    data = {key: raw[key] for key in MONEY_KEYS if key in raw}
    clean = clean_invoice_input(data, creating=True, currency=event.currency)
    invoice = Invoice(currency=event.currency, prices_include_tax=False,
                      rounding_mode="half_up", rounding_rule="per_line",
                      discounts_include_tax=False)
    errors: dict[str, list[str]] = {}
    invoices._apply(invoice, clean, errors, event=event)  # noqa: SLF001 - the drafts' own rules
    if errors:
        raise ValidationError(errors)
    invoices.recompute(invoice)
    return invoice
