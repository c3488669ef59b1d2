"""The EN 16931 semantic model of a frozen invoice: one mapping, two syntaxes (CII and UBL).

Pure: standard library and `Decimal` only. `build(frozen)` takes a plain dict of the frozen
invoice (the shape below, the CONTRACT.md names plus the stored figures) and returns an
`EInvoice` whose fields carry the EN 16931 business terms (BT-/BG- numbers in the comments).
The XML writers in services/documents/xml.py only spell this model out; no figure is computed
there.

The figures are the stored ones (a closed invoice's numbers never move). Three rules bridge our
money model to EN 16931's:

- Credit notes store negated figures; EN 16931 wants a credit note (type 381) with *positive*
  amounts and the preceding invoice (BT-25/26), so every amount is taken as its absolute value.
- Tax groups are keyed by (category, tax code, rate) here and by (category, rate) in EN 16931
  (BG-23); groups that differ only in the tax code are merged.
- Invoice discounts are spread over the tax groups (SPEC §2a), which is what a document-level
  allowance (BG-20, one VAT category and rate each) expresses: per group, the allowance is
  Σ line nets + charges − the group's taxable amount, exactly, from the stored figures. Under the
  `total` rounding rule the lines show rounded figures whose sum may differ from the group's
  base by a cent; that difference is stated too (an allowance or charge "Rounding"), so
  BR-CO-10/13 and BR-S-08 hold to the cent.

The frozen dict (amounts are Decimals, dates are `datetime.date`):
    type, number, issue_date, due_date, currency, prices_include_tax,
    seller {legal_name, company, street1, street2, city, postal_code, state, country, vat_id,
            tax_number, registration_id, registration_scheme, contact_name, email, phone,
            electronic_address {id, scheme} | None},
    billing_address {company, name | first_name/last_name, street1, street2, city, postal_code,
            state, country, vat_id, email, phone, electronic_address, registration_id},
    shipping_address {...} | None, buyer_reference, order_code, delivery_date, period_start,
    period_end, payment_means {code, iban, bic, account_name} | None,
    preceding_invoice {number, issue_date} | None,
    lines [{position, sku, description, quantity, unit, unit_price, tax_rate, tax_category,
            discount_rate, discount_amount, net_amount, request_note}],
    taxes [{category, code, rate, taxable, amount, exemption_reason, exemption_code}],
    discounts [{type, value, amount}],
    shipping {name, net, tax_rate, tax_code, tax_category} | None, payment {...} | None,
    totals {net, tax, gross}, texts {payment, terms, additional, ...}.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .money import minor_units

TYPE_CODES = {"invoice": "380", "shipping_invoice": "380", "credit_note": "381"}
# EN 16931 amounts have at most two decimals (BR-DEC-*): more minor units cannot be e-invoiced.
MAX_MINOR_UNITS = 2
CATEGORIES = ("S", "Z", "E", "AE", "K", "G", "O", "L", "M")
EXEMPT_CATEGORIES = ("E", "AE", "K", "G", "O")
DEFAULT_EXEMPTION = {
    "AE": ("Reverse charge", "VATEX-EU-AE"),
    "K": ("Intra-community supply", "VATEX-EU-IC"),
    "G": ("Export outside the EU", "VATEX-EU-G"),
    "O": ("Not subject to VAT", "VATEX-EU-O"),
}
DISCOUNT_REASON = ("95", "Discount")
ROUNDING_REASON = "Rounding"
# BR-CO-25 wants terms or a due date when an amount is due; a credit note's is a refund.
CREDIT_TERMS = "Credit for invoice {number}; the amount will be refunded."
PRICE_DECIMALS = Decimal("0.000001")


class NotAnEInvoiceError(ValueError):
    """This document gets no XML: a proforma, or a currency with more than 2 minor units."""


def can_einvoice(currency: str) -> bool:
    """EN 16931 allows two decimals at most (BR-DEC): KWD, BHD … cannot turn it on."""
    try:
        return minor_units(currency) <= MAX_MINOR_UNITS
    except ValueError:
        return False


@dataclass(frozen=True)
class Address:  # BG-5 / BG-8 / BG-15
    line1: str = ""
    line2: str = ""
    city: str = ""
    postal_code: str = ""
    subdivision: str = ""
    country: str = ""


@dataclass(frozen=True)
class Party:  # BG-4 seller / BG-7 buyer
    name: str  # BT-27 / BT-44
    trading_name: str = ""  # BT-28 / BT-45
    address: Address = field(default_factory=Address)
    vat_id: str = ""  # BT-31 / BT-48
    tax_number: str = ""  # BT-32
    legal_id: str = ""  # BT-30 / BT-47
    legal_scheme: str = ""
    endpoint_id: str = ""  # BT-34 / BT-49
    endpoint_scheme: str = ""
    contact_name: str = ""  # BT-41 / BT-56
    phone: str = ""  # BT-42 / BT-57
    email: str = ""  # BT-43 / BT-58


@dataclass(frozen=True)
class AllowanceCharge:  # BG-20 / BG-21 (document) and BG-27 (line)
    charge: bool
    amount: Decimal  # BT-92 / BT-99 / BT-136
    reason: str  # BT-97 / BT-104 / BT-139
    reason_code: str = ""  # BT-98 / BT-105 / BT-140
    category: str = ""  # BT-95 / BT-102 (document level only)
    rate: Decimal | None = None  # BT-96 / BT-103


@dataclass(frozen=True)
class Line:  # BG-25
    id: str  # BT-126
    name: str  # BT-153
    quantity: Decimal  # BT-129
    unit: str  # BT-130 (Rec 20)
    net_amount: Decimal  # BT-131
    price: Decimal  # BT-146 (net, before line allowances)
    category: str  # BT-151
    rate: Decimal  # BT-152
    seller_item_id: str = ""  # BT-155
    note: str = ""  # BT-127
    allowances: tuple[AllowanceCharge, ...] = ()  # BG-27


@dataclass(frozen=True)
class VatBreakdown:  # BG-23
    category: str  # BT-118
    rate: Decimal  # BT-119
    taxable: Decimal  # BT-116
    tax: Decimal  # BT-117
    exemption_reason: str = ""  # BT-120
    exemption_code: str = ""  # BT-121


@dataclass(frozen=True)
class PaymentMeans:  # BG-16
    code: str  # BT-81
    iban: str = ""  # BT-84
    account_name: str = ""  # BT-85
    bic: str = ""  # BT-86


@dataclass(frozen=True)
class EInvoice:
    number: str  # BT-1
    issue_date: dt.date  # BT-2
    type_code: str  # BT-3
    currency: str  # BT-5
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    vat: tuple[VatBreakdown, ...]
    allowances: tuple[AllowanceCharge, ...]  # BG-20 and BG-21
    line_total: Decimal  # BT-106
    allowance_total: Decimal  # BT-107
    charge_total: Decimal  # BT-108
    tax_exclusive: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive: Decimal  # BT-112
    payable: Decimal  # BT-115
    due_date: dt.date | None = None  # BT-9
    buyer_reference: str = ""  # BT-10
    order_reference: str = ""  # BT-13
    preceding_number: str = ""  # BT-25
    preceding_date: dt.date | None = None  # BT-26
    delivery_date: dt.date | None = None  # BT-72
    period_start: dt.date | None = None  # BT-73
    period_end: dt.date | None = None  # BT-74
    deliver_to_name: str = ""  # BT-70
    deliver_to: Address | None = None  # BG-15
    payment_means: PaymentMeans | None = None
    payment_terms: str = ""  # BT-20
    notes: tuple[str, ...] = ()  # BT-22
    decimals: int = 2

    @property
    def is_credit_note(self) -> bool:
        return self.type_code == "381"

    def amount(self, value: Decimal) -> str:
        """An amount as the XML carries it: the currency's decimals, never '-0'."""
        q = Decimal(1).scaleb(-self.decimals)
        return f"{value.quantize(q, rounding=ROUND_HALF_UP):f}"


