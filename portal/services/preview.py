"""Live totals for the line editor (issue 18): the money engine on a draft that is never
stored. The rules are the engine's (`invoices.recompute`); nothing is reimplemented here or
in the browser."""

from __future__ import annotations

from ..models import Event, Invoice, InvoiceDiscount, InvoiceLine
from . import invoices
from .invoice_input import clean_invoice_input

# The parts of an invoice that decide its figures.
MONEY_KEYS = ("currency", "prices_include_tax", "discounts_include_tax", "rounding", "lines",
              "discounts", "shipping_method", "payment_method")


def preview_invoice(event: Event, raw: dict) -> Invoice:
    """A transient invoice (never added to the session) with the figures the engine computes
    for `raw` (the body `create_draft` takes); ValidationError lists every field problem."""
    data = {key: raw[key] for key in MONEY_KEYS if key in raw}
    clean = clean_invoice_input(data, creating=True, currency=event.currency)
    invoice = Invoice(
        currency=clean.get("currency") or event.currency,
        prices_include_tax=bool(clean.get("prices_include_tax")),
        discounts_include_tax=bool(clean.get("discounts_include_tax")),
        rounding_mode=clean.get("rounding_mode") or "half_up",
        rounding_rule=clean.get("rounding_rule") or "per_line",
    )
    invoice.lines = [InvoiceLine(
        position=i, sku=line["sku"], description=line["description"],
        quantity=line["quantity"], unit=line["unit"], unit_price=line["unit_price"],
        tax_code=line["tax_code"], tax_rate=line["tax_rate"],
        discount_rate=line["discount_rate"], discount_amount=line["discount_amount"],
        weight=line["weight"], request_note=line["request_note"],
        net_amount=0, tax_amount=0, gross_amount=0,
    ) for i, line in enumerate(clean.get("lines") or [], start=1)]
    invoice.discounts = [InvoiceDiscount(position=i, type=d["type"], value=d["value"], amount=0)
                         for i, d in enumerate(clean.get("discounts") or [], start=1)]
    for charge, prefix, amount_attr in (("shipping_method", "shipping", "shipping_cost"),
                                        ("payment_method", "payment", "payment_fee")):
        value = clean.get(charge)
        setattr(invoice, f"{prefix}_method_name", value["name"] if value else None)
        setattr(invoice, amount_attr, value["amount"] if value else None)
        setattr(invoice, f"{prefix}_tax_rate", value["tax_rate"] if value else None)
        setattr(invoice, f"{prefix}_tax_code", value["tax_code"] if value else None)
    invoices.recompute(invoice)
    return invoice
