"""Tests for portal.domain.money.

Every expected figure is a hand-computed literal, compared as a string so the number of
decimals is checked too ("10.00" is not "10.0"). Comments show the arithmetic. Tax at 10 % of a
net amount is amount/10; tax contained in a gross amount at 20 % is amount/6 (20/120), which is
why those rates are used where ties are needed.
"""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.domain.money import (
    CURRENCY_MINOR_UNITS,
    MAX_DISCOUNTS,
    ChargeInput,
    DiscountInput,
    DiscountType,
    InvoiceInput,
    LineInput,
    MoneyError,
    RoundingMode,
    RoundingRule,
    Taxed,
    UnknownCurrencyError,
    compute_invoice,
    minor_units,
    quantize,
    tax_from_gross,
    tax_from_net,
)

HU, HE, HD, DN = RoundingMode
PER_ITEM, PER_LINE, TOTAL = RoundingRule
PCT, AMT = DiscountType.PERCENT_OFF, DiscountType.AMOUNT_OFF


def line(qty, price, rate, code="", **kw):
    """A line from strings: line("3", "56.33", "19", discount_rate="10")."""
    return LineInput(
        Decimal(qty), Decimal(price), Decimal(rate), code, **{k: Decimal(v) for k, v in kw.items()}
    )


def compute(lines, currency="EUR", **kw):
    lines = tuple(x if isinstance(x, LineInput) else line(*x) for x in lines)
    return compute_invoice(InvoiceInput(currency, lines, **kw))


def fig(t):
    return (str(t.net), str(t.tax), str(t.gross))


def pct(value):
    return DiscountInput(PCT, Decimal(value))


def amt(value):
    return DiscountInput(AMT, Decimal(value))


def charge(amount, rate, code=None):
    return ChargeInput(Decimal(amount), Decimal(rate), code)


# --- primitives ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "mode", "expected"),
    [
        ("399", "EUR", HU, "399.00"),
        ("0.125", "EUR", HU, "0.13"),  # tie, away from zero
        ("0.125", "EUR", HE, "0.12"),  # tie, to the even 2
        ("0.135", "EUR", HE, "0.14"),  # tie, to the even 4
        ("0.125", "EUR", HD, "0.12"),  # tie, toward zero
        ("0.129", "EUR", HD, "0.13"),  # no tie: plain nearest
        ("0.129", "EUR", DN, "0.12"),  # truncates
        ("-0.125", "EUR", HU, "-0.13"),  # away from zero also below zero
        ("-0.129", "EUR", DN, "-0.12"),  # toward zero
        ("-0.004", "EUR", HU, "0.00"),  # no "-0.00"
        ("12.4", "JPY", HU, "12"),
        ("12.5", "JPY", HE, "12"),
        ("1.2345", "KWD", HU, "1.235"),
        ("1.2345", "KWD", "half_even", "1.234"),  # modes are accepted as strings too
    ],
)
def test_quantize(amount, currency, mode, expected):
    assert str(quantize(Decimal(amount), currency, mode)) == expected


