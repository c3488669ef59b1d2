"""The EN 16931 model of a frozen invoice (portal/domain/einvoice.py), checked term by term.

Figures come from the money engine through tests/einvoice_table.py; the expected values are
hand-computed in the comments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from portal.domain import einvoice
from tests.einvoice_table import THREE, VALID, frozen, line


def _allowances(model):
    return [(a.charge, a.category, str(a.rate), str(a.amount), a.reason)
            for a in model.allowances]


def test_spec_worked_example_per_line():
    # 3 lines of 3 x 56.33 at 19 %: line net 168.99, tax 32.11 each (SPEC §2a).
    m = einvoice.build(frozen({"lines": THREE}))
    assert m.type_code == "380" and m.currency == "EUR" and m.number == "SC2026-00017"
    assert [str(x.net_amount) for x in m.lines] == ["168.99"] * 3
    assert [(x.category, str(x.rate), str(x.price), str(x.quantity), x.unit) for x in m.lines] \
        == [("S", "19", "56.33", "3", "C62")] * 3
    assert [(v.category, str(v.taxable), str(v.tax)) for v in m.vat] == [("S", "506.97", "96.33")]
    assert (m.amount(m.line_total), m.amount(m.tax_exclusive), m.amount(m.tax_total),
            m.amount(m.tax_inclusive), m.amount(m.payable)) == \
        ("506.97", "506.97", "96.33", "603.30", "603.30")
    assert m.allowances == () and m.allowance_total == 0 and m.charge_total == 0
    # no delivery date or period given: the supply is dated on the invoice date (BT-72)
    assert m.delivery_date == dt.date(2026, 11, 2) and m.period_start is None
    assert m.due_date == dt.date(2026, 11, 16)
    assert m.payment_means.code == "58" and m.payment_means.iban == "DE02120300000000202051"


def test_per_item_and_total_keep_the_engine_figures():
    # per_item: unit tax 10.70 x 9 = 96.30; total: 506.97 x 0.19 = 96.3243 -> 96.32 (SPEC §2a)
    assert [str(v.tax) for v in einvoice.build(frozen({"lines": THREE,
                                                        "rule": "per_item"})).vat] == ["96.30"]
    assert [str(v.tax) for v in einvoice.build(frozen({"lines": THREE,
                                                        "rule": "total"})).vat] == ["96.32"]


def test_invoice_discounts_become_one_allowance_per_vat_group():
    m = einvoice.build(frozen(VALID["discounts_net_basis"]))
    # 19 %: 2 x 100.00 = 200.00; 7 %: 3 x 33.33 = 99.99; running 299.99.
    # 10 %: cut 30.00 -> 19 %: q(30 x 200 / 299.99) = 20.00, 7 %: 10.00 -> 180.00 / 89.99
    # 5.00: 19 %: q(5 x 180 / 269.99) = 3.33, 7 %: 1.67 -> 176.67 / 88.32
    # allowances: 200.00 - 176.67 = 23.33 and 99.99 - 88.32 = 11.67
    assert _allowances(m) == [(False, "S", "19", "23.33", "Discount"),
                              (False, "S", "7", "11.67", "Discount")]
    assert all(a.reason_code == "95" for a in m.allowances)
    # tax 19 %: 38.00 - 3.80 - 0.63 = 33.57 (176.67 x 0.19 = 33.5673); 7 %: 7.00 - 0.70 - 0.12
    assert [(str(v.taxable), str(v.tax)) for v in m.vat] == [("176.67", "33.57"),
                                                             ("88.32", "6.18")]
    # BT-106 299.99 - BT-107 35.00 = BT-109 264.99; + 39.75 = 304.74
    assert (str(m.line_total), str(m.allowance_total), str(m.tax_exclusive), str(m.tax_total),
            str(m.tax_inclusive)) == ("299.99", "35.00", "264.99", "39.75", "304.74")
    assert m.line_total - m.allowance_total + m.charge_total == m.tax_exclusive


def test_total_rule_states_its_rounding_difference():
    # lines show q(0.125) = 0.13 twice = 0.26; the group's base is q(0.250) = 0.25
    m = einvoice.build(frozen(VALID["total_rounding_allowance"]))
    assert str(m.line_total) == "0.26" and [str(v.taxable) for v in m.vat] == ["0.25"]
    assert _allowances(m) == [(False, "S", "19", "0.01", "Rounding")]
    # 0.12 + 0.12 = 0.24 shown, q(0.248) = 0.25 taxed: a charge of 0.01
    m = einvoice.build(frozen(VALID["total_rounding_charge"]))
    assert _allowances(m) == [(True, "S", "19", "0.01", "Rounding")]
    assert str(m.charge_total) == "0.01" and str(m.tax_exclusive) == "0.25"


def test_shipping_and_payment_are_charges_in_their_category():
    m = einvoice.build(frozen(VALID["shipping_and_payment"]))
    # 80.00 - 10 % = 72.00; + shipping 8.57 + payment 2.50 = 83.07 at 19 %
    assert _allowances(m) == [(False, "S", "19", "8.00", "Discount"),
                              (True, "S", "19", "8.57", "DHL Express"),
                              (True, "S", "19", "2.50", "Card fee")]
    assert [str(v.taxable) for v in m.vat] == ["83.07"]
    assert (str(m.charge_total), str(m.allowance_total)) == ("11.07", "8.00")


def test_credit_note_is_positive_with_the_preceding_invoice():
    m = einvoice.build(frozen(VALID["credit_note"]))
    assert m.type_code == "381" and m.is_credit_note
    assert (m.preceding_number, m.preceding_date) == ("SC2026-00016", dt.date(2026, 10, 1))
    # 19 %: 200.00 - 20.00 + 8.57 = 188.57, tax 38.00 - 3.80 + 1.63 = 35.83
    # 7 %: 99.99 - 10.00 = 89.99, tax 7.00 - 0.70 = 6.30; gross 278.56 + 42.13 = 320.69
    assert [(str(v.taxable), str(v.tax)) for v in m.vat] == [("188.57", "35.83"),
                                                             ("89.99", "6.30")]
    assert all(x.net_amount > 0 and x.price > 0 for x in m.lines)
    assert (str(m.tax_inclusive), str(m.payable)) == ("320.69", "320.69")
    assert _allowances(m) == [(False, "S", "19", "20.00", "Discount"),
                              (False, "S", "7", "10.00", "Discount"),
                              (True, "S", "19", "8.57", "DHL Express")]
    # a credit is not a bill: no due date, no payment means, terms say it is refunded
    assert m.due_date is None and m.payment_means is None
    assert "refunded" in m.payment_terms and "SC2026-00016" in m.payment_terms


def test_exempt_categories_carry_a_reason():
    m = einvoice.build(frozen(VALID["reverse_charge"]))
    assert [(v.category, str(v.tax), v.exemption_reason, v.exemption_code) for v in m.vat] == \
        [("AE", "0.00", "Reverse charge", "VATEX-EU-AE")]
    assert m.buyer.vat_id == "FR40303265045" and m.buyer.address.country == "FR"
    # a reason missing from the data is filled for AE/K/G/O (the VATEX code says it all)...
    m = einvoice.build(frozen({**VALID["export"], "reasons": False}))
    assert [(v.exemption_reason, v.exemption_code) for v in m.vat] == \
        [("Export outside the EU", "VATEX-EU-G")]
    # ...but not for E, whose reason is a legal text only the seller can give (BR-E-10)
    m = einvoice.build(frozen({**VALID["exempt_with_reason"], "reasons": False}))
    assert [(v.exemption_reason, v.exemption_code) for v in m.vat] == [("", "")]


def test_groups_that_differ_only_in_tax_code_merge():
    data = frozen({"lines": [line("1", "10.00"), line("1", "20.00")]})
    data["taxes"] = [{**data["taxes"][0], "code": "VAT", "taxable": Decimal("10.00"),
                      "amount": Decimal("1.90")},
                     {**data["taxes"][0], "code": "OTHER", "taxable": Decimal("20.00"),
                      "amount": Decimal("3.80")}]
    m = einvoice.build(data)
    assert [(v.category, str(v.taxable), str(v.tax)) for v in m.vat] == [("S", "30.00", "5.70")]
    assert m.allowances == ()


def test_jpy_has_no_decimals():
    m = einvoice.build(frozen(VALID["jpy"]))
    # 3 x 1234 = 3702 at 10 %, 999 at 8 %; 5 % of 4701 = q(235.05) = 235 split 185 / 50
    # shipping 500 at 10 %: taxable 3702 - 185 + 500 = 4017
    assert [str(v.taxable) for v in m.vat] == ["4017", "949"]
    assert m.amount(m.tax_inclusive) == str(m.tax_inclusive) and "." not in m.amount(m.payable)


def test_buyer_reference_period_and_parties():
    m = einvoice.build(frozen(VALID["xrechnung_buyer_reference"]))
    assert m.buyer_reference == "04011000-12345-34"
    assert (m.period_start, m.period_end) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert m.delivery_date is None
    assert (m.seller.name, m.seller.trading_name, m.seller.vat_id, m.seller.tax_number,
            m.seller.legal_id, m.seller.endpoint_id, m.seller.endpoint_scheme) == \
        ("Big Events GmbH", "Big Events", "DE123456789", "12/345/67890", "HRB 12345",
         "billing@bigevents.example", "EM")
    assert (m.buyer.name, m.buyer.contact_name) == ("Käufer AG", "Ayşe Yılmaz")


def test_proformas_and_three_decimal_currencies_get_no_einvoice():
    with pytest.raises(einvoice.NotAnEInvoiceError):
        einvoice.build({**frozen({"lines": THREE}), "type": "proforma"})
    with pytest.raises(einvoice.NotAnEInvoiceError):
        einvoice.build({**frozen({"lines": THREE}), "currency": "KWD"})
    assert einvoice.can_einvoice("EUR") and einvoice.can_einvoice("JPY")
    assert not einvoice.can_einvoice("KWD") and not einvoice.can_einvoice("BHD")
    assert not einvoice.can_einvoice("XXX")

