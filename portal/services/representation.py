"""The invoice object of SPEC §6 as a plain dict: the API, the customer API and the PDF
context all start from this one shape. Amounts are strings with the currency's decimals.

Callers listing many invoices load the relationships used here eagerly
(`invoice_queries.INVOICE_LOAD`).
"""

from __future__ import annotations

from decimal import Decimal

from ..domain.money import minor_units
from ..models import Customer, Invoice, Payment


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


def invoice_to_dict(invoice: Invoice) -> dict:
    places = minor_units(invoice.currency)

    def amount(value):
        return fixed(value, places)

    def charge(name, cost, rate, key):
        if name is None and cost is None:
            return None
        return {"name": name, key: amount(cost), "tax_rate": fixed(rate, 2)}

    billing = dict(invoice.billing_address or {})
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
        "id": invoice.id,
        "number": invoice.number,
        "type": invoice.type,
        "status": invoice.status,
        "organizer": invoice.organizer.slug,
        "event": invoice.event.slug,
        "order": invoice.order_code,
        "customer": invoice.customer.reference if invoice.customer else None,
        "refers": invoice.refers.number if invoice.refers else None,
        "is_cancellation": invoice.is_cancellation,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "expires_at": _iso(invoice.expires_at),
        "locale": invoice.locale,
        "currency": invoice.currency,
        "prices_include_tax": invoice.prices_include_tax,
        "rounding": {"mode": invoice.rounding_mode, "rule": invoice.rounding_rule},
        "seller": dict(invoice.seller or {}) if not invoice.is_draft else invoice.event.seller(),
        "billing_address": {**billing, **{k: (billing.get(k) or None)
                                          for k in ("vat_id", "tax_office", "tax_number")}},
        "shipping_address": invoice.shipping_address,
        "lines": [
            {
                "position": line.position, "sku": line.sku, "description": line.description,
                "quantity": fixed(line.quantity, 2), "unit": line.unit,
                "unit_price": fixed(line.unit_price, 3), "tax_code": line.tax_code,
                "tax_rate": fixed(line.tax_rate, 2),
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
                                  invoice.shipping_tax_rate, "cost"),
        "payment_method": charge(invoice.payment_method_name, invoice.payment_fee,
                                 invoice.payment_tax_rate, "fee"),
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
        "taxes": [{"code": t.code, "rate": fixed(t.rate, 2), "taxable": amount(t.taxable),
                   "amount": amount(t.amount)} for t in invoice.taxes],
        "payments": [payment_to_dict(p, places) for p in invoice.payments],
        "amount_paid": amount(invoice.amount_paid or 0),
        "balance": amount(invoice.balance),
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
        "pdf_sha256": invoice.pdf_sha256,
        "created_at": _iso(invoice.created_at),
        "closed_at": _iso(invoice.closed_at),
        "updated_at": _iso(invoice.updated_at),
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