def test_minor_units_and_unknown_currency():
    assert (minor_units("EUR"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
    for code in "USD GBP CHF TRY SEK NOK DKK PLN CZK HUF RON BGN CAD AUD INR CNY ZAR".split():
        assert CURRENCY_MINOR_UNITS[code] == 2
    for code in "KRW ISK CLP VND UGX XAF XOF".split():
        assert CURRENCY_MINOR_UNITS[code] == 0
    for code in "BHD JOD OMR TND IQD LYD".split():
        assert CURRENCY_MINOR_UNITS[code] == 3
    with pytest.raises(UnknownCurrencyError):
        minor_units("ABC")
    with pytest.raises(UnknownCurrencyError):
        quantize(Decimal("1"), "eur")
    with pytest.raises(MoneyError):
        quantize(Decimal("1"), "EUR", "half_odd")


def test_tax_helpers_are_unrounded():
    assert tax_from_net(Decimal("56.33"), Decimal("19")) == Decimal("10.7027")
    # 399.00 * 8/108 = 29.5555...: kept far beyond the cent, rounded only by the caller
    assert str(tax_from_gross(Decimal("399.00"), Decimal("8"))).startswith("29.5555555555")
    assert tax_from_gross(Decimal("0.09"), Decimal("20")) == Decimal("0.015")


def test_taxed_enforces_balance_and_does_arithmetic():
    with pytest.raises(MoneyError):
        Taxed(Decimal("1.00"), Decimal("0.19"), Decimal("1.20"))
    a, b = (
        Taxed(Decimal("1.00"), Decimal("0.19"), Decimal("1.19")),
        Taxed(Decimal("0.50"), Decimal("0.04"), Decimal("0.54")),
    )
    assert fig(a + b) == ("1.50", "0.23", "1.73")
    assert fig(a - b) == ("0.50", "0.15", "0.65")
    assert fig(-a) == ("-1.00", "-0.19", "-1.19")
    assert Taxed.zero() + a == a


# --- the spec's worked examples --------------------------------------------------------------


def test_worked_example_gross_entry_per_line():
    # 399.00 * 8/108 = 29.5555... -> 29.56; net = 399.00 - 29.56
    r = compute([("1", "399.00", "8")], prices_include_tax=True, rule=PER_LINE)
    assert fig(r.lines[0]) == fig(r.groups[0]) == fig(r.total) == ("369.44", "29.56", "399.00")


@pytest.mark.parametrize(
    ("rule", "line", "total"),
    [
        # unit tax 56.33*0.19 = 10.7027 -> 10.70; per line 10.70*3 = 32.10; 3 lines 96.30
        (PER_ITEM, ("168.99", "32.10", "201.09"), ("506.97", "96.30", "603.27")),
        # line 168.99*0.19 = 32.1081 -> 32.11; 3 lines 96.33
        (PER_LINE, ("168.99", "32.11", "201.10"), ("506.97", "96.33", "603.30")),
        # 506.97*0.19 = 96.3243 -> 96.32 once; lines are shown the per_line way
        (TOTAL, ("168.99", "32.11", "201.10"), ("506.97", "96.32", "603.29")),
    ],
)
def test_worked_example_three_lines(rule, line, total):
    r = compute([("3", "56.33", "19")] * 3, rule=rule)
    assert [fig(x) for x in r.lines] == [line] * 3
    assert [fig(g) for g in r.groups] == [total]
    assert fig(r.total) == total
    assert str(r.quantity) == "9"


# --- rule x mode x entry basis ---------------------------------------------------------------

# Ties of both kinds are built in: x.xx5 after an even digit (only half_up rounds up), after an
# odd digit (half_up and half_even round up), and x.xx7-like non-ties (only down truncates).
NET_LINES = [("2", "10.125", "10"), ("3", "0.35", "10"), ("1", "0.257", "10"), ("3", "0.45", "10")]
GROSS_LINES = [("2", "1.215", "20"), ("3", "0.15", "20"), ("1", "0.09", "20"), ("1", "0.04", "20")]
# TOTAL: group 10 % sums 3*3.745 + 11.21 = 22.445, group 20 % is 1.135.
NET_TOTAL_LINES = [("3", "3.745", "10"), ("1", "11.21", "10"), ("1", "1.135", "20")]
# TOTAL gross: group ("",20) 3*0.475 + 1.00 = 2.425, group ("B",20) 0.095, group ("",10) 0.047.
GROSS_TOTAL_LINES = [
    ("3", "0.475", "20"),
    ("1", "1.00", "20"),
    ("1", "0.095", "20", "B"),
    ("1", "0.047", "10"),
]

RULE_MODE_TABLE = [
    # per_item, net. Unit prices: 10.125 -> HU 10.13, else 10.12 (unit tax 1.01 either way);
    # 0.35: unit tax 0.035 -> HU/HE 0.04, HD/DN 0.03; 0.257 -> DN 0.25 (tax 0.025 -> 0.02),
    # else 0.26 (tax 0.026 -> 0.03); 0.45: unit tax 0.045 -> HU 0.05, else 0.04.
    # HU: net 20.26+1.05+0.26+1.35, tax 2.02+0.12+0.03+0.15
    (PER_ITEM, HU, False, NET_LINES, ("22.92", "2.32", "25.24")),
    # HE: net 20.24+1.05+0.26+1.35, tax 2.02+0.12+0.03+0.12
    (PER_ITEM, HE, False, NET_LINES, ("22.90", "2.29", "25.19")),
    # HD: net as HE, tax 2.02+0.09+0.03+0.12
    (PER_ITEM, HD, False, NET_LINES, ("22.90", "2.26", "25.16")),
    # DN: net 20.24+1.05+0.25+1.35, tax 2.02+0.09+0.02+0.12
    (PER_ITEM, DN, False, NET_LINES, ("22.89", "2.25", "25.14")),
    # per_line, net. Bases 20.25 (tax 2.025), 1.05 (0.105), 0.257 -> 0.26 / DN 0.25, 1.35 (0.135)
    # HU: net 20.25+1.05+0.26+1.35, tax 2.03+0.11+0.03+0.14
    (PER_LINE, HU, False, NET_LINES, ("22.91", "2.31", "25.22")),
    # HE: tax 2.02+0.10+0.03+0.14
    (PER_LINE, HE, False, NET_LINES, ("22.91", "2.29", "25.20")),
    # HD: tax 2.02+0.10+0.03+0.13
    (PER_LINE, HD, False, NET_LINES, ("22.91", "2.28", "25.19")),
    # DN: net 20.25+1.05+0.25+1.35, tax 2.02+0.10+0.02+0.13
    (PER_LINE, DN, False, NET_LINES, ("22.90", "2.27", "25.17")),
    # total, net. 22.445 -> HU 22.45 (tax 2.245 -> 2.25), else 22.44 (tax 2.244 -> 2.24);
    # 1.135 -> HU/HE 1.14 (tax 0.228 -> 0.23), HD/DN 1.13 (tax 0.226 -> HD 0.23, DN 0.22)
    (TOTAL, HU, False, NET_TOTAL_LINES, ("23.59", "2.48", "26.07")),  # 22.45+1.14, 2.25+0.23
    (TOTAL, HE, False, NET_TOTAL_LINES, ("23.58", "2.47", "26.05")),  # 22.44+1.14, 2.24+0.23
    (TOTAL, HD, False, NET_TOTAL_LINES, ("23.57", "2.47", "26.04")),  # 22.44+1.13, 2.24+0.23
    (TOTAL, DN, False, NET_TOTAL_LINES, ("23.57", "2.46", "26.03")),  # 22.44+1.13, 2.24+0.22
    # per_item, gross. 1.215 -> HU/HE 1.22, HD/DN 1.21 (unit tax /6 -> 0.20 either way);
    # 0.15: unit tax 0.025 -> HU 0.03, else 0.02; 0.09: 0.015 -> HU/HE 0.02, HD/DN 0.01;
    # 0.04: 0.00666.. -> DN 0.00, else 0.01.
    # HU: gross 2.44+0.45+0.09+0.04, tax 0.40+0.09+0.02+0.01
    (PER_ITEM, HU, True, GROSS_LINES, ("2.50", "0.52", "3.02")),
    # HE: gross as HU, tax 0.40+0.06+0.02+0.01
    (PER_ITEM, HE, True, GROSS_LINES, ("2.53", "0.49", "3.02")),
    # HD: gross 2.42+0.45+0.09+0.04, tax 0.40+0.06+0.01+0.01
    (PER_ITEM, HD, True, GROSS_LINES, ("2.52", "0.48", "3.00")),
    # DN: gross as HD, tax 0.40+0.06+0.01+0.00
    (PER_ITEM, DN, True, GROSS_LINES, ("2.53", "0.47", "3.00")),
    # per_line, gross: bases 2.43, 0.45, 0.09, 0.04 = 3.01 in every mode; taxes
    # 2.43/6 = 0.405, 0.45/6 = 0.075, 0.09/6 = 0.015, 0.04/6 = 0.00666..
    (PER_LINE, HU, True, GROSS_LINES, ("2.49", "0.52", "3.01")),  # 0.41+0.08+0.02+0.01
    (PER_LINE, HE, True, GROSS_LINES, ("2.50", "0.51", "3.01")),  # 0.40+0.08+0.02+0.01
    (PER_LINE, HD, True, GROSS_LINES, ("2.52", "0.49", "3.01")),  # 0.40+0.07+0.01+0.01
    (PER_LINE, DN, True, GROSS_LINES, ("2.53", "0.48", "3.01")),  # 0.40+0.07+0.01+0.00
    # total, gross. 2.425 -> HU 2.43 (tax 0.405 -> 0.41), else 2.42 (tax 0.4033 -> 0.40);
    # 0.095 -> HU/HE 0.10 (tax 0.0166 -> 0.02), HD/DN 0.09 (tax 0.015 -> 0.01);
    # 0.047 -> DN 0.04, else 0.05 (tax at 10 % 0.0045 / 0.0036 -> 0.00)
    (TOTAL, HU, True, GROSS_TOTAL_LINES, ("2.15", "0.43", "2.58")),  # 2.43+0.10+0.05, 0.41+0.02
    (TOTAL, HE, True, GROSS_TOTAL_LINES, ("2.15", "0.42", "2.57")),  # 2.42+0.10+0.05, 0.40+0.02
    (TOTAL, HD, True, GROSS_TOTAL_LINES, ("2.15", "0.41", "2.56")),  # 2.42+0.09+0.05, 0.40+0.01
    (TOTAL, DN, True, GROSS_TOTAL_LINES, ("2.14", "0.41", "2.55")),  # 2.42+0.09+0.04, 0.40+0.01
]


@pytest.mark.parametrize(("rule", "mode", "gross", "lines", "expected"), RULE_MODE_TABLE)
def test_rule_mode_table(rule, mode, gross, lines, expected):
    r = compute(lines, rule=rule, mode=mode, prices_include_tax=gross)
    assert fig(r.total) == expected


def test_rule_mode_table_really_separates_the_modes():
    """Guard the table itself: within each (rule, basis) all four modes give different totals."""
    by_case = {}
    for rule, _mode, gross, _lines, expected in RULE_MODE_TABLE:
        by_case.setdefault((rule, gross), set()).add(expected)
    assert len(by_case) == 6
    assert all(len(results) == 4 for results in by_case.values())


def test_total_rule_groups_and_per_line_display():
    r = compute(GROSS_TOTAL_LINES, rule=TOTAL, mode=HU, prices_include_tax=True)
    assert [(g.code, str(g.rate), fig(g)) for g in r.groups] == [
        ("", "20", ("2.02", "0.41", "2.43")),
        ("B", "20", ("0.08", "0.02", "0.10")),
        ("", "10", ("0.05", "0.00", "0.05")),
    ]
    # lines are displayed per_line: 3*0.475 = 1.425 -> 1.43, tax 1.43/6 = 0.2383 -> 0.24
    assert fig(r.lines[0]) == ("1.19", "0.24", "1.43")


# --- per_item fallbacks and line discounts ---------------------------------------------------


def test_per_item_whole_quantity_uses_unit_tax():
    # net: unit 10.005 -> 10.01, unit tax 1.9019 -> 1.90, * 3 = 5.70 (per_line would be 5.71)
    r = compute([("3", "10.005", "19")], rule=PER_ITEM)
    assert fig(r.lines[0]) == ("30.03", "5.70", "35.73")
    # gross: unit tax 11.99*19/119 = 1.9144 -> 1.91, * 3 = 5.73 (per_line: 35.97 -> 5.74)
    r = compute([("3", "11.99", "19")], rule=PER_ITEM, prices_include_tax=True)
    assert fig(r.lines[0]) == ("30.24", "5.73", "35.97")
    # a whole quantity written with decimals is still whole
    r = compute([("3.00", "10.005", "19")], rule=PER_ITEM)
    assert fig(r.lines[0]) == ("30.03", "5.70", "35.73")


def test_per_item_fractional_quantity_taxes_the_rounded_line():
    # 10.005 -> 10.01; 10.01 * 2.5 = 25.025 -> 25.03; tax 25.03*0.19 = 4.7557 -> 4.76
    r = compute([("2.5", "10.005", "19")], rule=PER_ITEM)
    assert fig(r.lines[0]) == ("25.03", "4.76", "29.79")
    # per_line for contrast: 10.005 * 2.5 = 25.0125 -> 25.01; tax 4.7519 -> 4.75
    r = compute([("2.5", "10.005", "19")], rule=PER_LINE)
    assert fig(r.lines[0]) == ("25.01", "4.75", "29.76")


def test_per_item_with_line_discount_rate():
    # 3 * 10.01 = 30.03; discount 3.003 -> 3.00; base 27.03; tax 5.1357 -> 5.14
    r = compute([line("3", "10.005", "19", discount_rate="10")], rule=PER_ITEM)
    assert fig(r.lines[0]) == ("27.03", "5.14", "32.17")
    assert str(r.lines[0].discount) == "3.00"


def test_per_item_with_line_discount_amount():
    # 30.03 - q(5.005) = 30.03 - 5.01 = 25.02; tax 4.7538 -> 4.75
    r = compute([line("3", "10.005", "19", discount_amount="5.005")], rule=PER_ITEM)
    assert fig(r.lines[0]) == ("25.02", "4.75", "29.77")
    assert str(r.lines[0].discount) == "5.01"


def test_per_line_discount_rate_is_subtracted_unrounded():
    # 4 * 12.50 = 50.00, 15 % = 7.50; base 42.50; tax 8.075 -> 8.08
    r = compute([line("4", "12.50", "19", discount_rate="15")])
    assert fig(r.lines[0]) == ("42.50", "8.08", "50.58")
    assert str(r.lines[0].discount) == "7.50"
    # 3 * 3.335 = 10.005, 10 % = 1.0005; base 9.0045 -> 9.00 (rounding first would give
    # 10.01 - 1.00 = 9.01); tax 9.00*0.19 = 1.71; the shown discount is q(1.0005) = 1.00
    r = compute([line("3", "3.335", "19", discount_rate="10")])
    assert fig(r.lines[0]) == ("9.00", "1.71", "10.71")
    assert str(r.lines[0].discount) == "1.00"
    # per_item rounds the unit first: 3.34*3 = 10.02, discount 1.002 -> 1.00, base 9.02,
    # tax 1.7138 -> 1.71
    r = compute([line("3", "3.335", "19", discount_rate="10")], rule=PER_ITEM)
    assert fig(r.lines[0]) == ("9.02", "1.71", "10.73")


def test_per_line_discount_amount_gross_entry():
    # 2 * 59.90 = 119.80 - 19.80 = 100.00 gross; tax 100*19/119 = 15.966 -> 15.97
    r = compute([line("2", "59.90", "19", discount_amount="19.80")], prices_include_tax=True)
    assert fig(r.lines[0]) == ("84.03", "15.97", "100.00")
    assert str(r.lines[0].discount) == "19.80"


def test_no_line_discount_reports_zero():
    r = compute([("1", "5", "19")])
    assert str(r.lines[0].discount) == "0.00"


# --- invoice discounts -----------------------------------------------------------------------


def test_amount_off_net_basis_remainder_goes_to_last_group():
    # three groups of 10.00 net; 1.00 spread: 1.00*10/30 = 0.333 -> 0.33, 0.33, last 0.34
    # share taxes: 0.33*0.19 = 0.0627 -> 0.06; 0.33*0.07 = 0.0231 -> 0.02; 0.34*0 = 0
    r = compute(
        [("1", "10.00", "19"), ("1", "10.00", "7"), ("1", "10.00", "0")], discounts=[amt("1")]
    )
    (d,) = r.discounts
    assert (d.type, str(d.value), str(d.amount)) == (AMT, "1", "1.00")
    assert fig(d) == ("1.00", "0.08", "1.08")
    assert [fig(g) for g in r.groups] == [
        ("9.67", "1.84", "11.51"),  # 10.00/1.90/11.90 - 0.33/0.06/0.39
        ("9.67", "0.68", "10.35"),  # 10.00/0.70/10.70 - 0.33/0.02/0.35
        ("9.66", "0.00", "9.66"),  # 10.00/0.00/10.00 - 0.34/0.00/0.34
    ]
    assert fig(r.prediscount) == ("30.00", "2.60", "32.60")
    assert fig(r.discount) == ("1.00", "0.08", "1.08")
    assert fig(r.subtotal) == fig(r.total) == ("29.00", "2.52", "31.52")


def test_remainder_skips_groups_with_nothing_left():
    # the 0 % group is empty, so 19 % gets q(0.05*10/20) = 0.025 -> 0.03 and 7 % the rest 0.02
    # share taxes: 0.03*0.19 = 0.0057 -> 0.01; 0.02*0.07 = 0.0014 -> 0.00
    r = compute(
        [("1", "10.00", "19"), ("1", "10.00", "7"), ("1", "0.00", "0")], discounts=[amt("0.05")]
    )
    assert fig(r.discounts[0]) == ("0.05", "0.01", "0.06")
    assert [fig(g) for g in r.groups] == [
        ("9.97", "1.89", "11.86"),
        ("9.98", "0.70", "10.68"),
        ("0.00", "0.00", "0.00"),
    ]


def test_percent_off_net_basis_two_rates():
    # net 100.00 @19 % and 50.00 @7 %; 10 % of 150.00 = 15.00 -> 10.00 and 5.00
    # share taxes 1.90 and 0.35
    r = compute([("1", "100.00", "19"), ("1", "50.00", "7")], discounts=[pct("10")])
    assert str(r.discounts[0].amount) == "15.00"
    assert fig(r.discounts[0]) == ("15.00", "2.25", "17.25")
    assert [fig(g) for g in r.groups] == [("90.00", "17.10", "107.10"), ("45.00", "3.15", "48.15")]
    assert fig(r.total) == ("135.00", "20.25", "155.25")


def test_percent_off_gross_basis_with_net_entry():
    # gross 119.00 + 53.50 = 172.50; 10 % = 17.25; 19 % share 17.25*119/172.50 = 11.90,
    # 7 % takes 5.35. Taxes: 11.90*19/119 = 1.90, 5.35*7/107 = 0.35.
    r = compute(
        [("1", "100.00", "19"), ("1", "50.00", "7")],
        discounts=[pct("10")],
        discounts_include_tax=True,
    )
    assert str(r.discounts[0].amount) == "17.25"
    assert fig(r.discounts[0]) == ("15.00", "2.25", "17.25")
    assert fig(r.total) == ("135.00", "20.25", "155.25")


def test_amount_off_gross_basis_with_gross_entry():
    # gross 10.00 each: 19 % 8.40/1.60 (1.5966 -> 1.60), 7 % 9.35/0.65 (0.6542 -> 0.65), 0 %
    # shares 0.33, 0.33, 0.34 gross; taxes 0.33*19/119 = 0.0527 -> 0.05, 0.33*7/107 = 0.0216 ->
    # 0.02, 0
    r = compute(
        [("1", "10.00", "19"), ("1", "10.00", "7"), ("1", "10.00", "0")],
        prices_include_tax=True,
        discounts=[amt("1.00")],
        discounts_include_tax=True,
    )
    assert fig(r.prediscount) == ("27.75", "2.25", "30.00")
    assert str(r.discounts[0].amount) == "1.00"
    assert fig(r.discounts[0]) == ("0.93", "0.07", "1.00")
    assert [fig(g) for g in r.groups] == [
        ("8.12", "1.55", "9.67"),
        ("9.04", "0.63", "9.67"),
        ("9.66", "0.00", "9.66"),
    ]
    assert fig(r.total) == ("26.82", "2.18", "29.00")


def test_percent_off_net_basis_with_gross_entry():
    # 119.00 gross -> 100.00 net; 10 % of the net = 10.00, tax 1.90
    r = compute([("1", "119.00", "19")], prices_include_tax=True, discounts=[pct("10")])
    assert fig(r.discounts[0]) == ("10.00", "1.90", "11.90")
    assert fig(r.total) == ("90.00", "17.10", "107.10")


@pytest.mark.parametrize(
    ("discounts", "cuts", "total"),
    [
        # 200.00 - 10 % (20.00) = 180.00 - 20.00 = 160.00; tax 38.00 - 3.80 - 3.80
        ([pct("10"), amt("20")], ["20.00", "20.00"], ("160.00", "30.40", "190.40")),
        # 200.00 - 20.00 = 180.00 - 10 % (18.00, tax 3.42) = 162.00; tax 38.00 - 3.80 - 3.42
        ([amt("20"), pct("10")], ["20.00", "18.00"], ("162.00", "30.78", "192.78")),
    ],
)
def test_discounts_apply_in_sequence(discounts, cuts, total):
    r = compute([("1", "200.00", "19")], discounts=discounts)
    assert [str(d.amount) for d in r.discounts] == cuts
    assert fig(r.total) == total
    assert r.prediscount - r.discount == r.subtotal


def test_amount_off_stops_at_zero_and_charges_are_not_discounted():
    # 80.00 off 50.00 cuts only 50.00 (tax 9.50); the next discount finds nothing left.
    # Shipping 4.90 @19 % is added afterwards: tax 0.931 -> 0.93
    r = compute(
        [("1", "50.00", "19")],
        discounts=[amt("80"), amt("10")],
        shipping=charge("4.90", "19"),
    )
    assert [(str(d.amount), fig(d)) for d in r.discounts] == [
        ("50.00", ("50.00", "9.50", "59.50")),
        ("0.00", ("0.00", "0.00", "0.00")),
    ]
    assert fig(r.subtotal) == ("0.00", "0.00", "0.00")
    assert fig(r.shipping) == ("4.90", "0.93", "5.83")
    assert fig(r.total) == ("4.90", "0.93", "5.83")


# --- shipping and payment --------------------------------------------------------------------


def test_charges_net_entry_merge_and_new_group():
    # shipping 5.00 @19 % (tax 0.95) joins ("S", 19); payment 2.00 @0 % finds no 0 % group
    r = compute(
        [("1", "100.00", "19", "S"), ("1", "10.00", "7", "R")],
        shipping=charge("5.00", "19"),
        payment=charge("2.00", "0"),
    )
    assert fig(r.shipping) == ("5.00", "0.95", "5.95")
    assert fig(r.payment) == ("2.00", "0.00", "2.00")
    assert fig(r.subtotal) == ("110.00", "19.70", "129.70")
    assert [(g.code, str(g.rate), fig(g)) for g in r.groups] == [
        ("S", "19", ("105.00", "19.95", "124.95")),
        ("R", "7", ("10.00", "0.70", "10.70")),
        ("", "0", ("2.00", "0.00", "2.00")),
    ]
    assert fig(r.total) == ("117.00", "20.65", "137.65")


def test_charges_gross_entry_explicit_codes():
    # gross: 119.00 -> tax 19.00; shipping 5.95 -> tax 0.95; payment 1.19 -> tax 0.19, and its
    # own code "X" makes a second 19 % group
    r = compute(
        [("1", "119.00", "19", "S")],
        prices_include_tax=True,
        shipping=charge("5.95", "19", "S"),
        payment=charge("1.19", "19", "X"),
    )
    assert fig(r.shipping) == ("5.00", "0.95", "5.95")
    assert fig(r.payment) == ("1.00", "0.19", "1.19")
    assert [(g.code, fig(g)) for g in r.groups] == [
        ("S", ("105.00", "19.95", "124.95")),
        ("X", ("1.00", "0.19", "1.19")),
    ]
    assert fig(r.total) == ("106.00", "20.14", "126.14")


def test_charge_without_code_joins_first_group_of_its_rate():
    # shipping 1.00 @19 % (tax 0.19) joins "A", the first 19 % group
    r = compute(
        [("1", "10.00", "19", "A"), ("1", "20.00", "19", "B")], shipping=charge("1.00", "19")
    )
    assert [(g.code, fig(g)) for g in r.groups] == [
        ("A", ("11.00", "2.09", "13.09")),
        ("B", ("20.00", "3.80", "23.80")),
    ]


# --- other currencies ------------------------------------------------------------------------


def test_jpy_has_no_decimals():
    # 3 * 1015 = 3045, tax 304.5 -> HU 305 / HE 304 (to even); 98 * 0.08 = 7.84 -> 8
    lines = [("3", "1015", "10"), ("1", "98", "8")]
    assert fig(compute(lines, "JPY").total) == ("3143", "313", "3456")
    assert fig(compute(lines, "JPY", mode=HE).total) == ("3143", "312", "3455")
    # gross: 1100*10/110 = 100; 1000*8/108 = 74.07 -> 74
    r = compute([("1", "1100", "10"), ("1", "1000", "8")], "JPY", prices_include_tax=True)
    assert [fig(g) for g in r.groups] == [("1000", "100", "1100"), ("926", "74", "1000")]
    assert fig(r.total) == ("1926", "174", "2100")


def test_kwd_has_three_decimals():
    # 2 * 1.2345 = 2.469, tax 0.12345 -> 0.123; 0.0105 -> HU 0.011 (tax 0.00055 -> 0.001),
    # HE 0.010 (tax 0.0005, a tie -> 0.000)
    lines = [("2", "1.2345", "5"), ("1", "0.0105", "5")]
    assert fig(compute(lines, "KWD").total) == ("2.480", "0.124", "2.604")
    assert fig(compute(lines, "KWD", mode=HE).total) == ("2.479", "0.123", "2.602")


# --- negative amounts and credit notes -------------------------------------------------------


def test_correction_line_with_negative_price():
    # -10.005 -> HU -10.01 (away from zero), tax -1.9019 -> -1.90
    r = compute([("1", "100.00", "19"), ("1", "-10.005", "19")])
    assert fig(r.lines[1]) == ("-10.01", "-1.90", "-11.91")
    assert fig(r.total) == ("89.99", "17.10", "107.09")
    # DOWN truncates toward zero: -10.00
    r = compute([("1", "100.00", "19"), ("1", "-10.005", "19")], mode=DN)
    assert fig(r.lines[1]) == ("-10.00", "-1.90", "-11.90")
    assert fig(r.total) == ("90.00", "17.10", "107.10")


def test_negative_zero_is_normalised():
    r = compute([("1", "-0.004", "19")])
    assert fig(r.lines[0]) == fig(r.total) == ("0.00", "0.00", "0.00")
    assert not r.total.net.is_signed()


def _credit_note_source():
    # lines: 2*50.00 @19 "S" = 100.00/19.00; 20.00 @7 "R" less 10 % = 18.00/1.26 (disc. 2.00)
    # 10 % off net 118.00 = 11.80: "S" 10.00 (tax 1.90), "R" 1.80 (tax 0.126 -> 0.13)
    # shipping 4.90 @19 joins "S" (tax 0.93); payment 1.00 @0 makes a new group
    return compute(
        [
            line("2", "50.00", "19", "S", weight="0.25"),
            line("1", "20.00", "7", "R", discount_rate="10"),
        ],
        discounts=[pct("10")],
        shipping=charge("4.90", "19"),
        payment=charge("1.00", "0"),
    )


def test_credit_note_source_figures():
    r = _credit_note_source()
    assert [fig(x) for x in r.lines] == [("100.00", "19.00", "119.00"), ("18.00", "1.26", "19.26")]
    assert fig(r.prediscount) == ("118.00", "20.26", "138.26")
    assert fig(r.discounts[0]) == ("11.80", "2.03", "13.83")
    assert fig(r.subtotal) == ("106.20", "18.23", "124.43")
    assert [fig(g) for g in r.groups] == [
        ("94.90", "18.03", "112.93"),  # 90.00/17.10 + 4.90/0.93
        ("16.20", "1.13", "17.33"),  # 18.00/1.26 - 1.80/0.13
        ("1.00", "0.00", "1.00"),
    ]
    assert fig(r.total) == ("112.10", "19.16", "131.26")
    assert (str(r.quantity), str(r.weight)) == ("3", "0.500")


def test_negated_mirrors_every_amount_exactly():
    r = _credit_note_source()
    n = r.negated()
    assert [fig(x) for x in n.lines] == [
        ("-100.00", "-19.00", "-119.00"),
        ("-18.00", "-1.26", "-19.26"),
    ]
    assert [str(x.discount) for x in n.lines] == ["0.00", "-2.00"]
    assert [(g.code, str(g.rate), fig(g)) for g in n.groups] == [
        ("S", "19", ("-94.90", "-18.03", "-112.93")),
        ("R", "7", ("-16.20", "-1.13", "-17.33")),
        ("", "0", ("-1.00", "0.00", "-1.00")),  # zero stays "0.00", never "-0.00"
    ]
    (d,) = n.discounts
    assert (d.type, str(d.value), str(d.amount), fig(d)) == (
        PCT,
        "10",
        "-11.80",
        ("-11.80", "-2.03", "-13.83"),
    )
    assert fig(n.prediscount) == ("-118.00", "-20.26", "-138.26")
    assert fig(n.discount) == ("-11.80", "-2.03", "-13.83")
    assert fig(n.subtotal) == ("-106.20", "-18.23", "-124.43")
    assert fig(n.shipping) == ("-4.90", "-0.93", "-5.83")
    assert fig(n.payment) == ("-1.00", "0.00", "-1.00")
    assert fig(n.total) == ("-112.10", "-19.16", "-131.26")
    assert (str(n.quantity), str(n.weight)) == ("3", "0.500")
    assert n.negated() == r


def test_quantity_and_weight():
    # 2*0.3333 + 1.5*1.0005 = 0.6666 + 1.50075 = 2.16735 -> 2.167; missing weight counts 0
    r = compute(
        [
            line("2", "1", "0", weight="0.3333"),
            line("1.5", "1", "0", weight="1.0005"),
            line("4", "1", "0"),
        ]
    )
    assert (str(r.quantity), str(r.weight)) == ("7.5", "2.167")
    assert str(compute([]).weight) == "0.000"


def test_empty_invoice_is_zero():
    r = compute([])
    assert fig(r.total) == ("0.00", "0.00", "0.00")
    assert r.groups == r.lines == ()


# --- refused input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"discounts": [pct("1")] * (MAX_DISCOUNTS + 1)},
        {"discounts": [pct("0")]},
        {"discounts": [pct("100.01")]},
        {"discounts": [pct("-5")]},
        {"discounts": [amt("0")]},
        {"discounts": [amt("-1")]},
        {"discounts": [DiscountInput("half_off", Decimal("1"))]},
        {"lines": [line("0", "1", "19")]},
        {"lines": [line("-1", "1", "19")]},
        {"lines": [line("1", "1", "19", discount_rate="5", discount_amount="1")]},
        {"lines": [line("1", "1", "19", discount_rate="-1")]},
        {"lines": [line("1", "1", "19", discount_rate="100.01")]},
        {"lines": [line("1", "1", "-0.01")]},
        {"lines": [LineInput(Decimal("1"), 1.5, Decimal("19"))]},  # a float is never money
        {"lines": [line("1", "NaN", "19")]},
        {"shipping": charge("1", "-1")},
        {"payment": ChargeInput(Decimal("1"), None)},
        {"mode": "bankers"},
        {"rule": "per_page"},
    ],
)
def test_refused_input(kwargs):
    fields = {"currency": "EUR", "lines": [line("1", "10", "19")], **kwargs}
    with pytest.raises(MoneyError):
        compute_invoice(InvoiceInput(**fields))


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrencyError):
        compute([("1", "10", "19")], currency="ABC")


