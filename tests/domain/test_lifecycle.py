"""The lifecycle table against an expectation written out independently from SPEC §3."""

import pytest

from portal.domain.lifecycle import (
    Action,
    IllegalTransitionError,
    InvoiceStatus,
    InvoiceType,
    allowed_actions,
    next_status,
)

GONE = "gone"
# SPEC §3, transcribed by hand: status -> {action: new status}.
EXPECTED = {
    "draft": {"edit": "draft", "delete": GONE, "close": "open"},
    "open": {"send": "sent", "pay": "paid", "dispute": "disputed", "cancel": "cancelled"},
    "sent": {"send": "sent", "pay": "paid", "dispute": "disputed", "cancel": "cancelled"},
    "disputed": {"send": "disputed", "pay": "paid", "resolve": "sent", "cancel": "cancelled"},
    "paid": {"send": "paid", "cancel": "cancelled", "archive": "archived"},
    "cancelled": {"archive": "archived"},
    "archived": {},
}
# SPEC §3: a proforma is not paid; a credit note is neither cancelled nor disputed.
TYPE_REFUSED = {("proforma", "pay"), ("credit_note", "cancel"), ("credit_note", "dispute")}

ALL_PAIRS = [(s.value, a.value) for s in InvoiceStatus for a in Action]


@pytest.mark.parametrize("invoice_type", [t.value for t in InvoiceType])
@pytest.mark.parametrize(("status", "action"), ALL_PAIRS)
def test_every_status_action_pair(invoice_type, status, action):
    expected = EXPECTED[status].get(action)
    if expected is None or (invoice_type, action) in TYPE_REFUSED:
        with pytest.raises(IllegalTransitionError):
            next_status(status, action, invoice_type)
    else:
        result = next_status(status, action, invoice_type)
        assert (GONE if result is None else result.value) == expected


def test_refusal_messages_say_why():
    with pytest.raises(IllegalTransitionError, match="cannot be paid"):
        next_status("draft", "pay", "invoice")
    with pytest.raises(IllegalTransitionError, match="proforma"):
        next_status("open", "pay", "proforma")
    with pytest.raises(IllegalTransitionError, match="credit note cannot be cancelled"):
        next_status("open", "cancel", "credit_note")
    with pytest.raises(IllegalTransitionError, match="credit note cannot be disputed"):
        next_status("sent", "dispute", "credit_note")


def test_unknown_status_or_action_is_refused_not_crashing():
    with pytest.raises(IllegalTransitionError):
        next_status("lost", "pay", "invoice")
    with pytest.raises(IllegalTransitionError):
        next_status("open", "refund", "invoice")


def test_allowed_actions_are_the_buttons_to_show():
    assert allowed_actions("open", "invoice") == ["send", "pay", "dispute", "cancel"]
    assert allowed_actions("open", "proforma") == ["send", "dispute", "cancel"]
    assert allowed_actions("draft", "invoice") == ["edit", "delete", "close"]
    assert allowed_actions("archived", "invoice") == []
