"""Organizers, users, memberships and events."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain import einvoice
from ..domain.money import CURRENCY_MINOR_UNITS
from ..errors import ConflictError, NotFoundError, ValidationError
from ..extensions import db
from ..i18n import _
from ..models import Event, Membership, Organizer, Role, User
from ..models.organizer import SELLER_FIELDS
from ..models.types import utcnow
from . import audit, numbering
from .audit import Actor
from .input import (
    FieldErrors,
    clean_bool,
    clean_country,
    clean_date,
    clean_decimal,
    clean_electronic_address,
    clean_email,
    clean_locale,
    clean_payment_means,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
MIN_PASSWORD = 10


def clean_seller(errors: FieldErrors, raw: dict, prefix: str = "seller") -> dict:
    seller = {}
    for key in SELLER_FIELDS:
        value = (raw or {}).get(key) or ""
        if key == "electronic_address":
            seller[key] = clean_electronic_address(errors, f"{prefix}.{key}", value or None)
            continue
        if not isinstance(value, str):
            errors.add(f"{prefix}.{key}", _("Enter text."))
            value = ""
        if key == "country":
            value = clean_country(errors, f"{prefix}.{key}", value) or ""
        elif key == "email":
            value = clean_email(errors, f"{prefix}.{key}", value) or ""
        elif len(value) > 100:
            errors.add(f"{prefix}.{key}", _("Use at most 100 characters."))
        seller[key] = value.strip() if isinstance(value, str) else value
    return seller


def create_organizer(slug: str, name: str, *, seller: dict | None = None,
                     actor: Actor) -> Organizer:
    errors = FieldErrors()
    if not SLUG.match(slug or ""):
        errors.add("slug", _("Use lowercase letters, digits and dashes (at most 50)."))
    elif db.session.scalar(select(Organizer.id).where(Organizer.slug == slug)):
        errors.add("slug", _("This slug is taken."))
    if not (name or "").strip():
        errors.add("name", _("This field is required."))
    clean = clean_seller(errors, seller or {})
    if errors:
        raise ValidationError(dict(errors))
    organizer = Organizer(slug=slug, name=name.strip(), seller=clean)
    db.session.add(organizer)
    db.session.flush()
    audit.record(actor, "create", organizer_id=organizer.id, object_type="organizer",
                 object_id=organizer.id)
    return organizer


def hash_password(password: str) -> str:
    # scrypt: memory-hard, Werkzeug's default and a modern scheme.
    return generate_password_hash(password, method="scrypt")


def create_user(email: str, password: str, *, name: str = "", locale: str = "en") -> User:
    errors = FieldErrors()
    email = clean_email(errors, "email", email, required=True)
    if email and db.session.scalar(select(User.id).where(User.email == email.lower())):
        errors.add("email", "A user with this e-mail exists already.")
    if len(password or "") < MIN_PASSWORD:
        errors.add("password", f"Use at least {MIN_PASSWORD} characters.")
    if errors:
        raise ValidationError(dict(errors))
    user = User(email=email.lower(), name=name, password_hash=hash_password(password),
                locale=locale)
    db.session.add(user)
    db.session.flush()
    return user


def add_membership(user: User, organizer: Organizer, role: str, *,
                   events: list[Event] | None = None, actor: Actor) -> Membership:
    errors = FieldErrors()
    if role not in {r.value for r in Role}:
        errors.add("role", _("Choose owner, manager or viewer."))
    if events and any(e.organizer_id != organizer.id for e in events):
        errors.add("events", _("Choose events of this organizer."))
    existing = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organizer_id == organizer.id))
    if existing is not None:
        errors.add("email", _("This user is a member already."))
    if errors:
        raise ValidationError(dict(errors))
    membership = Membership(user=user, organizer=organizer, role=role,
                            all_events=not events, events=list(events or []))
    db.session.add(membership)
    db.session.flush()
    audit.record(actor, "add_member", organizer_id=organizer.id, object_type="membership",
                 object_id=membership.id, data={"user": user.email, "role": role})
    return membership


EVENT_SETTINGS = ("name", "currency", "locale", "invoice_prefix", "proforma_prefix",
                  "shipping_prefix", "due_days", "introductory_text", "additional_text",
                  "payment_text", "footer_text", "terms_text", "seller_override", "start_date",
                  "end_date", "payment_means", "einvoicing", "texts_by_locale",
                  "default_tax_rate")


def _clean_texts_by_locale(errors: FieldErrors, value) -> dict:
    """{locale: {text name: text}}: the event's texts in other languages (SPEC §14)."""
    from ..i18n import SUPPORTED_LOCALES
    from ..models.event import TEXT_FIELDS

    out: dict[str, dict[str, str]] = {}
    if value in (None, ""):
        return out
    if not isinstance(value, dict):
        errors.add("texts_by_locale", _("Give an object of locales and their texts."))
        return out
    for locale, texts in value.items():
        field = f"texts_by_locale.{locale}"
        if locale not in SUPPORTED_LOCALES:
            errors.add(field, _("Unknown locale: use one of %(locales)s.",
                                 locales=", ".join(SUPPORTED_LOCALES)))
            continue
        if not isinstance(texts, dict):
            errors.add(field, _("Give an object of texts."))
            continue
        kept = {}
        for name, text in texts.items():
            if name not in TEXT_FIELDS:
                errors.add(f"{field}.{name}", _("Unknown text: use one of %(names)s.",
                                                names=", ".join(TEXT_FIELDS)))
            elif not isinstance(text, str) or len(text) > 5000:
                errors.add(f"{field}.{name}", _("Give a text of at most 5000 characters."))
            elif text.strip():
                kept[name] = text
        if kept:
            out[locale] = kept
    return out


