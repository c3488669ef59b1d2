"""Invoice arithmetic: rounding, tax, line and invoice discounts, charges and totals.

Every figure an invoice shows is derived here, so the forms, the PDF, the API and the stored
totals cannot disagree. The module is pure standard library and `Decimal` only: a binary float
cannot hold a cent exactly, and one stray float would quietly break the rule every result
enforces, net + tax == gross to the minor unit.

Amounts are entered in the *entry basis* (gross when prices include tax, else net). The entered
figure is kept as rounded and the other one is derived from it, which is what keeps each
triple balanced and what lets a gross price of 399.00 stay 399.00 on the invoice. The rounding
rule only decides *where* rounding happens (per unit, per line, or once per tax group), because
shops, wholesalers and tax offices expect different conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum


class RoundingMode(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    HALF_DOWN = "half_down"
    DOWN = "down"  # toward zero, also for negative amounts


class RoundingRule(StrEnum):
    """Where rounding happens: on the unit price, on each line, or once per tax group."""

    PER_ITEM = "per_item"
    PER_LINE = "per_line"
    TOTAL = "total"


class DiscountType(StrEnum):
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"


class MoneyError(ValueError):
    """Input the rules do not define, or a net + tax != gross triple."""


class UnknownCurrencyError(MoneyError):
    """No known minor unit, so the amount cannot be rounded and must not be invoiced."""


MAX_DISCOUNTS = 5

# ISO 4217 minor-unit exponents (the ISO figure even where cash practice differs, e.g. HUF 2).
CURRENCY_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP
        BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
        GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP
        LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
        NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
        STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW
        ZWL""".split(),
        2,
    ),
    **dict.fromkeys(
        "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split(), 0
    ),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
    **dict.fromkeys("CLF UYW".split(), 4),
}

_DECIMAL_ROUNDING = {
    RoundingMode.HALF_UP: ROUND_HALF_UP,
    RoundingMode.HALF_EVEN: ROUND_HALF_EVEN,
    RoundingMode.HALF_DOWN: ROUND_HALF_DOWN,
    RoundingMode.DOWN: ROUND_DOWN,
}

# A private context so results never depend on whatever decimal context the caller (or a
# library) installed; 40 digits keeps the "exact" unrounded sums of the TOTAL rule exact for
# any realistic invoice, and the traps turn silent NaNs into errors.
_CTX = Context(
    prec=40, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)
_ZERO = Decimal(0)


def minor_units(currency: str) -> int:
    try:
        return CURRENCY_MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise UnknownCurrencyError(f"unknown currency {currency!r}") from None


def _enum(kind, value):
    """Accept the enum or its string value (forms and JSON deliver strings)."""
    try:
        return kind(value)
    except ValueError:
        raise MoneyError(f"invalid {kind.__name__}: {value!r}") from None


