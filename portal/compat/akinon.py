"""Akinon OMS dialect (SPEC §12): Invoice Services, list and detail, read-only.

Base URL `/compat/akinon/{organizer}`; `Authorization: Token`. The scope is the organizer in
the base URL and, below it, the events the token may see. Akinon's line amounts are *gross*:
`total_amount` before the line discount, `net_amount` after it (the seed's 399.00 item at 8 %
reads tax 29.56, total 399.00, net 399.00); our `net_amount` (net of tax) is never shown
under that name. Errors in Django REST framework's shape, `{"detail": "…"}`.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, request
from sqlalchemy.orm import joinedload

from ..api import auth
from ..domain.lifecycle import InvoiceType
from ..domain.money import quantize
from ..errors import NotFoundError
from ..models import Invoice
from ..services import invoice_queries
from ..services.invoice_queries import InvoiceFilter, PastEnd
from ..services.representation import fixed
from . import answer, challenge, page_body, page_number

BASE = "/compat/akinon/<organizer>"
bp = Blueprint("compat_akinon", __name__)
bp.after_request(challenge)
PAGE_SIZE = 50
ZERO = "0.00"

MAPPING = {
    "id": "id",
    "invoice_type": "`refund` for a credit note, else `purchased`",
    "status": "status (the portal status)",
    "channel": "the event (id, name), as Akinon's channel object",
    "address": "billing_address in Akinon keys (`line` = street lines, `pk` = invoice id)",
    "invoiceitem_set[].total_amount": "line gross before its line discount",
    "invoiceitem_set[].net_amount": "line gross after its line discount (lines[].gross_amount)",
    "invoiceitem_set[].tax_amount": "lines[].tax_amount",
    "invoiceitem_set[].discount_amount": "total_amount - net_amount, \"0.00\" when none",
    "invoiceitem_set[].order_item": "the order line id, or null",
    "order": "the order (code as `number`, placed-at as `date_placed`) or null",
    "package_number": "package_number",
    "created_date / modified_date": "created_at / updated_at",
    "number": "number (null while draft)",
}
PATHS = ["GET /api/v1/oms/invoices/", "GET /api/v1/oms/invoices/{id}/"]
AUTH = "Authorization: Token <api token> (the organizer's token; its event limits apply)"
EXAMPLE_REQUEST = """GET /compat/akinon/bigevents/api/v1/oms/invoices/17/ HTTP/1.1
Accept: application/json
Authorization: Token <api token>"""
EXAMPLE_ANSWER = """{"id": 17, "invoice_type": "purchased", "status": "open",
 "channel": {"id": 1, "channel_type": "channel", "name": "Sample Conference", ...},
 "address": {"pk": 17, "first_name": "Jane", "line": "1 High St", "postcode": "N1",
             "tax_office": null, "tax_no": null, "e_bill_taxpayer": false, ...},
 "invoiceitem_set": [{"id": 31, "tax_rate": "8.00", "tax_amount": "29.56",
                      "discount_rate": "0.00", "discount_amount": "0.00",
                      "interest_rate": "0.00", "interest_amount": null,
                      "total_amount": "399.00", "net_amount": "399.00", "order_item": 12, ...}],
 "order": {"id": 12, "number": "ABC12", "date_placed": "2026-11-01T09:00:00Z", ...},
 "package_number": "", "created_date": "2026-11-01T09:00:02Z",
 "modified_date": "2026-11-02T10:00:00Z", "number": "SC2026-00017"}"""
INVOICE_TYPES = {InvoiceType.CREDIT_NOTE.value: "refund"}  # every other type: purchased


def error_envelope(status: int, code: str, message: str, fields: dict) -> Response:
    return answer(fields if fields else {"detail": message}, status)


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# ---------------------------------------------------------------- the mapping


def _item(invoice, line) -> dict:
    currency, mode = invoice.currency, invoice.rounding_mode
    gross_after = Decimal(line.gross_amount)
    if line.discount_rate is None and line.discount_amount is None:
        gross_before = gross_after
    else:
        base = Decimal(line.unit_price) * Decimal(line.quantity)
        if not invoice.prices_include_tax:
            base = base * (100 + Decimal(line.tax_rate)) / 100
        gross_before = quantize(base, currency, mode)
    return {
        "id": line.id,
        "created_date": _iso(invoice.created_at),
        "modified_date": _iso(invoice.updated_at),
        "tax_rate": fixed(line.tax_rate, 2),
        "tax_amount": fixed(line.tax_amount, 2),
        "discount_rate": fixed(line.discount_rate, 2) if line.discount_rate is not None
        else ZERO,
        "discount_amount": fixed(gross_before - gross_after, 2),
        "interest_rate": ZERO,
        "interest_amount": None,
        "total_amount": fixed(gross_before, 2),
        "net_amount": fixed(gross_after, 2),
        "order_item": line.order_line_id,
    }


def _address(invoice) -> dict:
    buyer = invoice.billing_address or {}
    return {
        "pk": invoice.id,
        "email": buyer.get("email") or "",
        "phone_number": buyer.get("phone") or "",
        "first_name": buyer.get("first_name") or "",
        "last_name": buyer.get("last_name") or "",
        # Akinon's country, city and township are ids of its own address tables.
        "country": None,
        "city": None,
        "line": "\n".join(filter(None, [buyer.get("street1"), buyer.get("street2")])),
        "title": buyer.get("company") or "",
        "township": None,
        "district": None,
        "postcode": buyer.get("postal_code") or "",
        "notes": None,
        "company_name": buyer.get("company") or None,
        "tax_office": buyer.get("tax_office") or None,
        "tax_no": buyer.get("tax_number") or buyer.get("vat_id") or None,
        "e_bill_taxpayer": bool(buyer.get("e_bill_taxpayer", False)),
        "is_corporate": bool(buyer.get("is_corporate", False)),
    }


def _channel(invoice) -> dict:
    event = invoice.event
    return {"id": event.id, "channel_type": "channel", "created_date": _iso(event.created_at),
            "modified_date": _iso(event.created_at), "omnitron_id": None,
            "name": invoice.channel or event.name, "configuration": {}, "is_active": True}


def _order(invoice) -> dict | None:
    order = invoice.order
    if order is None and not invoice.order_code:
        return None
    return {
        "id": order.id if order else None,
        "state": {"id": None, "next_states": [], "previous_states": [], "created_date": None,
                  "modified_date": None, "name": None, "config": {}, "enum_class": None,
                  "enum_value": None, "content_type": None},
        "payment_type": None,
        "created_date": _iso(order.created_at) if order else None,
        "modified_date": _iso(order.created_at) if order else None,
        "omnitron_id": None,
        "number": invoice.order_code,
        "date_placed": _iso(order.placed_at) if order else None,
        "channel": invoice.event_id,
        "customer": invoice.customer_id,
        "shipping_address": None,
        "billing_address": invoice.id,
    }


def to_akinon(invoice) -> dict:
    return {
        "id": invoice.id,
        "invoice_type": INVOICE_TYPES.get(invoice.type, "purchased"),
        "status": invoice.status,
        "channel": _channel(invoice),
        "address": _address(invoice),
        "invoiceitem_set": [_item(invoice, line) for line in invoice.lines],
        "order": _order(invoice),
        "package_number": invoice.package_number or "",
        "created_date": _iso(invoice.created_at),
        "modified_date": _iso(invoice.updated_at),
        "number": invoice.number,
    }


# ---------------------------------------------------------------- the views

LOAD = (*invoice_queries.INVOICE_LOAD, joinedload(Invoice.order))


def _scope(organizer: str):
    return invoice_queries.organizer_invoices(auth.organizer_scope(organizer).token)


@bp.get("/api/v1/oms/invoices/")
def invoice_list(organizer):
    scope = _scope(organizer)
    number = page_number(request.args)
    page = invoice_queries.invoice_page(scope, InvoiceFilter(), ordering="id", page=number,
                                        page_size=PAGE_SIZE, past_end=PastEnd.NOT_FOUND,
                                        options=LOAD)
    return answer(page_body(page, number, PAGE_SIZE, [to_akinon(i) for i in page.items]))


@bp.get("/api/v1/oms/invoices/<id>/")
def invoice_detail(organizer, id):
    scope = _scope(organizer)
    if not id.isdigit() or int(id) > 2**31 - 1:
        raise NotFoundError()
    return answer(to_akinon(invoice_queries.one_invoice(scope, InvoiceFilter(ids=(int(id),)),
                                                        options=LOAD)))
