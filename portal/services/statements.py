"""Statements of account (SPEC §10): per customer and period, per currency, the opening
balance, every document and payment in date order with a running balance, the closing balance,
and an aging table of what is open as of the last day.

Signs are the customer's debt: an invoice adds its total, a credit note (negative) takes its
total off, a payment takes its amount off, a refund paid out on a credit note adds it back.
So closing = opening + Σ lines, and the aging table adds up to the closing balance.

Aging, as of `end`: each invoice's open amount (its total less its payments dated by then) by
days past its due date; a credit note's unrefunded amount is a credit, never past due. An
invoice cancelled by then is netted with its cancellation credit note (what is left is a credit,
or a debt still aged by the invoice's due date), so a cancelled, unpaid invoice is not shown as
both owed and credited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..domain.lifecycle import InvoiceType
from ..domain.money import minor_units
from ..formatting import format_date, format_money
from ..i18n import _
from ..models import Customer
from .documents import render_pdf
from .input import FieldErrors, clean_date
from .invoice_queries import statement_documents, statement_payments
from .representation import fixed

ZERO = Decimal(0)
BUCKETS = ("not_due", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
MAX_DAYS = 366 * 20


@dataclass
class Line:
    date: dt.date
    kind: str            # invoice, shipping_invoice, credit_note, payment, refund
    number: str
    invoice_id: int
    amount: Decimal      # signed: + the customer owes more, − less
    balance: Decimal = ZERO
    reference: str = ""
    method: str | None = None
    due_date: dt.date | None = None


@dataclass
class CurrencyStatement:
    currency: str
    opening: Decimal = ZERO
    closing: Decimal = ZERO
    lines: list[Line] = field(default_factory=list)
    aging: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))

    @property
    def aging_total(self) -> Decimal:
        return sum(self.aging.values(), ZERO)


@dataclass
class Statement:
    customer: Customer
    start: dt.date
    end: dt.date
    currencies: list[CurrencyStatement]


def clean_period(args, *, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """`from` and `to` (YYYY-MM-DD): `to` defaults to today, `from` to 1 January of `to`'s
    year; a bad date or `from` after `to` is a 400 naming the field."""
    errors = FieldErrors()
    raw_from, raw_to = args.get("from") or "", args.get("to") or ""
    end = clean_date(errors, "to", raw_to.strip()) if raw_to.strip() else None
    start = clean_date(errors, "from", raw_from.strip()) if raw_from.strip() else None
    errors.raise_if_any()
    return period(start, end, today=today)


def period(start: dt.date | None, end: dt.date | None, *,
           today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The defaults and the checks of `clean_period`, for dates already parsed."""
    errors = FieldErrors()
    end = end or today or dt.date.today()
    start = start or end.replace(month=1, day=1)
    if start > end:
        errors.add("from", _("Choose a day on or before the end of the period."))
    elif (end - start).days > MAX_DAYS:
        errors.add("from", _("Choose a period of at most 20 years."))
    errors.raise_if_any()
    return start, end


def _bucket(due: dt.date | None, end: dt.date) -> str:
    days = (end - due).days if due else 0
    if days <= 0:
        return "not_due"
    if days <= 30:
        return "days_1_30"
    if days <= 60:
        return "days_31_60"
    if days <= 90:
        return "days_61_90"
    return "days_over_90"


def build_statement(customer: Customer, start: dt.date, end: dt.date, *,
                    event_ids: list[int] | None = None) -> Statement:
    """Two queries (documents, payments), whatever the number of documents."""
    documents = statement_documents(customer, until=end, event_ids=event_ids)
    payments = statement_payments(customer, until=end, event_ids=event_ids)
    by_id = {doc.id: doc for doc in documents}
    entries: list[Line] = []
    paid: dict[int, Decimal] = {}
    for doc in documents:
        entries.append(Line(date=doc.issue_date, kind=doc.type, number=doc.number,
                            invoice_id=doc.id, amount=doc.gross_total, due_date=doc.due_date))
    for row in payments:
        doc = by_id.get(row.invoice_id)
        if doc is None:
            continue
        refund = doc.type == InvoiceType.CREDIT_NOTE
        paid[doc.id] = paid.get(doc.id, ZERO) + row.amount
        entries.append(Line(date=row.date, kind="refund" if refund else "payment",
                            number=doc.number, invoice_id=doc.id,
                            amount=row.amount if refund else -row.amount,
                            reference=row.reference or "", method=row.method))
    # Documents before payments on the same day; then in the order they were made.
    entries.sort(key=lambda e: (e.date, e.kind in ("payment", "refund"), e.invoice_id))

    statements: dict[str, CurrencyStatement] = {}
    for entry in entries:
        currency = by_id[entry.invoice_id].currency
        part = statements.setdefault(currency, CurrencyStatement(currency))
        if entry.date < start:
            part.opening += entry.amount
        else:
            part.lines.append(entry)
    for part in statements.values():
        running = part.opening
        for line in part.lines:
            running += line.amount
            line.balance = running
        part.closing = running

    # Aging as of `end`: open amounts, signed like the lines.
    open_amount = {doc.id: (abs(doc.gross_total) - paid.get(doc.id, ZERO))
                   * (-1 if doc.type == InvoiceType.CREDIT_NOTE else 1) for doc in documents}
    netted: set[int] = set()
    for doc in documents:
        if doc.type == InvoiceType.CREDIT_NOTE and doc.is_cancellation and doc.refers_id in by_id:
            original = by_id[doc.refers_id]
            left = open_amount[original.id] + open_amount[doc.id]
            netted |= {original.id, doc.id}
            if left:
                bucket = _bucket(original.due_date, end) if left > 0 else "not_due"
                statements[doc.currency].aging[bucket] += left
    for doc in documents:
        if doc.id in netted or not open_amount[doc.id]:
            continue
        bucket = "not_due" if doc.type == InvoiceType.CREDIT_NOTE else _bucket(doc.due_date, end)
        statements[doc.currency].aging[bucket] += open_amount[doc.id]
    return Statement(customer=customer, start=start, end=end,
                     currencies=[statements[c] for c in sorted(statements)])


