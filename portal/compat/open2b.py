"""Open2b dialect (SPEC §12): the storefront `invoices` call, for the customer.

`POST /compat/open2b/api/v10/storefront.invoices` with `X-Customer-Key`; the body holds the
conditions (`ids`, `type`, `after`), `fields`, `limit` (1–100) and `first`. The answer is the
seed's invoice object in camelCase, numbers as JSON numbers written from the exact Decimal text
(never through a float). Drafts never appear (the customer's visibility rule). Errors:
`{"status": "error", "error": {"code", "message"}}` with the HTTP status of the JSON API.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, request

from ..api import auth, schemas
from ..domain.money import minor_units
from ..errors import ValidationError
from ..services import invoice_queries
from . import answer, number

BASE = "/compat/open2b"
bp = Blueprint("compat_open2b", __name__)
MAX_LIMIT = schemas.MAX_CUSTOMER_LIMIT  # 100
DEFAULT_LIMIT = schemas.CUSTOMER_LIMIT
MAX_ID = schemas.MAX_ID

# The value mappings (our value -> Open2b's); the docs page shows them.
TYPES = {"invoice": "Invoice", "proforma": "Proforma", "shipping_invoice": "ShippingInvoice",
         "credit_note": "CreditNote"}
STATUSES = {"open": "Open", "sent": "Sent", "disputed": "Disputed", "paid": "Archived",
            "archived": "Archived", "cancelled": "Cancelled"}
ROUNDING_MODES = {"half_up": "HalfUp", "half_even": "HalfEven", "half_down": "HalfDown",
                  "down": "Down"}
ROUNDING_RULES = {"per_item": "PerItem", "per_line": "PerLine", "total": "Total"}
DISCOUNTS = {"percent_off": "PercentOff", "amount_off": "AmountOff"}
PORTO = {"paid": "Franco", "forward": "Assegnato"}
REFERENCE_TYPES = ("Order", "Quote", "Invoice", "ShippingInvoice", "Proforma", "CreditNote",
                   "Receipt", "PackingSlip")
PATHS = ["POST /api/v10/storefront.invoices"]
AUTH = "X-Customer-Key: <customer key>"
MAPPING = {
    "type": "type: Invoice, Proforma, ShippingInvoice, CreditNote",
    "status": "status: open Open, sent Sent, disputed Disputed, paid/archived Archived, "
              "cancelled Cancelled",
    "rounding.mode / rule": "HalfUp, HalfEven, HalfDown, Down / PerItem, PerLine, Total",
    "discounts[].type": "PercentOff, AmountOff",
    "porto": "carriage paid Franco, forward Assegnato",
    "items[].prices": "price / taxedPrice per unit; totalPrice / taxedTotalPrice per line",
    "total / taxedTotal / taxAmount": "totals.net / totals.gross / totals.tax",
    "referenceType / referenceNumber": "the referred invoice of a credit note, else the order",
    "numbers": "JSON numbers written from the exact decimal text, never through a float",
}
EXAMPLE_REQUEST = """POST /compat/open2b/api/v10/storefront.invoices HTTP/1.1
X-Customer-Key: <customer key>
Content-Type: application/json

