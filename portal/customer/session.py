"""The customer session: who is signed in with a customer key, and whether that still holds.

The session keeps the customer's id and the `key_version` of the key it signed in with, never
the key. Every request re-reads the customer and compares the version, so rotating a key
(which bumps the version) ends every session opened with the old key at once; "sign out
everywhere" bumps the customer's session version, which ends every session but keeps the key.

Sessions are kept on the server (portal/sessions): signing in moves the session to a new id
(no fixation) and signing out deletes the old one, so a copy of the cookie taken before
opens nothing afterwards.
"""

from __future__ import annotations

from flask import g, session
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Customer
from ..sessions import renew_session_id

CUSTOMER_ID = "customer_id"
KEY_VERSION = "customer_key_version"
SESSION_VERSION = "customer_session_version"
# Set when the session came from an invoice link (SPEC §14): it opens that invoice only.
INVOICE_SCOPE = "customer_invoice_scope"
# Why a session ended (`g.session_ended`): the key was rotated, or "sign out everywhere".
ENDED_KEY_CHANGED = "key_changed"
ENDED_EVERYWHERE = "signed_out_everywhere"


def sign_in(customer: Customer, *, scope: int | None = None) -> None:
    """`scope`: an invoice id when an invoice link signed the customer in (that one only)."""
    # Only the customer's own entries are replaced: an organizer signed in in the same
    # browser stays signed in. The id changes all the same.
    renew_session_id()
    if scope is None:
        session.pop(INVOICE_SCOPE, None)
    else:
        session[INVOICE_SCOPE] = scope
    session[CUSTOMER_ID] = customer.id
    session[KEY_VERSION] = customer.key_version
    session[SESSION_VERSION] = customer.session_version
    session.permanent = True
    g.customer = customer


def sign_out() -> None:
    session.pop(CUSTOMER_ID, None)
    session.pop(KEY_VERSION, None)
    session.pop(SESSION_VERSION, None)
    session.pop(INVOICE_SCOPE, None)
    g.customer = None


def invoice_scope() -> int | None:
    """The one invoice this session may open, or None when the key opened the whole area."""
    scope = session.get(INVOICE_SCOPE)
    return scope if isinstance(scope, int) else None


def current_customer() -> Customer | None:
    """The signed-in customer, or None; a session whose key was rotated, or whose customer
    signed out everywhere, is ended here."""
    if "customer" in g:
        return g.customer
    customer, ended = None, ENDED_KEY_CHANGED
    customer_id, version = session.get(CUSTOMER_ID), session.get(KEY_VERSION)
    if isinstance(customer_id, int) and isinstance(version, int):
        customer = db.session.scalar(select(Customer).where(Customer.id == customer_id)
                                     .options(joinedload(Customer.organizer)))
        if customer is None or customer.key_version != version:
            customer = None
        elif customer.session_version != session.get(SESSION_VERSION):
            customer, ended = None, ENDED_EVERYWHERE
    if customer is None and CUSTOMER_ID in session:
        g.session_ended = ended
        sign_out()
    g.customer = customer
    return customer
