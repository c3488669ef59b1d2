"""The table of invoices the e-invoice tests validate: frozen-invoice dicts whose figures come
from portal/domain/money.py (the real engine), never typed by hand.

A case is a compact spec; `frozen(spec)` prices it with `compute_invoice` and returns the dict
`portal.domain.einvoice.build` takes. The VAT category doubles as the engine's tax code, so the
engine's (code, rate) groups are the (category, rate) groups of EN 16931.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portal.domain import money

SELLER = {"legal_name": "Big Events GmbH", "company": "Big Events", "street1": "Hauptstr. 1",
          "street2": "", "city": "Berlin", "postal_code": "10115", "state": "",
          "country": "DE", "vat_id": "DE123456789", "tax_number": "12/345/67890",
          "registration_id": "HRB 12345", "registration_scheme": "",
          "contact_name": "Jana Łukasiewicz", "email": "billing@bigevents.example",
          "phone": "+49 30 123456", "electronic_address": None}
BUYER = {"company": "Käufer AG", "name": "Ayşe Yılmaz", "street1": "Marktplatz 5",
         "street2": "", "city": "München", "postal_code": "80331", "state": "",
         "country": "DE", "vat_id": "", "email": "ayse@kaeufer.example", "phone": "",
         "electronic_address": None, "registration_id": "", "e_bill_taxpayer": False}
EU_BUYER = {**BUYER, "company": "Acheteur SARL", "city": "Paris", "postal_code": "75001",
            "country": "FR", "vat_id": "FR40303265045"}
US_BUYER = {**BUYER, "company": "Buyer Inc.", "city": "New York", "postal_code": "10001",
            "state": "NY", "country": "US", "vat_id": ""}
MEANS = {"code": "58", "iban": "DE02120300000000202051", "bic": "BYLADEM1001",
         "account_name": "Big Events GmbH"}
REASONS = {"E": ("Exempt under § 4 Nr. 22 UStG (educational events)", ""),
           "AE": ("Reverse charge", "VATEX-EU-AE"),
           "K": ("Intra-community supply", "VATEX-EU-IC"),
           "G": ("Export outside the EU", "VATEX-EU-G"),
           "O": ("Not subject to VAT", "VATEX-EU-O")}


def line(qty, price, rate="19", cat="S", *, unit="C62", discount_rate=None,
         discount_amount=None, name="Conference ticket – €, ş, ł") -> dict:
    return {"quantity": Decimal(qty), "unit_price": Decimal(price), "tax_rate": Decimal(rate),
            "tax_category": cat, "unit": unit, "name": name,
            "discount_rate": None if discount_rate is None else Decimal(discount_rate),
            "discount_amount": None if discount_amount is None else Decimal(discount_amount)}


def frozen(spec: dict) -> dict:
    """Price `spec` with the money engine and return the frozen-invoice dict."""
    currency = spec.get("currency", "EUR")
    gross = spec.get("gross", False)
    charges = {}
    for key in ("shipping", "payment"):
        if spec.get(key):
            amount, rate, cat = spec[key]
            charges[key] = money.ChargeInput(Decimal(amount), Decimal(rate), cat)
    totals = money.compute_invoice(money.InvoiceInput(
        currency=currency,
        lines=[money.LineInput(quantity=x["quantity"], unit_price=x["unit_price"],
                               tax_rate=x["tax_rate"], tax_code=x["tax_category"],
                               discount_rate=x["discount_rate"],
                               discount_amount=x["discount_amount"]) for x in spec["lines"]],
        prices_include_tax=gross, mode=spec.get("mode", "half_up"),
        rule=spec.get("rule", "per_line"),
        discounts=[money.DiscountInput(t, Decimal(v)) for t, v in spec.get("discounts", ())],
        discounts_include_tax=spec.get("discounts_gross", False),
        shipping=charges.get("shipping"), payment=charges.get("payment")))
    credit = spec.get("type") == "credit_note"
    if credit:
        totals = totals.negated()
    sign = -1 if credit else 1
    lines = [{"position": i, "sku": f"SKU-{i}", "description": x["name"],
              "quantity": x["quantity"], "unit": x["unit"],
              "unit_price": sign * x["unit_price"], "tax_rate": x["tax_rate"],
              "tax_category": x["tax_category"], "discount_rate": x["discount_rate"],
              "discount_amount": x["discount_amount"], "net_amount": r.net,
              "tax_amount": r.tax, "gross_amount": r.gross, "request_note": ""}
             for i, (x, r) in enumerate(zip(spec["lines"], totals.lines, strict=True), 1)]
    taxes = []
    for g in totals.groups:
        reason, code = REASONS.get(g.code, ("", "")) if spec.get("reasons", True) else ("", "")
        taxes.append({"category": g.code, "code": "VAT", "rate": g.rate, "taxable": g.net,
                      "amount": g.tax, "exemption_reason": reason, "exemption_code": code})

    def charge(key, name):
        result = getattr(totals, key)
        if result is None:
            return None
        amount, rate, cat = spec[key]
        return {"name": name, "net": result.net, "tax": result.tax, "gross": result.gross,
                "tax_rate": Decimal(rate), "tax_code": "VAT", "tax_category": cat}

    issue = dt.date(2026, 11, 2)
    return {
        "type": spec.get("type", "invoice"), "number": spec.get("number", "SC2026-00017"),
        "issue_date": issue, "due_date": issue + dt.timedelta(days=14), "currency": currency,
        "prices_include_tax": gross,
        "rounding": {"mode": spec.get("mode", "half_up"), "rule": spec.get("rule", "per_line")},
        "seller": {**SELLER, **spec.get("seller", {})},
        "billing_address": spec.get("buyer", BUYER),
        "shipping_address": spec.get("ship_to"),
        "buyer_reference": spec.get("buyer_reference", ""), "order_code": "ABC12",
        "delivery_date": spec.get("delivery_date"), "period_start": spec.get("period", (None,))[0],
        "period_end": spec.get("period", (None, None))[1],
        "payment_means": MEANS, "preceding_invoice": spec.get("preceding"),
        "lines": lines, "taxes": taxes,
        "discounts": [{"type": d.type.value, "value": d.value, "amount": d.amount}
                      for d in totals.discounts],
        "discounts_include_tax": spec.get("discounts_gross", False),
        "shipping": charge("shipping", "DHL Express"), "payment": charge("payment", "Card fee"),
        "totals": {"net": totals.total.net, "tax": totals.total.tax,
                   "gross": totals.total.gross},
        "texts": {"payment": "Please pay within 14 days.", "additional": ""},
        "_engine": totals,
    }


THREE = [line("3", "56.33"), line("3", "56.33"), line("3", "56.33")]
PRECEDING = {"number": "SC2026-00016", "issue_date": dt.date(2026, 10, 1)}

VALID = {
    # SPEC §2a worked examples: 3 lines of 3 x 56.33 at 19 %, net entry.
    "per_line": {"lines": THREE},
    "per_item": {"lines": THREE, "rule": "per_item"},
    "total": {"lines": THREE, "rule": "total"},
    "akinon_gross_entry": {"lines": [line("1", "399.00", "8")], "gross": True},
    "discounts_net_basis": {
        "lines": [line("2", "100.00", "19"), line("3", "33.33", "7")],
        "discounts": [("percent_off", "10"), ("amount_off", "5")]},
    "discounts_gross_basis": {
        "lines": [line("2", "119.00", "19"), line("3", "10.70", "7")], "gross": True,
        "discounts": [("percent_off", "12.5"), ("amount_off", "3.33")],
        "discounts_gross": True},
    "discounts_total_rule": {
        "lines": [line("3", "0.333", "19"), line("7", "1.111", "7")], "rule": "total",
        "discounts": [("percent_off", "3")]},
    "line_discounts": {
        "lines": [line("4", "25.00", discount_rate="10"),
                  line("2.5", "12.40", "7", unit="HUR", discount_amount="1.15")]},
    "line_discounts_gross": {
        "lines": [line("4", "25.00", discount_rate="10"), line("1", "9.99", "7")],
        "gross": True},
    "shipping_and_payment": {
        "lines": [line("1", "80.00")], "shipping": ("8.57", "19", "S"),
        "payment": ("2.50", "19", "S"), "discounts": [("percent_off", "10")]},
    "several_rates": {
        "lines": [line("1", "100.00", "19"), line("2", "15.00", "7"),
                  line("1", "20.00", "0", "Z")], "shipping": ("4.90", "7", "S")},
    "zero_rated": {"lines": [line("5", "12.00", "0", "Z")]},
    "exempt_with_reason": {"lines": [line("1", "450.00", "0", "E")]},
    "reverse_charge": {"lines": [line("2", "300.00", "0", "AE")], "buyer": EU_BUYER},
    "intra_community": {
        "lines": [line("10", "9.95", "0", "K", unit="H87")], "buyer": EU_BUYER,
        "delivery_date": dt.date(2026, 10, 28),
        "ship_to": {**EU_BUYER, "street1": "Quai 2"}, "shipping": ("15.00", "0", "K")},
    "export": {"lines": [line("1", "1200.00", "0", "G")], "buyer": US_BUYER},
    "outside_scope": {"lines": [line("1", "50.00", "0", "O")],
                      "seller": {"vat_id": ""}},
    "jpy": {"currency": "JPY", "lines": [line("3", "1234", "10"), line("1", "999", "8")],
            "discounts": [("percent_off", "5")], "shipping": ("500", "10", "S")},
    "credit_note": {
        "type": "credit_note", "number": "SC2026-00018", "preceding": PRECEDING,
        "lines": [line("2", "100.00", "19"), line("3", "33.33", "7")],
        "discounts": [("percent_off", "10")], "shipping": ("8.57", "19", "S")},
    "shipping_invoice": {"type": "shipping_invoice", "lines": [line("1", "80.00")],
                         "ship_to": {**BUYER, "street1": "Lagerweg 9"},
                         "delivery_date": dt.date(2026, 10, 30)},
    "xrechnung_buyer_reference": {
        "lines": [line("8", "95.00", unit="HUR")], "buyer_reference": "04011000-12345-34",
        "period": (dt.date(2026, 10, 1), dt.date(2026, 10, 31))},
    "half_even_down": {"lines": [line("3", "0.125"), line("1", "0.105", "7")],
                       "mode": "half_even"},
    # total: the lines show 0.13 + 0.13 but the group's base is q(0.250) = 0.25.
    "total_rounding_allowance": {"lines": [line("1", "0.125"), line("1", "0.125")],
                                 "rule": "total"},
    # total: 0.12 + 0.12 shown, q(0.248) = 0.25 taxed.
    "total_rounding_charge": {"lines": [line("1", "0.124"), line("1", "0.124")],
                              "rule": "total"},
    "mode_down": {"lines": [line("3", "0.129"), line("7", "1.999", "7")], "mode": "down",
                  "rule": "total"},
}

INVALID = {
    # per_item: the unit price rounds to 0.02 and its tax to 0.00, so 20.00 carries no VAT.
    "per_item_rounding": ({"lines": [line("1000", "0.024")], "rule": "per_item"},
                          {"BR-CO-17", "BR-S-09"}),
    "missing_vat_category": ({"lines": [line("1", "10.00", "19", "")]},
                             {"BR-CL-17", "BR-CL-18"}),
    "exempt_without_reason": ({"lines": [line("1", "450.00", "0", "E")], "reasons": False},
                              {"BR-E-10"}),
    "unit_not_rec20": ({"lines": [line("1", "10.00", unit="pcs")]}, {"BR-CL-23"}),
}
