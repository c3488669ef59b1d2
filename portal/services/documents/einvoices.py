"""E-invoices (SPEC §11): the frozen invoice as the dict domain/einvoice.py maps, its CII and
UBL, and the check that refuses a close before the number is taken.

Reads the CONTRACT.md columns (VAT categories, Rec 20 units, delivery date/period, buyer
reference, payment means, Event.einvoicing). No commit, no lock: callers hold the invoice.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from ...domain import codelists, einvoice
from ...domain.lifecycle import InvoiceStatus
from ...errors import ValidationError
from ...models import Invoice
from . import validate, xml

# BT-1 while a draft is checked: the number is taken only after the rules have passed, and the
# rules ask nothing of it but that it is there.
DRAFT_NUMBER = "DRAFT"


class EInvoiceInvalidError(ValidationError):
    """The e-invoice rules refuse this invoice: `fields` maps rule id -> message (SPEC §11)."""

    code = "einvoice_invalid"
    message = "The e-invoice of this invoice does not pass the EN 16931 rules."

    def __init__(self, findings: list[validate.Finding]):
        fields = {}
        for finding in findings:
            if finding.fatal and finding.rule not in fields:
                fields[finding.rule] = finding.message
        super().__init__(None, f"{self.message} Rules: {', '.join(fields)}.")
        self.fields = fields


def enabled(invoice: Invoice) -> bool:
    """Whether this document gets XMLs: a tax invoice type, e-invoicing on for its event, and a
    currency with at most two minor units."""
    return (invoice.type in einvoice.TYPE_CODES and bool(invoice.event.einvoicing)
            and einvoice.can_einvoice(invoice.currency))


def frozen_dict(invoice: Invoice, *, number: str | None = None,
                issue_date: dt.date | None = None) -> dict:
    """The plain dict domain/einvoice.build maps (see its docstring), from the ORM invoice."""
    event = invoice.event
    refers = invoice.refers
    delivery, start, end = invoice.delivery_date, invoice.period_start, invoice.period_end
    means = invoice.payment_means

    def charge(prefix: str, name: str | None, cost) -> dict | None:
        net = getattr(invoice, f"{prefix}_net")
        if cost is None or not net:
            return None
        rate, code = getattr(invoice, f"{prefix}_tax_rate"), getattr(invoice, f"{prefix}_tax_code")
        category = getattr(invoice, f"{prefix}_tax_category")
        if category is None:
            # as the money engine booked it: into the first group of its rate, if any
            joined = next((t.category for t in invoice.taxes if t.rate == rate), None)
            category = (joined if code is None else None) or codelists.default_category(rate)
        return {"name": name or "", "net": net, "tax": getattr(invoice, f"{prefix}_tax"),
                "gross": getattr(invoice, f"{prefix}_gross"), "tax_rate": rate,
                "tax_code": code, "tax_category": category}

    issue_date = issue_date or invoice.issue_date or dt.date.today()
    due_date = invoice.due_date
    seller = invoice.seller
    if invoice.status == InvoiceStatus.DRAFT:
        # what close will freeze (services/invoices.close_invoice): the event's seller, and
        # unless given the default due date, supply dates and payment means
        seller = event.seller()
        if due_date is None and invoice.type != "credit_note":
            due_date = issue_date + dt.timedelta(days=event.due_days)
        if not (delivery or start or end):
            if event.start_date and event.end_date:
                start, end = event.start_date, event.end_date
            else:
                delivery = event.start_date or issue_date
        if means is None:
            means = event.default_payment_means()
    return {
        "type": invoice.type, "number": number or invoice.number or DRAFT_NUMBER,
        "issue_date": issue_date, "due_date": due_date, "currency": invoice.currency,
        "prices_include_tax": invoice.prices_include_tax,
        "rounding": {"mode": invoice.rounding_mode, "rule": invoice.rounding_rule},
        "seller": dict(seller or {}),
        "billing_address": dict(invoice.billing_address or {}),
        "shipping_address": dict(invoice.shipping_address) if invoice.shipping_address else None,
        "buyer_reference": invoice.buyer_reference or "",
        "order_code": invoice.order_code or "",
        "delivery_date": delivery, "period_start": start, "period_end": end,
        "payment_means": means,
        "preceding_invoice": ({"number": refers.number, "issue_date": refers.issue_date}
                              if refers is not None and refers.number else None),
        "lines": [{"position": line.position, "sku": line.sku,
                   "description": line.description, "quantity": line.quantity,
                   "unit": line.unit, "unit_price": line.unit_price,
                   "tax_rate": line.tax_rate,
                   "tax_category": line.tax_category,
                   "discount_rate": line.discount_rate,
                   "discount_amount": line.discount_amount, "net_amount": line.net_amount,
                   "request_note": line.request_note} for line in invoice.lines],
        "taxes": [{"category": tax.category, "code": tax.code,
                   "rate": tax.rate, "taxable": tax.taxable, "amount": tax.amount,
                   "exemption_reason": tax.exemption_reason,
                   "exemption_code": tax.exemption_code}
                  for tax in invoice.taxes],
        "discounts": [{"type": d.type, "value": d.value, "amount": d.amount}
                      for d in invoice.discounts],
        "shipping": charge("shipping", invoice.shipping_method_name, invoice.shipping_cost),
        "payment": charge("payment", invoice.payment_method_name, invoice.payment_fee),
        "totals": {"net": invoice.net_total, "tax": invoice.tax_total,
                   "gross": invoice.gross_total},
        "texts": {"payment": invoice.payment_text or "", "terms": invoice.terms_text or "",
                  "additional": invoice.additional_text or ""},
    }


def render(invoice: Invoice, **overrides) -> tuple[bytes, bytes]:
    """(CII, UBL) of the invoice as frozen."""
    model = einvoice.build(frozen_dict(invoice, **overrides))
    return xml.to_cii(model), xml.to_ubl(model)


def einvoice_findings(invoice: Invoice, *, today: dt.date | None = None) -> list[validate.Finding]:
    """Every finding of both XMLs; a draft is checked as it would close today (with a stand-in
    number). Empty when the document gets no e-invoice."""
    if not enabled(invoice):
        return []
    if invoice.status == InvoiceStatus.DRAFT:
        cii, ubl = render(invoice, number=DRAFT_NUMBER, issue_date=today or dt.date.today())
    else:
        cii, ubl = render(invoice)
    seen, out = set(), []
    for finding in validate.validate(cii) + validate.validate(ubl):
        key = (finding.rule, finding.fatal)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return out


def refuse_if_invalid(invoice: Invoice, *, today: dt.date | None = None) -> None:
    """Raise EInvoiceInvalidError when a fatal rule fails (close calls it before numbering)."""
    problems = validate.fatal(einvoice_findings(invoice, today=today))
    if problems:
        raise EInvoiceInvalidError(problems)


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def stamp_hashes(invoice: Invoice) -> None:
    """At close, once numbered: keep the SHA-256s of the CII and UBL the document job will
    store (the mapping is deterministic; store_pdf refuses bytes that differ), so the invoice
    carries them from its first committed moment, for the ledger and the API alike."""
    if enabled(invoice):
        cii, ubl = render(invoice)
        invoice.cii_sha256, invoice.ubl_sha256 = sha256(cii), sha256(ubl)
