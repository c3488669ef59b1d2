"""Customers and their secret keys."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select

from ..errors import ValidationError
from ..extensions import db
from ..i18n import _
from ..models import Customer, Organizer
from ..models.types import utcnow
from . import audit
from .audit import Actor
from .input import FieldErrors, clean_email, clean_locale, clean_text
from .invoice_input import clean_address
from .secrets import hash_secret, matches, new_secret

KEY_PREFIX = "ck_"
CUSTOMER_FIELDS = ("reference", "name", "email", "locale", "billing_address")


def _clean(errors: FieldErrors, data: dict, *, creating: bool) -> dict:
    out = {}
    for key in data:
        if key not in CUSTOMER_FIELDS and key not in ("id", "key", "created_at"):
            errors.add(key, _("Unknown field."))
    if creating or "reference" in data:
        out["reference"] = clean_text(errors, "reference", data.get("reference"), max_length=64,
                                 required=True)
    if "name" in data or creating:
        out["name"] = clean_text(errors, "name", data.get("name"), max_length=200) or ""
    if "email" in data or creating:
        out["email"] = clean_email(errors, "email", data.get("email"))
    if "locale" in data:
        out["locale"] = clean_locale(errors, "locale", data.get("locale")) or "en"
    if "billing_address" in data:
        out["billing_address"] = clean_address(errors, "billing_address",
                                               data.get("billing_address")) or {}
    return out


def _check_unique(organizer_id: int, reference: str, errors: FieldErrors, exclude_id=None) -> None:
    query = select(Customer.id).where(Customer.organizer_id == organizer_id,
                                      Customer.reference == reference)
    if exclude_id:
        query = query.where(Customer.id != exclude_id)
    if reference and db.session.scalar(query) is not None:
        errors.add("reference", "A customer with this reference exists already.")


def create_customer(organizer: Organizer, data: dict, *, actor: Actor) -> tuple[Customer, str]:
    """Make a customer; returns it with its key, which is shown this once and never again."""
    errors = FieldErrors()
    clean = _clean(errors, data, creating=True)
    _check_unique(organizer.id, clean.get("reference"), errors)
    if errors:
        raise ValidationError(dict(errors))
    key = KEY_PREFIX + new_secret()
    customer = Customer(organizer_id=organizer.id, key_hash=hash_secret(key), key_version=1,
                        locale=clean.pop("locale", None) or "en", **clean)
    db.session.add(customer)
    db.session.flush()
    audit.record(actor, "create", organizer_id=organizer.id, object_type="customer",
                 object_id=customer.id, data={"reference": customer.reference})
    return customer, key


def update_customer(customer: Customer, data: dict, *, actor: Actor) -> Customer:
    errors = FieldErrors()
    clean = _clean(errors, data, creating=False)
    if "reference" in clean:
        _check_unique(customer.organizer_id, clean["reference"], errors, exclude_id=customer.id)
    if errors:
        raise ValidationError(dict(errors))
    for key, value in clean.items():
        setattr(customer, key, value)
    db.session.flush()
    audit.record(actor, "edit", organizer_id=customer.organizer_id, object_type="customer",
                 object_id=customer.id, data={"fields": sorted(clean)})
    return customer


def rotate_key(customer: Customer, *, actor: Actor) -> str:
    """A new key; the old one stops working at once and its sessions end (key_version)."""
    key = KEY_PREFIX + new_secret()
    customer.key_hash = hash_secret(key)
    customer.key_version += 1
    customer.key_rotated_at = utcnow()
    db.session.flush()
    audit.record(actor, "rotate_key", organizer_id=customer.organizer_id,
                 object_type="customer", object_id=customer.id)
    return key


def end_sessions(customer: Customer) -> Customer:
    """Sign the customer out everywhere: every session carries the old session version.
    The key keeps working (rotate it when it is the key that leaked)."""
    customer.session_version += 1
    db.session.flush()
    return customer


def customer_for_key(key: str | None) -> Customer | None:
    """The customer holding `key`, or None. Unknown and malformed keys look the same."""
    if not key or len(key) > 200:
        return None
    customer = db.session.scalar(select(Customer).where(Customer.key_hash == hash_secret(key)))
    if customer is None or not matches(key, customer.key_hash):
        return None
    return customer


def customers_with_email(address: str) -> list[Customer]:
    """Every customer (of any organizer) whose e-mail address is `address`, ignoring case."""
    address = (address or "").strip().lower()
    if not address or len(address) > 254:
        return []
    return list(db.session.scalars(select(Customer).where(
        func.lower(Customer.email) == address).order_by(Customer.id)))


def magic_link(key: str) -> str:
    """The link that signs the customer holding `key` in, on the public address.

    Built on `PUBLIC_BASE_URL` (scheme, host and any path prefix), not on the address of the
    request at hand: the link is handed out (shown in the back office, printed by a CLI
    command) and must work from outside. `url_for` would need a request or SERVER_NAME, and
    take the request's host; this is the same URL map build on the public address instead.
    """
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    urls = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                    url_scheme=base.scheme)
    return urls.build("customer.access_link", {"key": key}, force_external=True)
