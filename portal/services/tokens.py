"""API tokens: made (shown once), found by their hash, revoked."""

from __future__ import annotations

import functools

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import NotFoundError, ValidationError
from ..extensions import db
from ..i18n import _
from ..models import ApiToken, Event, Organizer
from ..models.types import utcnow
from . import audit, permissions
from .audit import Actor
from .secrets import hash_secret, matches, new_secret

TOKEN_PREFIX = "pt_"  # noqa: S105 - a public marker, not a secret


def create_token(organizer: Organizer, *, name: str, read_only: bool = False,
                 events: list[Event] | None = None, actor: Actor) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": [_("Give the token a name of at most 100 characters.")]})
    if events and any(e.organizer_id != organizer.id for e in events):
        raise ValidationError({"events": [_("Choose events of this organizer.")]})
    secret = TOKEN_PREFIX + new_secret(30)
    token = ApiToken(organizer_id=organizer.id, name=name, token_hash=hash_secret(secret),
                     token_prefix=secret[:10], read_only=read_only,
                     all_events=not events, events=list(events or []))
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "create", organizer_id=organizer.id, object_type="api_token",
                 object_id=token.id, data={"name": name, "read_only": read_only})
    return token, secret


def revoke_token(token: ApiToken, *, actor: Actor) -> None:
    token.active = False
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(actor, "revoke", organizer_id=token.organizer_id, object_type="api_token",
                 object_id=token.id)


def plausible_secret(secret: str | None) -> bool:
    """Worth a lookup at all: present and not absurdly long."""
    return bool(secret) and len(secret) <= 200


def token_is_valid(token: ApiToken | None, secret: str) -> bool:
    """The row found by the hash of `secret` is a live token for it (checked on every
    request, never cached beyond it: a revoked token is refused from the next request on)."""
    return token is not None and token.active and matches(secret, token.token_hash)


@functools.cache
def token_scope_query(*, with_event: bool) -> Select:
    """ONE SELECT of the token whose hash is `:token_hash`, its organizer and, `with_event`,
    the event `:event_slug` of the organizer `:organizer_slug` if the token may see it (its
    token_events are a correlated EXISTS). The event is outer-joined: the row comes back
    whenever the token exists, with the event None when it is missing, another organizer's or
    invisible to the token (all the same 404). Callers may add outer joins and columns (the
    invoice and its bytes of a download). Built once: values go in as bind parameters, so a
    request pays neither building the statement nor its cache key."""
    query = (select(ApiToken, Organizer)
             .join(Organizer, Organizer.id == ApiToken.organizer_id)
             .where(ApiToken.token_hash == bindparam("token_hash")))
    if with_event:
        query = query.add_columns(Event).outerjoin(Event, and_(
            Event.organizer_id == ApiToken.organizer_id,
            Organizer.slug == bindparam("organizer_slug"),
            Event.slug == bindparam("event_slug"), permissions.token_sees_event()))
    return query


def token_for_secret(secret: str | None) -> ApiToken | None:
    if not plausible_secret(secret):
        return None
    # The organizer comes along: every API request checks the URL's organizer against it.
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))
                              .options(joinedload(ApiToken.organizer)))
    return token if token_is_valid(token, secret) else None


def organizer_tokens(organizer: Organizer) -> list[ApiToken]:
    """The organizer's tokens, active ones first, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.organizer_id == organizer.id)
        .options(selectinload(ApiToken.events))
        .order_by(ApiToken.active.desc(), ApiToken.id.desc())))


def token_of_organizer(organizer: Organizer, token_id: int) -> ApiToken:
    """One of the organizer's tokens; anyone else's is the same 404 as a missing one."""
    token = db.session.scalar(select(ApiToken).where(
        ApiToken.organizer_id == organizer.id, ApiToken.id == token_id))
    if token is None:
        raise NotFoundError()
    return token