def test_boundaries_are_accepted():
    r = compute(
        [line("1", "10.00", "0", discount_rate="100"), line("1", "10.00", "0", discount_rate="0")],
        discounts=[pct("100")] * MAX_DISCOUNTS,
    )
    assert fig(r.total) == ("0.00", "0.00", "0.00")


def test_enum_values_are_accepted_as_strings():
    r = compute_invoice(
        InvoiceInput(
            "EUR",
            [line("3", "56.33", "19")] * 3,
            mode="half_up",
            rule="total",
            discounts=[DiscountInput("amount_off", Decimal("0.01"))],
        )
    )
    assert fig(r.prediscount) == ("506.97", "96.32", "603.29")
    assert r.discounts[0].type is AMT


# --- properties ------------------------------------------------------------------------------


def _fixed(lo, hi, places):
    """Decimals lo..hi in units of 10**-places, always carrying exactly `places` decimals."""
    return st.integers(lo, hi).map(lambda n: Decimal(n).scaleb(-places))


RATES = st.one_of(
    st.sampled_from(["0", "5", "7", "8", "10", "19", "20", "21", "22"]).map(Decimal),
    _fixed(0, 3000, 2),
)


@st.composite
def line_inputs(draw):
    kind = draw(st.sampled_from(["none", "rate", "amount"]))
    return LineInput(
        quantity=draw(st.one_of(st.integers(1, 20).map(Decimal), _fixed(1, 99_999, 2))),
        unit_price=draw(_fixed(-9_999_999, 99_999_999, 3)),  # ~10 % correction lines
        tax_rate=draw(RATES),
        tax_code=draw(st.sampled_from(["", "A", "B"])),
        discount_rate=draw(_fixed(0, 10_000, 2)) if kind == "rate" else None,
        discount_amount=draw(_fixed(0, 99_999, 2)) if kind == "amount" else None,
        weight=draw(st.none() | _fixed(0, 100_000, 3)),
    )