{"conditions": {"type": "Invoice", "after": 0}, "fields": ["id", "type", "number", "taxedTotal"],
 "limit": 10, "first": 0}"""
EXAMPLE_ANSWER = """{"status": "ok", "invoices": [{"id": 17, "type": "Invoice",
 "number": "SC2026-00017", "taxedTotal": 399.00}], "count": 1}"""
FIELDS = ("id", "type", "number", "status", "issueDate", "dueDate", "shippingTime",
          "referenceType", "referenceNumber", "rounding", "locale", "items",
          "prediscountSubtotal", "taxedPrediscountSubtotal", "discounts",
          "discountsIncludeTaxes", "subtotal", "taxedSubtotal", "shippingMethod",
          "paymentMethod", "taxes", "taxAmount", "total", "taxedTotal", "quantity", "weight",
          "customerName", "billingAddress", "shippingAddress", "sellerAddress",
          "numberOfPackages", "porto", "goodsAppearance", "trackingNumber", "transportReason",
          "terms")


def error_envelope(status: int, code: str, message: str, fields: dict) -> Response:
    if fields:
        message = " ".join(f"{name}: {' '.join(problems)}" for name, problems in fields.items())
    return answer({"status": "error", "error": {"code": code, "message": message}}, status)


# ---------------------------------------------------------------- the mapping


def _reference(invoice) -> tuple[str | None, str]:
    if invoice.refers is not None:
        return TYPES[invoice.refers.type], invoice.refers.number or ""
    kind = next((name for name in REFERENCE_TYPES
                 if name.lower() == (invoice.reference_type or "").replace("_", "").lower()),
                None)
    if invoice.order_code and kind is None and not invoice.reference_type:
        return "Order", invoice.order_code
    return kind, invoice.reference_number or ""


def _unit_prices(invoice, line) -> tuple[Decimal, Decimal]:
    """(price, taxedPrice) of one unit, 3 decimals, from the entry basis."""
    price, rate = Decimal(line.unit_price), Decimal(line.tax_rate)
    if invoice.prices_include_tax:
        return price * 100 / (100 + rate), price
    return price, price * (100 + rate) / 100


def _item(invoice, line, amount) -> dict:
    price, taxed = _unit_prices(invoice, line)
    return {
        "sku": line.sku or "",
        "name": line.description,
        "quantity": number(line.quantity, 2),
        "prices": {"price": number(price, 3), "totalPrice": amount(line.net_amount),
                   "taxedPrice": number(taxed, 3), "taxedTotalPrice": amount(line.gross_amount)},
        "tax": {"code": line.tax_code or "VAT", "rate": number(line.tax_rate, 2),
                "amount": amount(line.tax_amount)},
        "weight": number(line.weight or 0, 3),
        "requests": line.request_note or "",
    }


def _billing(buyer: dict) -> dict:
    return {
        "firstName": buyer.get("first_name") or "", "lastName": buyer.get("last_name") or "",
        "personalCode": buyer.get("tax_number") or "",
        "companyName": buyer.get("company") or "", "companyCode": buyer.get("vat_id") or "",
        "companyCode2": buyer.get("registration_id") or "",
        "street1": buyer.get("street1") or "", "street2": buyer.get("street2") or "",
        "city": buyer.get("city") or "", "postalCode": buyer.get("postal_code") or "",
        "stateProv": buyer.get("state") or "", "country": buyer.get("country") or "",
        "phoneNumber": buyer.get("phone") or "", "mobileNumber": "", "faxNumber": "",
        "email": buyer.get("email") or "",
    }


def _shipping(address: dict | None) -> dict | None:
    if not address:
        return None
    name = address.get("name") or " ".join(
        filter(None, [address.get("first_name"), address.get("last_name")])) or \
        address.get("company") or ""
    return {"name": name, "street1": address.get("street1") or "",
            "street2": address.get("street2") or "", "city": address.get("city") or "",
            "postalCode": address.get("postal_code") or "",
            "stateProv": address.get("state") or "", "country": address.get("country") or ""}


def _seller(seller: dict) -> dict:
    return {
        "companyName": seller.get("legal_name") or seller.get("company") or "",
        "companyCode": seller.get("vat_id") or "", "personalCode": seller.get("tax_number") or "",
        "street1": seller.get("street1") or "", "street2": seller.get("street2") or "",
        "city": seller.get("city") or "", "postalCode": seller.get("postal_code") or "",
        "stateProv": seller.get("state") or "", "country": seller.get("country") or "",
        "phoneNumber": seller.get("phone") or "", "mobileNumber": "", "faxNumber": "",
        "email": seller.get("email") or "",
    }


def to_open2b(invoice) -> dict:
    places = minor_units(invoice.currency)

    def amount(value):
        return number(value if value is not None else Decimal(0), places)

    buyer = invoice.billing_address or {}
    shipping_invoice = invoice.type == "shipping_invoice"
    reference_type, reference_number = _reference(invoice)
    customer_name = buyer.get("company") or " ".join(
        filter(None, [buyer.get("first_name"), buyer.get("last_name")]))
    return {
        "id": invoice.id,
        "type": TYPES[invoice.type],
        "number": invoice.number or "",
        "status": STATUSES.get(invoice.status, "Open"),
        "issueDate": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "dueDate": invoice.due_date.isoformat() if invoice.due_date else None,
        "shippingTime": invoice.shipped_at.strftime("%Y-%m-%d %H:%M:%S")
        if shipping_invoice and invoice.shipped_at else None,
        "referenceType": reference_type,
        "referenceNumber": reference_number,
        "rounding": {"mode": ROUNDING_MODES[invoice.rounding_mode],
                     "rule": ROUNDING_RULES[invoice.rounding_rule]},
        "locale": (invoice.locale or "en").replace("_", "-"),
        "items": [_item(invoice, line, amount) for line in invoice.lines],
        "prediscountSubtotal": amount(invoice.prediscount_net),
        "taxedPrediscountSubtotal": amount(invoice.prediscount_gross),
        "discounts": [{"type": DISCOUNTS[d.type], "value": number(d.value, 3)}
                      for d in invoice.discounts],
        "discountsIncludeTaxes": bool(invoice.discounts_include_tax),
        "subtotal": amount(invoice.subtotal_net),
        "taxedSubtotal": amount(invoice.subtotal_gross),
        "shippingMethod": {"name": invoice.shipping_method_name or "",
                           "cost": amount(invoice.shipping_cost)}
        if invoice.shipping_method_name or invoice.shipping_cost is not None else None,
        "paymentMethod": {"name": invoice.payment_method_name or "",
                          "cost": amount(invoice.payment_fee)}
        if invoice.payment_method_name or invoice.payment_fee is not None else None,
        "taxes": [{"code": t.code, "name": t.code, "rate": number(t.rate, 2),
                   "taxableTotal": amount(t.taxable), "amount": amount(t.amount)}
                  for t in invoice.taxes],
        "taxAmount": amount(invoice.tax_total),
        "total": amount(invoice.net_total),
        "taxedTotal": amount(invoice.gross_total),
        "quantity": number(invoice.total_quantity, 2),
        "weight": number(invoice.total_weight, 3),
        "customerName": customer_name,
        "billingAddress": _billing(buyer),
        "shippingAddress": _shipping(invoice.shipping_address),
        "sellerAddress": _seller(invoice.seller or {}),
        "numberOfPackages": invoice.number_of_packages if shipping_invoice else None,
        "porto": PORTO.get(invoice.carriage) if shipping_invoice else None,
        "goodsAppearance": invoice.goods_appearance if shipping_invoice else None,
        "trackingNumber": invoice.tracking_number if shipping_invoice else None,
        "transportReason": invoice.transport_reason if shipping_invoice else None,
        "terms": invoice.terms_text or "",
    }


# ---------------------------------------------------------------- the request


def _int(problems, name, value, *, minimum, maximum, default):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        problems[name] = [f"Give a whole number from {minimum} to {maximum}."]
        return default
    return value


def clean_request(body: dict) -> dict:
    """The seed's request body, every problem listed (400)."""
    problems: dict[str, list[str]] = {}
    unknown = sorted(set(body) - {"conditions", "fields", "limit", "first"})
    if unknown:
        problems["body"] = ["Unknown keys: " + ", ".join(unknown) + "."]
    conditions = body.get("conditions") or {}
    if not isinstance(conditions, dict):
        problems["conditions"] = ["Give an object."]
        conditions = {}
    unknown = sorted(set(conditions) - {"ids", "type", "after"})
    if unknown:
        problems["conditions"] = ["Unknown conditions: " + ", ".join(unknown) + "."]
    ids = conditions.get("ids")
    if ids is not None:
        if not isinstance(ids, list) or not 0 < len(ids) <= MAX_LIMIT or not all(
                isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
            problems["conditions.ids"] = [f"Give 1 to {MAX_LIMIT} invoice ids (int 1…)."]
            ids = None
        else:
            ids = sorted(set(ids))
    kind = conditions.get("type")
    if kind is not None:
        ours = {v: k for k, v in TYPES.items()}.get(kind) if isinstance(kind, str) else None
        if ours is None:
            problems["conditions.type"] = ["Choose one of: " + ", ".join(TYPES.values()) + "."]
        kind = ours
    after = _int(problems, "conditions.after", conditions.get("after"), minimum=0,
                 maximum=MAX_ID, default=None)
    fields = body.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or not fields or not all(
                isinstance(f, str) and f in FIELDS for f in fields):
            problems["fields"] = ["Give a list of: " + ", ".join(FIELDS) + "."]
            fields = None
    query = {
        "ids": ids, "type": kind, "after": after, "fields": fields,
        "limit": _int(problems, "limit", body.get("limit"), minimum=1, maximum=MAX_LIMIT,
                      default=DEFAULT_LIMIT),
        "first": _int(problems, "first", body.get("first"), minimum=0, maximum=schemas.MAX_PAGE,
                      default=0),
    }
    if problems:
        raise ValidationError(problems)
    return query


@bp.post("/api/v10/storefront.invoices")
def invoices():
    customer = auth.current_customer()
    query = clean_request(schemas.json_body(request))
    page = invoice_queries.customer_invoice_slice(customer, ids=query["ids"], type=query["type"],
                                                  after=query["after"], first=query["first"],
                                                  limit=query["limit"])
    results = [to_open2b(invoice) for invoice in page.items]
    if query["fields"]:
        results = [{key: item[key] for key in query["fields"]} for item in results]
    return answer({"status": "ok", "invoices": results, "count": page.count})

