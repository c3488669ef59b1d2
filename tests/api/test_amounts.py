"""Amounts through the API equal the money engine's figures to the cent, as strings.

Every expected figure is a literal computed by hand from SPEC §2a, never recomputed here.
"""

from __future__ import annotations

import pytest

from tests.factories import line

NET_LINES = [line(sku="A927TP", description="Shirt", quantity="3", unit_price="56.33",
                  tax_rate="19") for _ in range(3)]


def _totals(body: dict) -> tuple[str, str, str]:
    return body["totals"]["net"], body["totals"]["tax"], body["totals"]["gross"]


@pytest.mark.parametrize(("rule", "tax", "gross", "line_tax"), [
    # SPEC §2a: unit tax 10.70 × 9; line tax 32.11 × 3; 506.97 · 0.19 once.
    ("per_item", "96.30", "603.27", "32.10"),
    ("per_line", "96.33", "603.30", "32.11"),
    ("total", "96.32", "603.29", "32.11"),
])
def test_the_spec_worked_examples(api, world, rule, tax, gross, line_tax):
    response = api.post(f"{world.base}/invoices/", {
        "customer": "C-1001", "lines": NET_LINES,
        "rounding": {"mode": "half_up", "rule": rule}})
    body = response.get_json()
    assert _totals(body) == ("506.97", tax, gross)
    assert body["taxes"] == [{"category": "S", "exemption_reason": None, "exemption_code": None,
                              "code": "VAT", "rate": "19.00", "taxable": "506.97",
                              "amount": tax}]
    assert [x["tax_amount"] for x in body["lines"]] == [line_tax] * 3
    assert body["totals"]["quantity"] == "9.00"
    # Closing freezes the same figures.
    closed = api.post(world.invoice_url(body["id"], "close/")).get_json()
    assert _totals(closed) == ("506.97", tax, gross)


def test_the_akinon_seed_item_gross_entry(api, world):
    body = api.post(f"{world.base}/invoices/", {
        "customer": "C-1001", "prices_include_tax": True,
        "lines": [line(quantity="1", unit_price="399.00", tax_rate="8")]}).get_json()
    assert _totals(body) == ("369.44", "29.56", "399.00")
    assert body["lines"][0]["gross_amount"] == "399.00"


def test_the_spec_invoice_object_example(api, world):
    """SPEC §6's example: 3 × 56.330 at 19 %, 10 % off, FedEx 8.57 at 19 %."""
    body = api.post(f"{world.base}/invoices/", {
        "customer": "C-1001",
        "lines": [line(sku="A927TP", description="Shirt", quantity="3.00",
                       unit_price="56.330", tax_rate="19.00", weight="0.450")],
        "discounts": [{"type": "percent_off", "value": "10"}],
        "shipping_method": {"name": "FedEx", "cost": "8.57", "tax_rate": "19.00"}}).get_json()
    assert body["lines"][0] == {
        "position": 1, "sku": "A927TP", "description": "Shirt", "quantity": "3.00",
        "unit": "C62", "unit_price": "56.330", "tax_code": "VAT", "tax_rate": "19.00",
        "tax_category": "S", "exemption_reason": None, "exemption_code": None,
        "discount_rate": None, "discount_amount": None, "weight": "0.450", "request_note": "",
        "net_amount": "168.99", "tax_amount": "32.11", "gross_amount": "201.10"}
    # 10 % of 168.99 = 16.90 (its tax 3.21); shipping 8.57 + tax 1.63.
    assert body["discounts"] == [{"type": "percent_off", "value": "10.000", "amount": "16.90"}]
    assert body["totals"] == {
        "prediscount_net": "168.99", "prediscount_gross": "201.10", "discount": "16.90",
        "subtotal_net": "152.09", "subtotal_gross": "180.99", "net": "160.66", "tax": "30.53",
        "gross": "191.19", "quantity": "3.00", "weight": "1.350"}
    assert body["taxes"] == [{"category": "S", "exemption_reason": None, "exemption_code": None,
                              "code": "VAT", "rate": "19.00", "taxable": "160.66",
                              "amount": "30.53"}]
    assert body["shipping_method"] == {"name": "FedEx", "cost": "8.57", "tax_rate": "19.00",
                                       "tax_category": "S", "exemption_reason": None}


@pytest.mark.parametrize(("currency", "price", "expected"), [
    # JPY has no minor unit: 3 × 333 = 999, tax 99.9 -> 100.
    ("JPY", "333", ("999", "100", "1099", "333.000")),
    # KWD has three: 3 × 1.234 = 3.702, tax 5 % = 0.1851 -> 0.185.
    ("KWD", "1.234", ("3.702", "0.185", "3.887", "1.234")),
])
def test_amounts_carry_the_currency_decimals(api, world, make, currency, price, expected):
    event = make.event(world.organizer, currency=currency)
    base = f"/api/v1/organizers/{world.organizer.slug}/events/{event.slug}"
    body = api.post(f"{base}/invoices/", {"customer": "C-1001", "lines": [
        line(quantity="3", unit_price=price, tax_rate="10" if currency == "JPY" else "5")]}
    ).get_json()
    assert body["currency"] == currency
    assert (*_totals(body), body["lines"][0]["unit_price"]) == expected


def test_a_credit_note_negates_the_stored_figures_exactly(api, world):
    body = api.post(f"{world.base}/invoices/", {
        "customer": "C-1001", "lines": NET_LINES, "rounding": {"rule": "per_item"},
        "payment_method": {"name": "Card", "fee": "2.50", "tax_rate": "19"}}).get_json()
    api.post(world.invoice_url(body["id"], "close/"))
    credit = api.post(world.invoice_url(body["id"], "cancel/")).get_json()
    # 506.97 + 2.50 = 509.47 net; 96.30 + 0.48 tax (2.50 · 0.19 = 0.475 -> 0.48).
    assert _totals(credit) == ("-509.47", "-96.78", "-606.25")
    assert [(t["taxable"], t["amount"]) for t in credit["taxes"]] == [("-509.47", "-96.78")]
    assert credit["payment_method"] == {"name": "Card", "fee": "-2.50", "tax_rate": "19.00",
                                        "tax_category": "S", "exemption_reason": None}