# ------------------------------------------------------------------------------- mapping


def _s(value) -> str:
    return "" if value is None else str(value).strip()


def _d(value) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _abs(value) -> Decimal:
    return _d(value).copy_abs()


def _plain(value: Decimal) -> Decimal:
    """A quantity or price without trailing zeros past what it needs (never exponent form)."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _address(data: dict) -> Address:
    return Address(line1=_s(data.get("street1")), line2=_s(data.get("street2")),
                   city=_s(data.get("city")), postal_code=_s(data.get("postal_code")),
                   subdivision=_s(data.get("state")), country=_s(data.get("country")).upper())


def _endpoint(data: dict) -> tuple[str, str]:
    address = data.get("electronic_address") or {}
    if address.get("id"):
        return _s(address["id"]), _s(address.get("scheme")) or "EM"
    return "", ""


def _icd(scheme) -> str:
    """BT-30's scheme must be an ISO 6523 ICD code (BR-CL-11), e.g. 0002; a register's name
    ("Amtsgericht Berlin") is no such code and is left out (the PDF prints it)."""
    value = _s(scheme)
    return value if re.fullmatch(r"\d{4}", value) else ""


def _seller(data: dict) -> Party:
    endpoint, scheme = _endpoint(data)
    if not endpoint and data.get("email"):  # Peppol wants an endpoint; e-mail is the fallback
        endpoint, scheme = _s(data["email"]), "EM"
    name = _s(data.get("legal_name")) or _s(data.get("company"))
    trading = _s(data.get("company"))
    return Party(name=name, trading_name=trading if trading != name else "",
                 address=_address(data), vat_id=_s(data.get("vat_id")),
                 tax_number=_s(data.get("tax_number")),
                 legal_id=_s(data.get("registration_id")),
                 legal_scheme=_icd(data.get("registration_scheme")),
                 endpoint_id=endpoint, endpoint_scheme=scheme,
                 contact_name=_s(data.get("contact_name")), phone=_s(data.get("phone")),
                 email=_s(data.get("email")))


def _person(data: dict) -> str:
    name = _s(data.get("name"))
    if not name:
        name = " ".join(p for p in (_s(data.get("first_name")), _s(data.get("last_name"))) if p)
    return name


def _buyer(data: dict) -> Party:
    endpoint, scheme = _endpoint(data)
    if not endpoint and data.get("email"):
        endpoint, scheme = _s(data["email"]), "EM"
    person = _person(data)
    company = _s(data.get("company"))
    return Party(name=company or person, address=_address(data),
                 vat_id=_s(data.get("vat_id")),
                 legal_id=_s(data.get("registration_id")),
                 endpoint_id=endpoint, endpoint_scheme=scheme,
                 contact_name=person if company else "", phone=_s(data.get("phone")),
                 email=_s(data.get("email")))


def _q(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _line(data: dict, frozen: dict, decimals: int) -> Line:
    quantity = _abs(data["quantity"])
    net = _abs(data["net_amount"])
    rate = _abs(data.get("tax_rate"))
    price = _abs(data["unit_price"])
    has_discount = bool(data.get("discount_rate") or data.get("discount_amount"))
    gross_entry = bool(frozen.get("prices_include_tax"))
    rule = (frozen.get("rounding") or {}).get("rule", frozen.get("rounding_rule", "per_line"))
    allowances: tuple[AllowanceCharge, ...] = ()
    if gross_entry:
        price = price * 100 / (100 + rate)
    if rule == "per_item" and not gross_entry:
        price = _q(price, decimals)
    if has_discount:
        undiscounted = _q(price * quantity, decimals)
        cut = undiscounted - net
        if cut > 0:
            allowances = (AllowanceCharge(False, cut, DISCOUNT_REASON[1], DISCOUNT_REASON[0]),)
        else:
            price = net / quantity
    elif gross_entry or rule == "total":
        price = net / quantity
    price = _plain(price.quantize(PRICE_DECIMALS, rounding=ROUND_HALF_UP))
    note = _s(data.get("request_note"))
    return Line(id=str(data.get("position") or ""), name=_s(data.get("description")),
                quantity=_plain(quantity), unit=_s(data.get("unit")) or "C62", net_amount=net,
                price=price, category=_s(data.get("tax_category")), rate=rate,
                seller_item_id=_s(data.get("sku")), note=note, allowances=allowances)


def _charges(frozen: dict) -> list[tuple[str, dict]]:
    out = []
    for key, label in (("shipping", "Shipping"), ("payment", "Payment fee")):
        charge = frozen.get(key)
        if charge and _d(charge.get("net")):
            out.append((_s(charge.get("name")) or label, charge))
    return out


def _key(category: str, rate: Decimal) -> tuple[str, Decimal]:
    return category, rate.normalize()


def build(frozen: dict) -> EInvoice:
    """The EN 16931 model of a frozen invoice; NotAnEInvoiceError for a proforma or a currency
    with more than two minor units. Validation is the schematron's job, not this one's: a
    missing VAT category is mapped as empty and reported as BR-CO-18/BR-CL-17 by the rules."""
    kind = frozen.get("type", "invoice")
    if kind not in TYPE_CODES:
        raise NotAnEInvoiceError(f"a {kind} gets no e-invoice")
    currency = frozen["currency"]
    if not can_einvoice(currency):
        raise NotAnEInvoiceError(f"{currency} has more than {MAX_MINOR_UNITS} minor units")
    decimals = minor_units(currency)
    lines = tuple(_line(line, frozen, decimals) for line in frozen.get("lines", ()))

    # BG-23 per (category, rate); the stored groups, merged across tax codes.
    vat: dict[tuple[str, Decimal], dict] = {}
    for tax in frozen.get("taxes", ()):
        category = _s(tax.get("category"))
        rate = _abs(tax.get("rate"))
        row = vat.setdefault(_key(category, rate), {
            "category": category, "rate": rate, "taxable": Decimal(0), "tax": Decimal(0),
            "reason": _s(tax.get("exemption_reason")), "code": _s(tax.get("exemption_code"))})
        row["taxable"] += _abs(tax.get("taxable"))
        row["tax"] += _abs(tax.get("amount"))
        row["reason"] = row["reason"] or _s(tax.get("exemption_reason"))
        row["code"] = row["code"] or _s(tax.get("exemption_code"))

    # BG-21 charges: shipping and payment, each in its own category and rate.
    document_charges: list[AllowanceCharge] = []
    booked: dict[tuple[str, Decimal], Decimal] = {}
    for name, charge in _charges(frozen):
        category = _s(charge.get("tax_category"))
        rate = _abs(charge.get("tax_rate"))
        amount = _abs(charge.get("net"))
        document_charges.append(AllowanceCharge(True, amount, name, "", category, rate))
        booked[_key(category, rate)] = booked.get(_key(category, rate), Decimal(0)) + amount
    for line in lines:
        key = _key(line.category, line.rate)
        booked[key] = booked.get(key, Decimal(0)) + line.net_amount

    # BG-20 allowances: per group, what the lines and charges book minus its taxable amount.
    has_discounts = any(_d(d.get("amount")) for d in frozen.get("discounts", ()))
    document_allowances: list[AllowanceCharge] = []
    for key, row in vat.items():
        difference = booked.get(key, Decimal(0)) - row["taxable"]
        if not difference:
            continue
        if difference > 0 and has_discounts:
            document_allowances.append(AllowanceCharge(
                False, difference, DISCOUNT_REASON[1], DISCOUNT_REASON[0], row["category"],
                row["rate"]))
        else:
            document_allowances.append(AllowanceCharge(
                difference < 0, difference.copy_abs(), ROUNDING_REASON, "", row["category"],
                row["rate"]))

    breakdown = []
    for row in vat.values():
        reason, code = row["reason"], row["code"]
        if row["category"] in EXEMPT_CATEGORIES and not (reason or code):
            reason, code = DEFAULT_EXEMPTION.get(row["category"], ("", ""))
        breakdown.append(VatBreakdown(row["category"], row["rate"], row["taxable"], row["tax"],
                                      reason, code))

    line_total = sum((line.net_amount for line in lines), Decimal(0))
    allowance_total = sum((a.amount for a in document_allowances if not a.charge), Decimal(0))
    charge_total = sum((a.amount for a in (*document_charges, *document_allowances)
                        if a.charge), Decimal(0))
    totals = frozen.get("totals") or {}
    tax_total = _abs(totals.get("tax"))
    tax_exclusive = _abs(totals.get("net"))
    tax_inclusive = _abs(totals.get("gross"))

    means = frozen.get("payment_means") or None
    payment_means = None
    if means and means.get("code") and kind != "credit_note":
        payment_means = PaymentMeans(_s(means["code"]), iban=_s(means.get("iban")).replace(" ", ""),
                                     account_name=_s(means.get("account_name")),
                                     bic=_s(means.get("bic")))
    texts = frozen.get("texts") or {}
    preceding = frozen.get("preceding_invoice") or {}
    shipping_address = frozen.get("shipping_address") or None
    period_start, period_end = frozen.get("period_start"), frozen.get("period_end")
    delivery = frozen.get("delivery_date")
    if not (delivery or (period_start and period_end)):
        delivery = frozen.get("issue_date")  # the supply is taken as made on the invoice date
    notes = tuple(t for t in (_s(texts.get("additional")),) if t)
    return EInvoice(
        number=_s(frozen.get("number")), issue_date=frozen["issue_date"],
        type_code=TYPE_CODES[kind], currency=currency,
        seller=_seller(frozen.get("seller") or {}),
        buyer=_buyer(frozen.get("billing_address") or {}),
        lines=lines, vat=tuple(breakdown),
        allowances=(*document_allowances, *document_charges),
        line_total=line_total, allowance_total=allowance_total, charge_total=charge_total,
        tax_exclusive=tax_exclusive, tax_total=tax_total, tax_inclusive=tax_inclusive,
        payable=tax_inclusive,
        due_date=frozen.get("due_date") if kind != "credit_note" else None,
        buyer_reference=_s(frozen.get("buyer_reference")),
        order_reference=_s(frozen.get("order_code")),
        preceding_number=_s(preceding.get("number")),
        preceding_date=preceding.get("issue_date"),
        delivery_date=delivery,
        period_start=period_start if period_start and period_end else None,
        period_end=period_end if period_start and period_end else None,
        deliver_to_name=_person(shipping_address) if shipping_address else "",
        deliver_to=_address(shipping_address) if shipping_address else None,
        payment_means=payment_means,
        payment_terms=(_s(texts.get("payment")) if kind != "credit_note"
                       else CREDIT_TERMS.format(number=_s(preceding.get("number")))),
        notes=notes, decimals=decimals,
    )