def clean_event_settings(data: dict, *, current: Event | None = None) -> dict:
    errors = FieldErrors()
    out = {}
    for key in data:
        if key not in EVENT_SETTINGS and key != "slug":
            errors.add(key, _("Unknown field."))
    if "name" in data:
        if not (data["name"] or "").strip() or len(data["name"]) > 200:
            errors.add("name", _("Give a name of at most 200 characters."))
        out["name"] = (data["name"] or "").strip()
    if "currency" in data:
        if data["currency"] not in CURRENCY_MINOR_UNITS:
            errors.add("currency", _("Unknown ISO 4217 currency code."))
        out["currency"] = data["currency"]
    if "locale" in data:
        out["locale"] = clean_locale(errors, "locale", data["locale"]) or "en"
    for key in ("invoice_prefix", "proforma_prefix", "shipping_prefix"):
        if key in data:
            value = (data[key] or "").strip()
            if len(value) > 30 or not re.fullmatch(r"[A-Za-z0-9/_.-]*", value):
                errors.add(key, _("Use at most 30 letters, digits, / _ . or -."))
            out[key] = value
    prefixes = {k: out.get(k, getattr(current, k, None) if current else None) or ""
                for k in ("invoice_prefix", "proforma_prefix", "shipping_prefix")}
    if any(k in data for k in prefixes):
        for key, messages in numbering.check_prefixes(**prefixes).items():
            for message in messages:
                errors.add(key, message)
    if "due_days" in data:
        try:
            out["due_days"] = int(data["due_days"])
            if not 0 <= out["due_days"] <= 3650:
                raise ValueError
        except (TypeError, ValueError):
            errors.add("due_days", _("Enter a whole number of days from 0 to 3650."))
    for key in ("introductory_text", "additional_text", "payment_text", "footer_text",
                "terms_text"):
        if key in data:
            out[key] = data[key] or ""
    if "texts_by_locale" in data:
        out["texts_by_locale"] = _clean_texts_by_locale(errors, data["texts_by_locale"])
    if "default_tax_rate" in data:
        out["default_tax_rate"] = clean_decimal(errors, "default_tax_rate",
                                                data["default_tax_rate"], places=3,
                                                minimum=0, maximum=100, allow_none=True)
    if "seller_override" in data:
        out["seller_override"] = {k: v for k, v in clean_seller(
            errors, data["seller_override"] or {}, "seller_override").items() if v}
    for key in ("start_date", "end_date"):
        if key in data:
            out[key] = clean_date(errors, key, data[key])
    start = out.get("start_date", current.start_date if current else None)
    end = out.get("end_date", current.end_date if current else None)
    if start and end and end < start:
        errors.add("end_date", _("The event cannot end before it starts."))
    if "payment_means" in data:
        out["payment_means"] = _means_or_none(clean_payment_means(errors, "payment_means",
                                                                  data["payment_means"]))
    _clean_einvoicing(errors, data, out, current)
    if errors:
        raise ValidationError(dict(errors))
    return out


