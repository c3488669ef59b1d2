"""The invoice lifecycle as one table.

Every (status, action) pair not in `TRANSITIONS` is refused with `IllegalTransitionError`;
nothing is ever a silent no-op. Type-specific refusals (a proforma cannot be paid, a credit note
cannot be cancelled) live in `TYPE_REFUSALS` beside the table so the whole rule set reads in one
screen.
"""

from __future__ import annotations

from enum import StrEnum


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    SENT = "sent"
    PAID = "paid"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"
    ARCHIVED = "archived"


class InvoiceType(StrEnum):
    INVOICE = "invoice"
    PROFORMA = "proforma"
    SHIPPING_INVOICE = "shipping_invoice"
    CREDIT_NOTE = "credit_note"


class Action(StrEnum):
    EDIT = "edit"
    DELETE = "delete"
    CLOSE = "close"
    SEND = "send"
    PAY = "pay"
    DISPUTE = "dispute"
    RESOLVE = "resolve"
    CANCEL = "cancel"
    ARCHIVE = "archive"


S, A = InvoiceStatus, Action

# (status, action) -> new status. `None` as the new status means "the invoice is gone".
TRANSITIONS: dict[tuple[InvoiceStatus, Action], InvoiceStatus | None] = {
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.DELETE): None,
    (S.DRAFT, A.CLOSE): S.OPEN,
    (S.OPEN, A.SEND): S.SENT,
    (S.SENT, A.SEND): S.SENT,
    (S.DISPUTED, A.SEND): S.DISPUTED,
    (S.PAID, A.SEND): S.PAID,
    (S.OPEN, A.PAY): S.PAID,
    (S.SENT, A.PAY): S.PAID,
    (S.DISPUTED, A.PAY): S.PAID,
    (S.OPEN, A.DISPUTE): S.DISPUTED,
    (S.SENT, A.DISPUTE): S.DISPUTED,
    (S.DISPUTED, A.RESOLVE): S.SENT,
    (S.OPEN, A.CANCEL): S.CANCELLED,
    (S.SENT, A.CANCEL): S.CANCELLED,
    (S.DISPUTED, A.CANCEL): S.CANCELLED,
    (S.PAID, A.CANCEL): S.CANCELLED,
    (S.PAID, A.ARCHIVE): S.ARCHIVED,
    (S.CANCELLED, A.ARCHIVE): S.ARCHIVED,
}

TYPE_REFUSALS: dict[tuple[InvoiceType, Action], str] = {
    (InvoiceType.PROFORMA, A.PAY): "A proforma is an offer, not a claim: it cannot be paid.",
    (InvoiceType.CREDIT_NOTE, A.CANCEL): "A credit note cannot be cancelled.",
    (InvoiceType.CREDIT_NOTE, A.DISPUTE): "A credit note cannot be disputed; it owes the "
                                          "buyer money.",
}

# Invoice types whose cancellation issues a credit note.
CREDITED_TYPES = frozenset({InvoiceType.INVOICE, InvoiceType.SHIPPING_INVOICE})


class IllegalTransitionError(Exception):
    def __init__(self, status: str, action: str, reason: str | None = None):
        self.status, self.action = status, action
        super().__init__(reason or f"An invoice in status “{status}” cannot be {_PAST[action]}.")


_PAST = {
    A.EDIT: "edited", A.DELETE: "deleted", A.CLOSE: "closed", A.SEND: "sent", A.PAY: "paid",
    A.DISPUTE: "disputed", A.RESOLVE: "resolved", A.CANCEL: "cancelled", A.ARCHIVE: "archived",
}


def next_status(status: str, action: str, invoice_type: str | None = None) -> InvoiceStatus | None:
    """The status after `action`, or IllegalTransitionError. `None` means deleted."""
    try:
        key = (InvoiceStatus(status), Action(action))
    except ValueError as exc:
        raise IllegalTransitionError(status, action, f"Unknown status or action: {exc}") from None
    if key not in TRANSITIONS:
        raise IllegalTransitionError(status, action)
    if invoice_type is not None:
        reason = TYPE_REFUSALS.get((InvoiceType(invoice_type), key[1]))
        if reason:
            raise IllegalTransitionError(status, action, reason)
    return TRANSITIONS[key]


def allowed_actions(status: str, invoice_type: str) -> list[Action]:
    """The actions a button may be shown for, in table order."""
    result = []
    for action in Action:
        try:
            next_status(status, action, invoice_type)
        except IllegalTransitionError:
            continue
        result.append(action)
    return result