def statement_to_dict(statement: Statement) -> dict:
    """The JSON of `GET …/customers/{id}/statement/`: amounts as strings."""
    def part(cs: CurrencyStatement) -> dict:
        places = minor_units(cs.currency)

        def amount(value):
            return fixed(value, places)

        return {
            "currency": cs.currency,
            "opening_balance": amount(cs.opening),
            "closing_balance": amount(cs.closing),
            "lines": [{
                "date": line.date.isoformat(), "type": line.kind, "number": line.number,
                "invoice_id": line.invoice_id,
                "due_date": line.due_date.isoformat() if line.due_date else None,
                "method": line.method, "reference": line.reference,
                "amount": amount(line.amount), "balance": amount(line.balance),
            } for line in cs.lines],
            "aging": {**{key: amount(value) for key, value in cs.aging.items()},
                      "total": amount(cs.aging_total)},
        }

    customer = statement.customer
    return {
        "customer": {"id": customer.id, "reference": customer.reference,
                     "name": customer.name},
        "from": statement.start.isoformat(), "to": statement.end.isoformat(),
        "currencies": [part(cs) for cs in statement.currencies],
    }


# ---------------------------------------------------------------- the page and the PDF


def statement_labels() -> dict:
    """The words of the statement, in the request's language (gettext)."""
    return {
        "title": _("Statement of account"), "period": _("Period"), "customer": _("Customer"),
        "date": _("Date"), "document": _("Document"), "due": _("Due"),
        "amount": _("Amount"), "balance": _("Balance"), "opening": _("Opening balance"),
        "closing": _("Closing balance"), "aging": _("What is open on %(day)s"),
        "nothing": _("No documents or payments in this period."),
        "invoice": _("Invoice"), "shipping_invoice": _("Shipping invoice"),
        "credit_note": _("Credit note"), "payment": _("Payment"), "refund": _("Refund"),
        "not_due": _("Not due"), "days_1_30": _("1–30 days"), "days_31_60": _("31–60 days"),
        "days_61_90": _("61–90 days"), "days_over_90": _("Over 90 days"), "total": _("Total"),
        "page": _("Page"), "of": _("of"),
    }


def statement_context(statement: Statement, locale: str, seller: dict) -> dict:
    """A plain dict for the PDF (no ORM objects): every figure formatted for `locale`."""
    def day(value):
        return format_date(value, locale) if value else ""

    labels = statement_labels()
    labels["aging"] = _("What is open on %(day)s", day=day(statement.end))
    customer = statement.customer
    return {
        "locale": (locale or "en").split("-")[0],
        "labels": labels,
        "seller": {"name": seller.get("company") or seller.get("legal_name") or "",
                   "lines": [v for v in (seller.get("street1"), " ".join(filter(None, (
                       seller.get("postal_code"), seller.get("city")))),
                       seller.get("country")) if v]},
        "customer": {"name": customer.name or customer.reference,
                     "reference": customer.reference},
        "start": day(statement.start), "end": day(statement.end),
        "currencies": [{
            "currency": cs.currency,
            "opening": format_money(cs.opening, cs.currency, locale),
            "closing": format_money(cs.closing, cs.currency, locale),
            "lines": [{"date": day(line.date), "kind": labels[line.kind], "number": line.number,
                       "due": day(line.due_date), "reference": line.reference,
                       "amount": format_money(line.amount, cs.currency, locale),
                       "balance": format_money(line.balance, cs.currency, locale)}
                      for line in cs.lines],
            "aging": [(labels[key], format_money(cs.aging[key], cs.currency, locale))
                      for key in BUCKETS],
            "aging_total": format_money(cs.aging_total, cs.currency, locale),
        } for cs in statement.currencies],
    }


def statement_pdf(statement: Statement, locale: str, seller: dict) -> bytes:
    return render_pdf("pdf/statement.html", statement_context(statement, locale, seller))