CHARGES = st.none() | st.builds(
    ChargeInput, _fixed(0, 99_999, 2), RATES, st.sampled_from([None, "", "A", "S"])
)
INVOICES = st.builds(
    InvoiceInput,
    currency=st.sampled_from(["EUR", "JPY", "KWD"]),
    lines=st.lists(line_inputs(), max_size=8).map(tuple),
    prices_include_tax=st.booleans(),
    mode=st.sampled_from(RoundingMode),
    rule=st.sampled_from(RoundingRule),
    discounts=st.lists(
        st.builds(DiscountInput, st.just(PCT), _fixed(1, 10_000, 2))
        | st.builds(DiscountInput, st.just(AMT), _fixed(1, 9_999_999, 2)),
        max_size=MAX_DISCOUNTS,
    ).map(tuple),
    discounts_include_tax=st.booleans(),
    shipping=CHARGES,
    payment=CHARGES,
)


def _triples(r):
    yield from r.lines
    yield from r.groups
    yield from r.discounts
    yield from (r.prediscount, r.discount, r.subtotal, r.shipping, r.payment, r.total)


def _amounts(r):
    for t in _triples(r):
        if t is not None:
            yield from (t.net, t.tax, t.gross)
    yield from (x.discount for x in r.lines)
    yield from (d.amount for d in r.discounts)


