"""The code lists of EN 16931 that the portal uses, as plain data (SPEC §9).

Pure: codes and English labels only. The labels are marked for translation where they are shown
(`portal.i18n._l` at the edge, see `labels()`), never here, so this module stays importable by
the money engine and the e-invoice writers without an app.
"""

from __future__ import annotations

from decimal import Decimal

# UNCL 5305 duty/tax/fee category codes (the subset EN 16931 allows for VAT).
VAT_CATEGORIES: dict[str, str] = {
    "S": "Standard rate",
    "Z": "Zero rated goods",
    "E": "Exempt from tax",
    "AE": "VAT reverse charge",
    "K": "Intra-community supply (VAT exempt)",
    "G": "Export outside the EU (VAT exempt)",
    "O": "Outside the scope of VAT",
}
# Categories whose lines must say why no VAT is charged (an exemption reason text).
EXEMPTION_REQUIRED = frozenset({"E", "AE", "K", "G", "O"})
DEFAULT_CATEGORY = "S"

# UN/ECE Recommendation 20 unit codes (a common subset), with English labels.
UNITS: dict[str, str] = {
    "C62": "unit",
    "H87": "piece",
    "HUR": "hour",
    "DAY": "day",
    "WEE": "week",
    "MON": "month",
    "ANN": "year",
    "MIN": "minute",
    "KGM": "kilogram",
    "GRM": "gram",
    "TNE": "tonne",
    "LTR": "litre",
    "MTR": "metre",
    "MTK": "square metre",
    "MTQ": "cubic metre",
    "KMT": "kilometre",
    "SET": "set",
    "PR": "pair",
    "XPK": "package",
    "LS": "lump sum",
    "E48": "service unit",
}
DEFAULT_UNIT = "C62"
# The CLDR unit of a Rec 20 code, where CLDR has one: babel then gives localized names.
CLDR_UNITS: dict[str, str] = {
    "HUR": "duration-hour", "DAY": "duration-day", "WEE": "duration-week",
    "MON": "duration-month", "ANN": "duration-year", "MIN": "duration-minute",
    "KGM": "mass-kilogram", "GRM": "mass-gram", "TNE": "mass-tonne", "LTR": "volume-liter",
    "MTR": "length-meter", "MTK": "area-square-meter", "MTQ": "volume-cubic-meter",
    "KMT": "length-kilometer",
}
# Free-text units of rows made before units were codes, and the code each one means.
LEGACY_UNITS: dict[str, str] = {
    "": "C62", "pcs": "H87", "pc": "H87", "piece": "H87", "pieces": "H87", "stk": "H87",
    "stück": "H87", "h": "HUR", "hr": "HUR", "hour": "HUR", "hours": "HUR", "day": "DAY",
    "days": "DAY", "kg": "KGM", "l": "LTR", "m": "MTR", "set": "SET", "unit": "C62",
    "units": "C62", "ea": "C62", "each": "C62",
}

# UNTDID 4461 payment means codes the portal offers.
PAYMENT_MEANS: dict[str, str] = {
    "58": "SEPA credit transfer",
    "30": "Credit transfer",
    "49": "Direct debit",
    "48": "Bank card",
    "10": "Cash",
}
# Payment means codes that pay into the seller's account (an IBAN makes sense with them).
ACCOUNT_MEANS = frozenset({"58", "30"})

# VATEX exemption reason codes (CEF list, a common subset).
VATEX: dict[str, str] = {
    "VATEX-EU-79-C": "Exempt based on article 79, point c of Council Directive 2006/112/EC",
    "VATEX-EU-132": "Exempt based on article 132 of Council Directive 2006/112/EC",
    "VATEX-EU-143": "Exempt based on article 143 of Council Directive 2006/112/EC",
    "VATEX-EU-148": "Exempt based on article 148 of Council Directive 2006/112/EC",
    "VATEX-EU-151": "Exempt based on article 151 of Council Directive 2006/112/EC",
    "VATEX-EU-309": "Exempt based on article 309 of Council Directive 2006/112/EC",
    "VATEX-EU-AE": "Reverse charge",
    "VATEX-EU-D": "Intra-Community acquisition from second hand means of transport",
    "VATEX-EU-F": "Intra-Community acquisition of second hand goods",
    "VATEX-EU-G": "Export outside the EU",
    "VATEX-EU-I": "Intra-Community acquisition of works of art",
    "VATEX-EU-IC": "Intra-Community supply",
    "VATEX-EU-O": "Not subject to VAT",
    "VATEX-EU-J": "Intra-Community acquisition of collectors items and antiques",
    "VATEX-FR-FRANCHISE": "France domestic VAT franchise in base",
    "VATEX-FR-CNWVAT": "France domestic Credit Notes without VAT",
}

# Region codes babel knows that are not ISO 3166-1 countries.
NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "XK", "ZZ"})


def default_category(rate: Decimal | None) -> str:
    """`S` for a positive rate, `Z` at 0 % (SPEC §9 "API names")."""
    return "Z" if rate is not None and rate == 0 else DEFAULT_CATEGORY


def unit_from_legacy(text: str | None) -> str:
    """The Rec 20 code for a unit typed as free text before units were codes."""
    value = (text or "").strip()
    if value.upper() in UNITS:
        return value.upper()
    return LEGACY_UNITS.get(value.lower(), DEFAULT_UNIT)


def category_problem(category: str, rate: Decimal | None, reason: str | None) -> str | None:
    """What is wrong with a (category, rate, exemption reason) triple, or None.

    `S` needs a rate above 0 %; every other category is charged at 0 %; E, AE, K, G and O
    must say why (an exemption reason text).
    """
    if category not in VAT_CATEGORIES:
        return "unknown_category"
    rate = rate if rate is not None else Decimal(0)
    if category == "S" and rate <= 0:
        return "standard_needs_rate"
    if category != "S" and rate != 0:
        return "zero_category_needs_zero_rate"
    if category in EXEMPTION_REQUIRED and not (reason or "").strip():
        return "exemption_reason_missing"
    return None