def _q(amount: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    """The one rounding primitive. A negative amount that rounds to zero would print as
    "-0.00"; it is returned as 0.00 instead."""
    result = amount.quantize(quantum, rounding=rounding, context=_CTX)
    return result.copy_abs() if not result else result


def _rounder(currency: str, mode: RoundingMode | str) -> Callable[[Decimal], Decimal]:
    """`q` of the spec: bound once per invoice because currency and mode never change within it."""
    quantum = Decimal(1).scaleb(-minor_units(currency))
    rounding = _DECIMAL_ROUNDING[_enum(RoundingMode, mode)]
    return lambda amount: _q(amount, quantum, rounding)


def _need_decimals(obj, names: Sequence[str], optional: Sequence[str] = ()) -> None:
    """Only finite Decimals are money: a float or NaN would corrupt every figure derived from
    it, and refusing ints too keeps a single number type from form to PDF."""
    for name in (*names, *optional):
        value = getattr(obj, name)
        if value is None and name in optional:
            continue
        if not isinstance(value, Decimal) or not value.is_finite():
            raise MoneyError(f"{type(obj).__name__}.{name} must be a finite Decimal: {value!r}")


def quantize(
    amount: Decimal, currency: str, mode: RoundingMode | str = RoundingMode.HALF_UP
) -> Decimal:
    """Round to the currency's minor unit; the result always carries exactly that many
    decimals, so str() is ready to print ("399.00", JPY "12", KWD "1.235")."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise MoneyError(f"amount must be a finite Decimal: {amount!r}")
    return _rounder(currency, mode)(amount)


def tax_from_net(net: Decimal, rate: Decimal) -> Decimal:
    """Unrounded tax on a net amount; rounding is the caller's decision (see RoundingRule)."""
    with localcontext(_CTX):
        return net * rate / 100


def tax_from_gross(gross: Decimal, rate: Decimal) -> Decimal:
    """Unrounded tax contained in a gross amount."""
    with localcontext(_CTX):
        return gross * rate / (100 + rate)


def _tax(base: Decimal, rate: Decimal, gross: bool) -> Decimal:
    return tax_from_gross(base, rate) if gross else tax_from_net(base, rate)


def _neg(amount: Decimal) -> Decimal:
    """Exact negation (copy_negate ignores context precision) that never produces -0."""
    return amount.copy_negate() if amount else amount


def _negate(result, keep: tuple[str, ...] = ("rate", "value")):
    """Mirror every amount of a frozen result. Rates and discount values describe the
    document, they are not money, so a credit note keeps them as they were."""
    return replace(
        result,
        **{
            f.name: _neg(getattr(result, f.name))
            for f in fields(result)
            if f.name not in keep and isinstance(getattr(result, f.name), Decimal)
        },
    )


def _check_balanced(obj) -> None:
    if not all(isinstance(getattr(obj, n), Decimal) for n in ("net", "tax", "gross")):
        raise MoneyError(f"amounts must be Decimals: {obj!r}")
    if obj.net + obj.tax != obj.gross:
        raise MoneyError(f"net {obj.net} + tax {obj.tax} != gross {obj.gross}")


@dataclass(frozen=True)
class Taxed:
    """A net/tax/gross triple. Construction checks net + tax == gross, so an unbalanced
    figure cannot be stored, summed or shown."""

    net: Decimal
    tax: Decimal
    gross: Decimal

    def __post_init__(self) -> None:
        _check_balanced(self)

    @classmethod
    def zero(cls) -> Taxed:
        return Taxed(_ZERO, _ZERO, _ZERO)

    def __add__(self, other: Taxed) -> Taxed:
        if not isinstance(other, Taxed):
            return NotImplemented
        return Taxed(self.net + other.net, self.tax + other.tax, self.gross + other.gross)

    def __sub__(self, other: Taxed) -> Taxed:
        if not isinstance(other, Taxed):
            return NotImplemented
        return Taxed(self.net - other.net, self.tax - other.tax, self.gross - other.gross)

    def __neg__(self) -> Taxed:
        return _negate(self)


@dataclass(frozen=True)
class LineResult(Taxed):
    """A priced line; `discount` is the rounded line discount in the entry basis (0 if none)."""

    discount: Decimal


@dataclass(frozen=True)
class TaxGroup:
    """All amounts taxed under one (VAT category, code, rate): one row of the invoice's tax
    summary. The category (UNCL 5305, `domain.codelists`) comes last so that groups built
    positionally before categories existed still read as standard-rated."""

    code: str
    rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    category: str = "S"

    def __post_init__(self) -> None:
        _check_balanced(self)

    @property
    def taxable(self) -> Decimal:
        return self.net


@dataclass(frozen=True)
class AppliedDiscount:
    """One invoice discount as applied: `amount` is the cut in the discount basis, and
    net/tax/gross is how it reduced the tax groups."""

    type: DiscountType
    value: Decimal
    amount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal

    def __post_init__(self) -> None:
        _check_balanced(self)


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal  # in the entry basis; negative for correction lines
    tax_rate: Decimal  # percent
    tax_code: str = ""
    discount_rate: Decimal | None = None  # percent of the line
    discount_amount: Decimal | None = None  # for the whole line, in the entry basis
    weight: Decimal | None = None  # per unit
    tax_category: str = "S"  # UNCL 5305 VAT category; part of the tax group's key


@dataclass(frozen=True)
class DiscountInput:
    type: DiscountType
    value: Decimal  # percent for PERCENT_OFF, money for AMOUNT_OFF


@dataclass(frozen=True)
class ChargeInput:
    amount: Decimal  # in the entry basis
    tax_rate: Decimal
    tax_code: str | None = None  # None: join the first group with the same rate
    tax_category: str | None = None  # None: that group's category (or S / Z by the rate)


@dataclass(frozen=True)
class InvoiceInput:
    currency: str
    lines: Sequence[LineInput]
    prices_include_tax: bool = False
    mode: RoundingMode = RoundingMode.HALF_UP
    rule: RoundingRule = RoundingRule.PER_LINE
    discounts: Sequence[DiscountInput] = ()
    discounts_include_tax: bool = False
    shipping: ChargeInput | None = None
    payment: ChargeInput | None = None


@dataclass(frozen=True)
class InvoiceTotals:
    """Everything an invoice prints. The stages chain exactly:
    prediscount - discount == subtotal, subtotal + shipping + payment == total == sum(groups)."""

    lines: tuple[LineResult, ...]
    groups: tuple[TaxGroup, ...]  # final: after discounts, with charges
    discounts: tuple[AppliedDiscount, ...]
    prediscount: Taxed
    discount: Taxed  # sum of the cuts, positive
    subtotal: Taxed
    shipping: Taxed | None
    payment: Taxed | None
    total: Taxed
    quantity: Decimal
    weight: Decimal

    def negated(self) -> InvoiceTotals:
        """The credit note's figures: the stored invoice mirrored exactly. Recomputing from
        negated inputs is avoided on purpose, since rounding modes are not symmetric (DOWN,
        ties) and a credit note must cancel its invoice to the cent."""
        many = {n: tuple(map(_negate, getattr(self, n))) for n in ("lines", "groups", "discounts")}
        one = {
            n: None if (value := getattr(self, n)) is None else _negate(value)
            for n in ("prediscount", "discount", "subtotal", "shipping", "payment", "total")
        }
        return replace(self, **many, **one)


def _split(base: Decimal, tax: Decimal, gross: bool) -> Taxed:
    """Keep the entered (rounded) base and derive the other figure from it."""
    return Taxed(base - tax, tax, base) if gross else Taxed(base, tax, base + tax)


def _settle(q, base: Decimal, rate: Decimal, gross: bool) -> Taxed:
    """Round a base once, then its tax once: the per_line step, reused for line fallbacks,
    TOTAL groups, discount shares and charges because all of them follow that same rule."""
    base = q(base)
    return _split(base, q(_tax(base, rate, gross)), gross)


def _line(line: LineInput, rule: RoundingRule, q, gross: bool) -> tuple[LineResult, Decimal]:
    """Price one line and also return its exact base, which TOTAL sums per tax group.

    PER_ITEM rounds the unit price first, the way a price tag shows it, and for whole
    quantities without a line discount charges the rounded unit tax per piece, so that n
    items cost exactly n times the tag. Anything else has no meaningful "per piece", so it
    falls back to one rounded base and one rounded tax. TOTAL lines are displayed the
    PER_LINE way; only their group sums differ.
    """
    price = q(line.unit_price) if rule is RoundingRule.PER_ITEM else line.unit_price
    raw = price * line.quantity
    if line.discount_rate is not None:
        cut = raw * line.discount_rate / 100
    else:
        cut = line.discount_amount or _ZERO
    if rule is RoundingRule.PER_ITEM:
        raw, cut = q(raw), q(cut)
        whole = line.quantity == line.quantity.to_integral_value()
        if whole and not (line.discount_rate or line.discount_amount):
            unit_tax = q(_tax(price, line.tax_rate, gross))
            t = _split(raw, q(unit_tax * line.quantity), gross)
            return LineResult(t.net, t.tax, t.gross, discount=cut), raw
    t = _settle(q, raw - cut, line.tax_rate, gross)
    return LineResult(t.net, t.tax, t.gross, discount=q(cut)), raw - cut


def _apply_discount(d: DiscountInput, groups: dict, q, gross: bool, zero: Taxed) -> AppliedDiscount:
    """Cut one invoice discount from the running subtotal and spread it over the groups.

    Spreading by each group's share of the subtotal lowers every rate's tax by what that
    rate bore, as VAT requires; the last live group takes the remainder so the rounded
    shares add up to the cut exactly. `groups` is updated in place.
    """
    kind = _enum(DiscountType, d.type)

    def basis(t: Taxed) -> Decimal:
        return t.gross if gross else t.net

    running = sum(map(basis, groups.values()), q(_ZERO))
    if running <= 0:
        cut = q(_ZERO)  # nothing left to discount; a discount never creates a charge
    elif kind is DiscountType.PERCENT_OFF:
        cut = q(running * d.value / 100)
    else:
        cut = min(q(d.value), running)
    live = [key for key, t in groups.items() if basis(t)] if cut else []
    shares = {key: q(cut * basis(groups[key]) / running) for key in live[:-1]}
    if live:
        shares[live[-1]] = cut - sum(shares.values(), q(_ZERO))
    taken = zero
    for key, share in shares.items():
        part = _settle(q, share, key[2], gross)
        groups[key] -= part
        taken += part
    return AppliedDiscount(kind, d.value, cut, taken.net, taken.tax, taken.gross)


def _add_charge(c: ChargeInput, groups: dict, q, gross: bool, zero: Taxed) -> Taxed:
    """Tax a shipping/payment charge like a per_line line and book it into a tax group.
    Without a code it joins the first group of its rate (and category, when given), so a
    charge does not add a row to the tax summary just because nobody picked a code for it."""
    t = _settle(q, c.amount, c.tax_rate, gross)
    category = c.tax_category
    if c.tax_code is None:
        key = next((k for k in groups if k[2] == c.tax_rate
                    and (category is None or k[0] == category)),
                   (category or ("Z" if c.tax_rate == 0 else "S"), "", c.tax_rate))
    else:
        key = (category or ("Z" if c.tax_rate == 0 else "S"), c.tax_code, c.tax_rate)
    groups[key] = groups.get(key, zero) + t
    return t


def _validate(inv: InvoiceInput) -> None:
    """Refuse what the rules do not define before any arithmetic, so a bad form can never
    produce a plausible-looking but wrong invoice."""
    if len(inv.discounts) > MAX_DISCOUNTS:
        raise MoneyError(f"at most {MAX_DISCOUNTS} invoice discounts")
    for line in inv.lines:
        _need_decimals(
            line,
            ("quantity", "unit_price", "tax_rate"),
            ("discount_rate", "discount_amount", "weight"),
        )
        if line.quantity <= 0:
            raise MoneyError(f"quantity must be positive: {line.quantity}")
        if line.tax_rate < 0:
            raise MoneyError(f"tax rate must not be negative: {line.tax_rate}")
        if line.discount_rate is not None and line.discount_amount is not None:
            raise MoneyError("a line takes a discount rate or a discount amount, not both")
        if line.discount_rate is not None and not 0 <= line.discount_rate <= 100:
            raise MoneyError(f"line discount rate must be within 0..100: {line.discount_rate}")
    for d in inv.discounts:
        kind = _enum(DiscountType, d.type)
        _need_decimals(d, ("value",))
        if kind is DiscountType.PERCENT_OFF and not 0 < d.value <= 100:
            raise MoneyError(f"percent_off must be within (0, 100]: {d.value}")
        if kind is DiscountType.AMOUNT_OFF and d.value <= 0:
            raise MoneyError(f"amount_off must be positive: {d.value}")
    for charge in (inv.shipping, inv.payment):
        if charge is not None:
            _need_decimals(charge, ("amount", "tax_rate"))
            if charge.tax_rate < 0:
                raise MoneyError(f"tax rate must not be negative: {charge.tax_rate}")


def compute_invoice(inv: InvoiceInput) -> InvoiceTotals:
    """Price an invoice: lines -> tax groups -> invoice discounts -> charges -> totals.

    Tax groups are keyed by (VAT category, tax code, rate) in order of first appearance
    (SPEC §9: an exempt and a zero-rated line at 0 % are different rows), because that is
    the order the tax summary prints in and the order discount remainders follow.
    """
    rule = _enum(RoundingRule, inv.rule)
    q = _rounder(inv.currency, inv.mode)
    _validate(inv)
    gross = bool(inv.prices_include_tax)
    with localcontext(_CTX):
        zero = Taxed(q(_ZERO), q(_ZERO), q(_ZERO))
        lines: list[LineResult] = []
        groups: dict[tuple[str, str, Decimal], Taxed] = {}
        exact: dict[tuple[str, str, Decimal], Decimal] = {}
        for line in inv.lines:
            result, base = _line(line, rule, q, gross)
            key = (line.tax_category, line.tax_code, line.tax_rate)
            lines.append(result)
            groups[key] = groups.get(key, zero) + result
            exact[key] = exact.get(key, _ZERO) + base
        if rule is RoundingRule.TOTAL:
            groups = {key: _settle(q, base, key[2], gross) for key, base in exact.items()}

        prediscount = sum(groups.values(), zero)
        applied = tuple(
            _apply_discount(d, groups, q, bool(inv.discounts_include_tax), zero)
            for d in inv.discounts
        )
        subtotal = sum(groups.values(), zero)
        shipping, payment = (
            None if c is None else _add_charge(c, groups, q, gross, zero)
            for c in (inv.shipping, inv.payment)
        )
        weight = sum((line.quantity * (line.weight or _ZERO) for line in inv.lines), _ZERO)
        return InvoiceTotals(
            lines=tuple(lines),
            groups=tuple(TaxGroup(c, r, t.net, t.tax, t.gross, category=cat)
                         for (cat, c, r), t in groups.items()),
            discounts=applied,
            prediscount=prediscount,
            discount=sum((Taxed(a.net, a.tax, a.gross) for a in applied), zero),
            subtotal=subtotal,
            shipping=shipping,
            payment=payment,
            total=sum(groups.values(), zero),
            quantity=sum((line.quantity for line in inv.lines), _ZERO),
            weight=_q(weight, Decimal("0.001"), ROUND_HALF_UP),
        )
