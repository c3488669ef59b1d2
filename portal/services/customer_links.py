"""Signed links that bring a customer in without the key (SPEC §14).

- The **invoice link** in every invoice mail opens that one invoice: it names the invoice, its
  customer and the customer's key generation (`key_version`), and is valid for 30 days.
  Rotating the key bumps the generation, which voids every link handed out before.
- The **recovery link** is mailed to a customer who lost the key and asked by e-mail address;
  it signs the customer in and is valid for an hour (`CUSTOMER_RECOVERY_LINK_MAX_AGE`). It
  carries the key generation and the session generation, so rotating the key or signing out
  everywhere voids it too.

Both are HMAC-signed with `SECRET_KEY` (itsdangerous, one salt per kind, so neither can stand
in for the other). The moment a link was made is inside the signed payload and checked
against `now`, which a caller (a test) may give.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..extensions import db
from ..models import Customer, Invoice

INVOICE_LINK_MAX_AGE = 30 * 24 * 3600
RECOVERY_LINK_MAX_AGE = 3600
_INVOICE_SALT = "portal.customer-invoice-link"
_RECOVERY_SALT = "portal.customer-recovery-link"


def _serializer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _now(now: float | None) -> int:
    return int(time.time() if now is None else now)


def _public_url(endpoint: str, **values) -> str:
    """`endpoint` on PUBLIC_BASE_URL (the links leave in mails; see customers.magic_link)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    urls = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                    url_scheme=base.scheme)
    return urls.build(endpoint, values, force_external=True)


# ---------------------------------------------------------------- one invoice


def invoice_token(invoice: Invoice, *, now: float | None = None) -> str:
    customer = invoice.customer
    return _serializer(_INVOICE_SALT).dumps(
        {"i": invoice.id, "c": customer.id, "k": customer.key_version, "t": _now(now)})


def invoice_link(invoice: Invoice) -> str:
    return _public_url("customer.invoice_link", token=invoice_token(invoice))


def read_invoice_token(token: str, *, now: float | None = None) -> tuple[Customer, int] | None:
    """(customer, invoice id) of a valid link; None when tampered, expired or voided."""
    payload = _load(_INVOICE_SALT, token, INVOICE_LINK_MAX_AGE, now)
    if payload is None or not isinstance(payload.get("i"), int):
        return None
    customer = db.session.get(Customer, payload.get("c"))
    if customer is None or customer.key_version != payload.get("k"):
        return None
    return customer, payload["i"]


# ---------------------------------------------------------------- recovery


def recovery_max_age() -> int:
    return int(current_app.config.get("CUSTOMER_RECOVERY_LINK_MAX_AGE") or RECOVERY_LINK_MAX_AGE)


def recovery_token(customer: Customer, *, now: float | None = None) -> str:
    return _serializer(_RECOVERY_SALT).dumps(
        {"c": customer.id, "k": customer.key_version, "s": customer.session_version,
         "t": _now(now)})


def recovery_link(customer: Customer) -> str:
    return _public_url("customer.recovery_link", token=recovery_token(customer))


def read_recovery_token(token: str, *, now: float | None = None) -> Customer | None:
    payload = _load(_RECOVERY_SALT, token, recovery_max_age(), now)
    if payload is None:
        return None
    customer = db.session.get(Customer, payload.get("c"))
    if (customer is None or customer.key_version != payload.get("k")
            or customer.session_version != payload.get("s")):
        return None
    return customer


def _load(salt: str, token: str, max_age: int, now: float | None) -> dict | None:
    if not token or len(token) > 500:
        return None
    try:
        payload = _serializer(salt).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        return None
    issued = payload.get("t")
    if not isinstance(issued, int) or not 0 <= _now(now) - issued <= max_age:
        return None
    return payload
