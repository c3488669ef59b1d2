"""Step 1a: the PDF context, a plain dict built from an invoice (or its SPEC §6 dict).

No ORM objects reach the template: every figure is formatted here, in the invoice's locale.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal

from ...domain.lifecycle import InvoiceType
from ...formatting import babel_locale, format_date, format_money, format_price
from ...models import Invoice
from .labels import document_language, labels_for, quantity_with_unit


def build_pdf_context(invoice: Invoice) -> dict:
    """The plain dict the PDF template renders, from the invoice object of SPEC §6."""
    from ..representation import invoice_to_dict

    context = context_from_dict(invoice_to_dict(invoice), draft=invoice.is_draft)
    organizer = invoice.organizer
    if organizer.logo_type and organizer.logo:
        # The organizer's current logo (SPEC §9); the PDF of record is made once, at close.
        encoded = base64.b64encode(organizer.logo).decode("ascii")
        context["logo"] = f"data:{organizer.logo_type};base64,{encoded}"
    return context


def context_from_dict(data: dict, *, draft: bool = False) -> dict:
    """Format an invoice dict (SPEC §6 shape) for the PDF: labels and figures in its locale."""
    locale = babel_locale(data.get("locale"))
    labels = labels_for(data.get("locale"))
    currency = data["currency"]

    def money(value) -> str:
        return format_money(Decimal(value), currency, locale) if value is not None else ""

    def minus(value) -> str:
        return money(-Decimal(value)) if value is not None else ""

    def number(value, max_places: int = 3) -> str:
        amount = Decimal(value)
        if amount == amount.to_integral_value():
            amount = amount.quantize(Decimal(1))
        else:
            amount = amount.normalize()
            if -amount.as_tuple().exponent > max_places:
                amount = amount.quantize(Decimal(1).scaleb(-max_places))
        return format_decimal(amount, locale=locale, decimal_quantization=False)

    def percent(value) -> str:
        return f"{number(value, 2)} %" if value is not None else ""

    def day(value: str | None) -> str:
        if not value:
            return ""
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return format_date(parsed, locale)

    invoice_type = data["type"]
    credit = invoice_type == InvoiceType.CREDIT_NOTE
    gross_entry = bool(data.get("prices_include_tax"))
    meta = [(labels["number"], data.get("number") or "—")]
    if data.get("issue_date"):
        date_label = {"invoice": "issue_date", "shipping_invoice": "issue_date",
                      "credit_note": "credit_note_date"}.get(invoice_type, "document_date")
        meta.append((labels[date_label], day(data["issue_date"])))
    preceding = data.get("preceding_invoice")
    if credit and preceding and preceding.get("number"):
        meta.append((labels["preceding_invoice"], " ".join(filter(None, [
            preceding["number"], f"({day(preceding.get('issue_date'))})"
            if preceding.get("issue_date") else None]))))
    if data.get("delivery_date"):
        meta.append((labels["delivery_date"], day(data["delivery_date"])))
    period = data.get("period") or {}
    if period.get("start") or period.get("end"):
        meta.append((labels["service_period"],
                     f"{day(period.get('start'))} – {day(period.get('end'))}"))
    # A credit note owes the buyer money: no due date; a proforma is an offer: none either.
    for key in ("due_date", "expires_at"):
        if data.get(key) and not (key == "due_date" and invoice_type in ("proforma",
                                                                         "credit_note")):
            meta.append((labels[key], day(data[key])))
    if data.get("buyer_reference"):
        meta.append((labels["buyer_reference"], data["buyer_reference"]))
    for key, value in (("order", data.get("order")), ("customer", data.get("customer")),
                       ("package_number", data.get("package_number"))):
        if value:
            meta.append((labels[key], value))
    reference = data.get("reference") or {}
    if reference.get("number"):
        kind = reference.get("type")
        meta.append((labels["reference"],
                     f"{kind} {reference['number']}" if kind else reference["number"]))

    refers_note = None
    if credit and data.get("refers"):
        key = "cancels" if data.get("is_cancellation") else "corrects"
        refers_note = labels[key].format(
            number=data["refers"], date=day((preceding or {}).get("issue_date")) or "—")

    lines = []
    for line in data["lines"]:
        details = []
        if line.get("sku"):
            details.append(f"{labels['sku']} {line['sku']}")
        if line.get("discount_rate"):
            details.append(f"{labels['line_discount']} {percent(line['discount_rate'])}")
        elif line.get("discount_amount"):
            details.append(f"{labels['line_discount']} {money(line['discount_amount'])}")
        lines.append({
            "position": line["position"],
            "description": line["description"],
            "details": " · ".join(details),
            "note": line.get("request_note") or "",
            "quantity": quantity_with_unit(number(line["quantity"], 2), line.get("unit"),
                                           document_language(data.get("locale"))),
            "unit_price": format_price(Decimal(line["unit_price"]), currency, locale),
            "tax_rate": percent(line["tax_rate"]),
            "amount": money(line["gross_amount"] if gross_entry else line["net_amount"]),
        })

    totals = data["totals"]
    basis = "gross" if gross_entry else "net"
    summary = []
    if data.get("discounts"):
        summary.append((labels["subtotal_before"], money(totals[f"prediscount_{basis}"])))
        for discount in data["discounts"]:
            label = labels["discount"]
            if discount["type"] == "percent_off":
                label = f"{label} {percent(discount['value'])}"
            summary.append((label, minus(discount["amount"])))
        summary.append((labels["subtotal"], money(totals[f"subtotal_{basis}"])))
    for key, label in (("shipping_method", "shipping_cost"), ("payment_method", "payment_fee")):
        charge = data.get(key)
        if charge:
            amount = charge.get("cost") if key == "shipping_method" else charge.get("fee")
            name = f"{labels[label]} ({charge['name']})" if charge.get("name") else labels[label]
            summary.append((name, money(amount)))

    shipping = None
    if invoice_type == InvoiceType.SHIPPING_INVOICE and data.get("shipping"):
        ship = data["shipping"]
        rows = []
        if ship.get("shipped_at"):
            rows.append((labels["shipped_at"], day(ship["shipped_at"])))
        if ship.get("number_of_packages"):
            rows.append((labels["number_of_packages"], str(ship["number_of_packages"])))
        if ship.get("carriage"):
            rows.append((labels["carriage"], labels[f"carriage_{ship['carriage']}"]))
        for key in ("goods_appearance", "tracking_number", "transport_reason"):
            if ship.get(key):
                rows.append((labels[key], ship[key]))
        rows.append((labels["total_quantity"], number(totals["quantity"], 2)))
        if Decimal(totals.get("weight") or 0):
            rows.append((labels["total_weight"], f"{number(totals['weight'], 3)} kg"))
        shipping = rows

    seller = data.get("seller") or {}
    title = labels[invoice_type]
    texts = dict(data.get("texts") or {})
    payment = None
    if credit:
        texts["payment"] = ""  # a credit is refunded, never paid: no payment instructions
    elif invoice_type in ("invoice", "shipping_invoice"):
        payment = _payment_lines(data.get("payment_means"), labels)
    return {
        "locale": document_language(data.get("locale")),
        "labels": labels,
        "draft": draft,
        "logo": None,
        "type": invoice_type,
        "title": title,
        "number": data.get("number") or "",
        "document_title": f"{title} {data.get('number') or labels['draft']}",
        "refers_note": refers_note,
        "proforma_note": labels["proforma_note"] if invoice_type == "proforma" else None,
        "meta": meta,
        "seller": {"name": seller.get("legal_name") or seller.get("company") or "",
                   "lines": _seller_lines(seller, labels, locale)},
        "payment": payment,
        "buyer": _address_lines(data.get("billing_address") or {}, labels, locale),
        "ship_to": (_address_lines(data["shipping_address"], labels, locale)
                    if data.get("shipping_address") else None),
        "shipping": shipping,
        "amount_label": labels["amount_gross" if gross_entry else "amount_net"],
        "prices_note": labels["prices_gross" if gross_entry else "prices_net"],
        "lines": lines,
        "summary": summary,
        "taxes": [{"code": t["code"], "category": t.get("category") or "S",
                   "rate": percent(t["rate"]), "taxable": money(t["taxable"]),
                   "amount": money(t["amount"]), "exemption": t.get("exemption_reason") or ""}
                  for t in data.get("taxes") or []],
        "totals": [(labels["total_net"], money(totals["net"])),
                   (labels["total_tax"], money(totals["tax"]))],
        "total_gross": (labels["total_gross"], money(totals["gross"])),
        "texts": {key: texts.get(key) or "" for key in
                  ("introductory", "additional", "payment", "footer", "terms")},
    }


def _country(code: str | None, locale: str) -> str:
    if not code:
        return ""
    return Locale.parse(locale).territories.get(code.upper(), code)


def _payment_lines(means: dict | None, labels: dict) -> list[str] | None:
    """The payment means printed from data (SPEC §9): the way to pay, IBAN, BIC, holder."""
    if not means or not means.get("code"):
        return None
    lines = [labels.get(f"means_{means['code']}", means["code"])]
    for key in ("iban", "bic", "account_name"):
        if means.get(key):
            value = means[key]
            if key == "iban":
                value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
            lines.append(f"{labels[key]} {value}")
    return lines


def _seller_lines(seller: dict, labels: dict, locale: str) -> list[str]:
    lines = [seller.get("company") if seller.get("legal_name") and
             seller.get("company") != seller.get("legal_name") else None,
             seller.get("street1"), seller.get("street2"),
             " ".join(filter(None, [seller.get("postal_code"), seller.get("city")])),
             _country(seller.get("country"), locale)]
    if seller.get("vat_id"):
        lines.append(f"{labels['vat_id']} {seller['vat_id']}")
    if seller.get("tax_number"):
        lines.append(f"{labels['tax_number']} {seller['tax_number']}")
    if seller.get("registration_id"):
        scheme = f" ({seller['registration_scheme']})" if seller.get("registration_scheme") else ""
        lines.append(f"{labels['registration']} {seller['registration_id']}{scheme}")
    for key in ("email", "phone"):
        if seller.get(key):
            lines.append(f"{labels[key]} {seller[key]}")
    return [line for line in lines if line]


def _address_lines(address: dict, labels: dict, locale: str) -> list[str]:
    name = " ".join(filter(None, [address.get("first_name"), address.get("last_name")]))
    lines = [address.get("company"), name, address.get("street1"), address.get("street2"),
             " ".join(filter(None, [address.get("postal_code"), address.get("city")])),
             address.get("state"), _country(address.get("country"), locale)]
    for key in ("vat_id", "tax_office", "tax_number"):
        if address.get(key):
            lines.append(f"{labels[key]} {address[key]}")
    return [line for line in lines if line]