def _clean_einvoicing(errors: FieldErrors, data: dict, out: dict, current: Event | None) -> None:
    """E-invoicing is on by default, but EN 16931 allows two decimals at most (SPEC §11): a
    currency with more cannot have it on. Asked for explicitly, that is an error; implied (a new
    event, a changed currency), it is switched off."""
    currency = out.get("currency") or (current.currency if current else "EUR")
    possible = einvoice.can_einvoice(currency)
    if "einvoicing" in data:
        wanted = clean_bool(errors, "einvoicing", data["einvoicing"])
        if wanted is None:
            return
        out["einvoicing"] = bool(wanted)
        if wanted and not possible and currency in CURRENCY_MINOR_UNITS:
            errors.add("einvoicing", f"E-invoices allow two decimals at most; {currency} has "
                       f"{CURRENCY_MINOR_UNITS[currency]}, so e-invoicing cannot be on.")
    elif not possible and (current is None or "currency" in out):
        out["einvoicing"] = False


def _means_or_none(means: dict | None) -> dict | None:
    """Payment means with nothing but a code are no payment means (a blank form)."""
    if not means or not (means.get("iban") or means.get("account_name")
                         or means.get("code") not in (None, "", "58")):
        return None
    return means


LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 512 * 1024


def update_profile(organizer: Organizer, data: dict, *, actor: Actor,
                   logo: bytes | None = None, remove_logo: bool = False) -> Organizer:
    """The organizer profile (owner): seller legal data, payment means, logo (SPEC §9).

    `data` may hold `name`, `seller` and `payment_means`; a logo must be a PNG or JPEG of at
    most 512 KB (checked by its first bytes, not by what the browser claims)."""
    errors = FieldErrors()
    changes: dict = {}
    for key in data:
        if key not in ("name", "seller", "payment_means"):
            errors.add(key, _("Unknown field."))
    if "name" in data:
        name = (data["name"] or "").strip() if isinstance(data["name"], str) else ""
        if not name or len(name) > 200:
            errors.add("name", _("Give a name of at most 200 characters."))
        changes["name"] = name
    if "seller" in data:
        changes["seller"] = clean_seller(errors, data["seller"] if isinstance(data["seller"], dict)
                                         else {})
    if "payment_means" in data:
        changes["payment_means"] = _means_or_none(clean_payment_means(
            errors, "payment_means", data["payment_means"]))
    if logo is not None:
        kind = next((t for magic, t in LOGO_TYPES.items() if logo.startswith(magic)), None)
        if kind is None:
            errors.add("logo", _("Upload a PNG or JPEG image."))
        elif len(logo) > MAX_LOGO_BYTES:
            errors.add("logo", _("The logo may be at most 512 KB."))
        else:
            changes["logo"], changes["logo_type"] = logo, kind
    elif remove_logo:
        changes["logo"], changes["logo_type"] = None, None
    if errors:
        raise ValidationError(dict(errors))
    for key, value in changes.items():
        setattr(organizer, key, value)
    db.session.flush()
    audit.record(actor, "edit", organizer_id=organizer.id, object_type="organizer",
                 object_id=organizer.id, data={"fields": sorted(changes)})
    return organizer


