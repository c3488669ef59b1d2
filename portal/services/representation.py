"""The invoice object of SPEC §6 as a plain dict: the API, the customer API and the PDF
context all start from this one shape. Amounts are strings with the currency's decimals.

Callers listing many invoices load the relationships used here eagerly
(`invoice_queries.INVOICE_LOAD`).
"""

from __future__ import annotations

from decimal import Decimal

from ..domain.money import minor_units
from ..models import Customer, Invoice, Payment
from ..models.organizer import SELLER_FIELDS

# The buyer keys of SPEC §9 and their values on invoices made before they existed.
BUYER_DEFAULTS = {"electronic_address": None, "registration_id": "", "e_bill_taxpayer": False}


def fixed(value: Decimal | None, places: int) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).quantize(Decimal(1).scaleb(-places)), "f")


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def payment_to_dict(payment: Payment, places: int) -> dict:
    """A payment (SPEC §10). `recorded_by` is the kind of actor, not who: the same object
    goes to the customer, who need not learn the clerk's address."""
    return {
        "id": payment.id,
        "amount": fixed(payment.amount, places),
        "date": payment.date.isoformat(),
        "method": payment.method,
        "reference": payment.reference or "",
        "recorded_by": payment.actor_type,
        "created_at": _iso(payment.created_at),
    }


def _date(value):
    return value.isoformat() if value is not None else None


def seller_dict(seller: dict | None) -> dict:
    """Every seller key of SPEC §9 (older snapshots lack the newer ones)."""
    seller = dict(seller or {})
    out = {key: seller.get(key) or "" for key in SELLER_FIELDS}
    out["electronic_address"] = seller.get("electronic_address") or None
    return out


def payment_means_dict(means: dict | None) -> dict | None:
    if not means:
        return None
    return {key: means.get(key) or ("" if key != "code" else None)
            for key in ("code", "iban", "bic", "account_name")}


def preceding_invoice(invoice: Invoice) -> dict | None:
    """A credit note's preceding invoice (EN 16931 BG-3): the number and issue date of the
    invoice it refers to."""
    if invoice.type != "credit_note" or invoice.refers is None:
        return None
    return {"number": invoice.refers.number, "issue_date": _date(invoice.refers.issue_date)}


# The keys of the invoice object whose values may change after close, or come from other
# rows: read from columns every time, in the slow path (`invoice_to_dict`) and in the frozen
# one (services.frozen) alike, by `live_values`. Everything else is frozen at close.
LIVE_KEYS = ("id", "status", "organizer", "event", "customer", "payments", "amount_paid",
             "balance", "chain_hash", "xml", "pdf_sha256", "updated_at")


def live_values(row, payments, *, organizer: str, event: str, customer: str | None) -> dict:
    """The LIVE_KEYS of one invoice from `row` (an Invoice, or a row of the frozen read
    path's columns) and its payments (in id order)."""
    places = minor_units(row.currency)
    paid = row.amount_paid or Decimal(0)
    return {
        "id": row.id,
        "status": row.status,
        "organizer": organizer,
        "event": event,
        "customer": customer,
        "payments": [payment_to_dict(p, places) for p in payments],
        "amount_paid": fixed(paid, places),
        "balance": fixed(abs(row.gross_total or Decimal(0)) - paid, places),
        "chain_hash": row.chain_hash,
        "xml": ({"cii_sha256": row.cii_sha256, "ubl_sha256": row.ubl_sha256}
                if row.cii_sha256 or row.ubl_sha256 else None),
        "pdf_sha256": row.pdf_sha256,
        "updated_at": _iso(row.updated_at),
    }


def invoice_to_dict(invoice: Invoice) -> dict:
    """The invoice object, every value read from the invoice and its rows (the slow path;
    services.frozen reads a closed invoice's frozen part from where close stored it)."""
    body = frozen_part(invoice)
    body.update(live_values(
        invoice, invoice.payments, organizer=invoice.organizer.slug, event=invoice.event.slug,
        customer=invoice.customer.reference if invoice.customer else None))
    return body