def _sum(items):
    return sum((Taxed(t.net, t.tax, t.gross) for t in items), Taxed.zero())


@settings(max_examples=200, deadline=None, database=None)
@given(INVOICES)
def test_invariants(inv):
    r = compute_invoice(inv)
    places = minor_units(inv.currency)
    for t in _triples(r):
        assert t is None or t.net + t.tax == t.gross
    assert r.total == _sum(r.groups)
    assert r.subtotal == r.prediscount - r.discount
    assert r.total == r.subtotal + _sum(c for c in (r.shipping, r.payment) if c is not None)
    for amount in _amounts(r):
        assert amount.as_tuple().exponent == -places
        assert not (amount.is_zero() and amount.is_signed())
    n = r.negated()
    assert [-a for a in _amounts(r)] == list(_amounts(n))
    assert all(a.as_tuple().exponent == -places for a in _amounts(n))
    assert [(g.code, g.rate) for g in n.groups] == [(g.code, g.rate) for g in r.groups]
    assert (n.quantity, n.weight) == (r.quantity, r.weight)
    assert n.negated() == r


@settings(max_examples=200, deadline=None, database=None)
@given(INVOICES, st.sampled_from([PER_ITEM, PER_LINE]))
def test_groups_are_sums_of_rounded_lines(inv, rule):
    inv = replace(inv, rule=rule, discounts=(), shipping=None, payment=None)
    r = compute_invoice(inv)
    for g in r.groups:
        key = (g.code, g.rate)
        mine = [
            x
            for x, src in zip(r.lines, inv.lines, strict=True)
            if (src.tax_code, src.tax_rate) == key
        ]
        assert Taxed(g.net, g.tax, g.gross) == _sum(mine)
    assert r.total == _sum(r.lines)