def create_event(organizer: Organizer, slug: str, name: str, *, actor: Actor,
                 **settings) -> Event:
    errors = FieldErrors()
    if not SLUG.match(slug or ""):
        errors.add("slug", _("Use lowercase letters, digits and dashes (at most 50)."))
    elif db.session.scalar(select(Event.id).where(Event.organizer_id == organizer.id,
                                                  Event.slug == slug)):
        errors.add("slug", _("This organizer has an event with this slug already."))
    base = settings.get("invoice_prefix") or f"{(slug or '').upper()[:10]}-"
    defaults = {"invoice_prefix": base, "proforma_prefix": f"{base}PF-",
                "shipping_prefix": f"{base}DN-", "currency": "EUR", "locale": "en",
                "due_days": 14}
    try:  # every problem at once: the slug's and the settings'
        clean = clean_event_settings({**defaults, **settings, "name": name})
    except ValidationError as error:
        for key, messages in error.fields.items():
            for message in messages:
                errors.add(key, message)
    if errors:
        raise ValidationError(dict(errors))
    event = Event(organizer=organizer, organizer_id=organizer.id, slug=slug, **clean)
    db.session.add(event)
    db.session.flush()
    numbering.ensure_sequences(event.id)
    audit.record(actor, "create", organizer_id=organizer.id, event_id=event.id,
                 object_type="event", object_id=event.id)
    return event


def update_event(event: Event, data: dict, *, actor: Actor) -> Event:
    if event.archived:
        raise ConflictError(_("This event is archived; restore it to change it."))
    clean = clean_event_settings(data, current=event)
    for key, value in clean.items():
        setattr(event, key, value)
    db.session.flush()
    audit.record(actor, "edit", organizer_id=event.organizer_id, event_id=event.id,
                 object_type="event", object_id=event.id, data={"fields": sorted(clean)})
    return event


def archive_event(event: Event, *, actor: Actor) -> Event:
    """Archive: the event becomes read-only and leaves the default lists (nothing is
    deleted; its invoices stay readable and their numbers stay taken)."""
    if event.archived:
        raise ConflictError(_("This event is archived already."))
    event.archived_at = utcnow()
    db.session.flush()
    audit.record(actor, "archive", organizer_id=event.organizer_id, event_id=event.id,
                 object_type="event", object_id=event.id)
    return event


def restore_event(event: Event, *, actor: Actor) -> Event:
    """Undo `archive_event`: the event can be changed and is listed again."""
    if not event.archived:
        raise ConflictError(_("This event is not archived."))
    event.archived_at = None
    db.session.flush()
    audit.record(actor, "restore", organizer_id=event.organizer_id, event_id=event.id,
                 object_type="event", object_id=event.id)
    return event


# ---------------------------------------------------------------- members (back office)


def _full_owners(organizer_id: int, *, excluding: int | None = None) -> int:
    """Owners who see every event: an organizer must always keep one."""
    query = select(func.count(Membership.id)).where(
        Membership.organizer_id == organizer_id, Membership.role == Role.OWNER.value,
        Membership.all_events.is_(True))
    if excluding is not None:
        query = query.where(Membership.id != excluding)
    return db.session.scalar(query) or 0


def invite_member(organizer: Organizer, email: str, role: str, *, name: str = "",
                  events: list[Event] | None = None,
                  actor: Actor) -> tuple[Membership, str | None]:
    """Give a person a role in the organizer, by e-mail.

    Someone without an account gets one with a generated first password, returned here to be
    shown once; an existing user just gains the membership (their password stays theirs).
    """
    errors = FieldErrors()
    address = clean_email(errors, "email", email, required=True)
    if errors:
        raise ValidationError(dict(errors))
    user = db.session.scalar(select(User).where(User.email == address.lower()))
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = create_user(address, password, name=(name or "").strip()[:200])
    return add_membership(user, organizer, role, events=events, actor=actor), password