def frozen_part(invoice: Invoice) -> dict:
    """The invoice object with the LIVE_KEYS left empty (None), in the object's key order:
    what close stores, and what never changes after it."""
    places = minor_units(invoice.currency)

    def amount(value):
        return fixed(value, places)

    def charge(name, cost, rate, key, category, reason):
        if name is None and cost is None:
            return None
        return {"name": name, key: amount(cost), "tax_rate": fixed(rate, 2),
                "tax_category": category or ("Z" if not rate else "S"),
                "exemption_reason": reason}

    billing = {**BUYER_DEFAULTS, **(invoice.billing_address or {})}
    shipping = None
    if invoice.type == "shipping_invoice":
        shipping = {
            "shipped_at": _iso(invoice.shipped_at),
            "number_of_packages": invoice.number_of_packages,
            "carriage": invoice.carriage,
            "goods_appearance": invoice.goods_appearance,
            "tracking_number": invoice.tracking_number,
            "transport_reason": invoice.transport_reason,
        }
    return {
        "id": None,
        "number": invoice.number,
        "type": invoice.type,
        "status": None,
        "organizer": None,
        "event": None,
        "order": invoice.order_code,
        "customer": None,
        "refers": invoice.refers.number if invoice.refers else None,
        "is_cancellation": invoice.is_cancellation,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "expires_at": _iso(invoice.expires_at),
        "locale": invoice.locale,
        "currency": invoice.currency,
        "prices_include_tax": invoice.prices_include_tax,
        "rounding": {"mode": invoice.rounding_mode, "rule": invoice.rounding_rule},
        "seller": seller_dict(invoice.seller if not invoice.is_draft else invoice.event.seller()),
        "billing_address": {**billing, **{k: (billing.get(k) or None)
                                          for k in ("vat_id", "tax_office", "tax_number")}},
        "shipping_address": invoice.shipping_address,
        "lines": [
            {
                "position": line.position, "sku": line.sku, "description": line.description,
                "quantity": fixed(line.quantity, 2), "unit": line.unit,
                "unit_price": fixed(line.unit_price, 3), "tax_code": line.tax_code,
                "tax_rate": fixed(line.tax_rate, 2), "tax_category": line.tax_category,
                "exemption_reason": line.exemption_reason,
                "exemption_code": line.exemption_code,
                "discount_rate": fixed(line.discount_rate, 2),
                "discount_amount": amount(line.discount_amount),
                "weight": fixed(line.weight, 3),
                "request_note": line.request_note or "",
                "net_amount": amount(line.net_amount), "tax_amount": amount(line.tax_amount),
                "gross_amount": amount(line.gross_amount),
            }
            for line in invoice.lines
        ],
        "discounts": [{"type": d.type, "value": fixed(d.value, 3), "amount": amount(d.amount)}
                      for d in invoice.discounts],
        "discounts_include_tax": invoice.discounts_include_tax,
        "shipping_method": charge(invoice.shipping_method_name, invoice.shipping_cost,
                                  invoice.shipping_tax_rate, "cost", invoice.shipping_tax_category,
                                  invoice.shipping_exemption_reason),
        "payment_method": charge(invoice.payment_method_name, invoice.payment_fee,
                                 invoice.payment_tax_rate, "fee", invoice.payment_tax_category,
                                 invoice.payment_exemption_reason),
        "totals": {
            "prediscount_net": amount(invoice.prediscount_net),
            "prediscount_gross": amount(invoice.prediscount_gross),
            "discount": amount(invoice.discount_total),
            "subtotal_net": amount(invoice.subtotal_net),
            "subtotal_gross": amount(invoice.subtotal_gross),
            "net": amount(invoice.net_total),
            "tax": amount(invoice.tax_total),
            "gross": amount(invoice.gross_total),
            "quantity": fixed(invoice.total_quantity, 2),
            "weight": fixed(invoice.total_weight, 3),
        },
        "taxes": [{"category": t.category, "code": t.code, "rate": fixed(t.rate, 2),
                   "taxable": amount(t.taxable), "amount": amount(t.amount),
                   "exemption_reason": t.exemption_reason, "exemption_code": t.exemption_code}
                  for t in invoice.taxes],
        "payments": None,
        "amount_paid": None,
        "balance": None,
        "shipping": shipping,
        "texts": {
            "introductory": invoice.introductory_text or "",
            "additional": invoice.additional_text or "",
            "payment": invoice.payment_text or "",
            "footer": invoice.footer_text or "",
            "terms": invoice.terms_text or "",
        },
        "reference": {"type": invoice.reference_type, "number": invoice.reference_number},
        "package_number": invoice.package_number,
        "channel": invoice.channel,
        "delivery_date": _date(invoice.delivery_date),
        "period": ({"start": _date(invoice.period_start), "end": _date(invoice.period_end)}
                   if invoice.period_start or invoice.period_end else None),
        "buyer_reference": invoice.buyer_reference,
        "payment_means": payment_means_dict(invoice.payment_means),
        "preceding_invoice": preceding_invoice(invoice),
        "chain_hash": None,
        "xml": None,
        "pdf_sha256": None,
        "created_at": _iso(invoice.created_at),
        "closed_at": _iso(invoice.closed_at),
        "updated_at": None,
    }


def sending_to_dict(sending) -> dict:
    """One e-mailing of an invoice, as the API shows it (outcome `unknown`: check first)."""
    return {"id": sending.id, "to": sending.to, "at": _iso(sending.at),
            "outcome": sending.outcome, "message_id": sending.message_id,
            "error": sending.error, "delivered_at": _iso(sending.delivered_at)}


def customer_to_dict(customer: Customer, *, key: str | None = None) -> dict:
    """The customer object of the API (and of `customer.*` webhook events); the key only when
    it was just made, never otherwise (only its hash is stored)."""
    body = {
        "id": customer.id,
        "reference": customer.reference,
        "name": customer.name,
        "email": customer.email,
        "locale": customer.locale,
        "billing_address": customer.billing_address or {},
        "created_at": _iso(customer.created_at),
        "key_rotated_at": _iso(customer.key_rotated_at),
    }
    if key is not None:
        body["key"] = key
    return body