def update_membership(membership: Membership, *, role: str, events: list[Event] | None,
                      actor: Actor) -> Membership:
    """Change a member's role and event limit; the last full owner cannot be demoted."""
    errors = FieldErrors()
    if role not in {r.value for r in Role}:
        errors.add("role", _("Choose owner, manager or viewer."))
    if events and any(e.organizer_id != membership.organizer_id for e in events):
        errors.add("events", _("Choose events of this organizer."))
    stays_full_owner = role == Role.OWNER.value and not events
    if not stays_full_owner and _full_owners(membership.organizer_id,
                                             excluding=membership.id) == 0:
        errors.add("role", _("The organizer needs at least one owner who sees every event."))
    if errors:
        raise ValidationError(dict(errors))
    before = {"role": membership.role, "all_events": membership.all_events}
    membership.role = role
    membership.all_events = not events
    membership.events = list(events or [])
    db.session.flush()
    audit.record(actor, "edit_member", organizer_id=membership.organizer_id,
                 object_type="membership", object_id=membership.id,
                 data={"user": membership.user.email, "before": before,
                       "role": role, "events": [e.slug for e in events or []]})
    return membership


def remove_membership(membership: Membership, *, actor: Actor) -> None:
    """End a membership (the user account stays); never the last full owner."""
    if _full_owners(membership.organizer_id, excluding=membership.id) == 0:
        raise ValidationError({"role": [
            _("The organizer needs at least one owner who sees every event.")]},
            _("The last owner cannot be removed."))
    audit.record(actor, "remove_member", organizer_id=membership.organizer_id,
                 object_type="membership", object_id=membership.id,
                 data={"user": membership.user.email, "role": membership.role})
    db.session.delete(membership)
    db.session.flush()


def change_password(user: User, current: str, new: str) -> User:
    """Set a new password; other sessions of the user end (their session version is stale)."""
    errors = FieldErrors()
    if not check_password_hash(user.password_hash, current or ""):
        errors.add("current_password", _("This is not your current password."))
    if len(new or "") < MIN_PASSWORD:
        errors.add("new_password", f"Use at least {MIN_PASSWORD} characters.")
    if errors:
        raise ValidationError(dict(errors))
    user.password_hash = hash_password(new)
    user.session_version += 1
    db.session.flush()
    return user


def time_zones() -> list[str]:
    """The IANA zones a user may choose (babel reads them through zoneinfo)."""
    import zoneinfo

    return sorted(zone for zone in zoneinfo.available_timezones()
                  if "/" in zone and not zone.startswith(("Etc/", "posix/", "right/",
                                                          "SystemV/")))


def update_account_settings(user: User, *, timezone: str) -> User:
    """The user's own settings: the time zone the back office shows times in ("" = UTC)."""
    errors = FieldErrors()
    timezone = (timezone or "").strip()
    if timezone and timezone not in time_zones():
        errors.add("timezone", _("Choose a time zone from the list."))
    if errors:
        raise ValidationError(dict(errors))
    user.timezone = timezone
    db.session.flush()
    return user


def end_sessions(user: User) -> User:
    """Sign the user out everywhere: every session carries the old session version."""
    user.session_version += 1
    db.session.flush()
    return user


def memberships_of(user: User) -> list[Membership]:
    """The user's memberships with their organizers' events, by organizer name (dashboard)."""
    return list(db.session.scalars(
        select(Membership).join(Organizer).where(Membership.user_id == user.id)
        .options(selectinload(Membership.organizer).selectinload(Organizer.events),
                 selectinload(Membership.events))
        .order_by(Organizer.name)))


def organizer_memberships(organizer: Organizer) -> list[Membership]:
    """The organizer's members with their users and events, oldest first."""
    return list(db.session.scalars(
        select(Membership).where(Membership.organizer_id == organizer.id)
        .options(joinedload(Membership.user), selectinload(Membership.events))
        .order_by(Membership.id)))


def membership_of_organizer(organizer: Organizer, membership_id: int) -> Membership:
    """One of the organizer's memberships; anyone else's is the same 404 as a missing one."""
    membership = db.session.scalar(select(Membership).where(
        Membership.organizer_id == organizer.id, Membership.id == membership_id))
    if membership is None:
        raise NotFoundError()
    return membership
