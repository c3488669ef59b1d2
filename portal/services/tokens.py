"""API tokens: made (shown once), found by their hash, revoked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..errors import NotFoundError, ValidationError
from ..extensions import db
from ..i18n import _
from ..models import ApiToken, Event, Organizer
from ..models.types import utcnow
from . import audit
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


def token_for_secret(secret: str | None) -> ApiToken | None:
    if not secret or len(secret) > 200:
        return None
    # The organizer comes along: every API request checks the URL's organizer against it.
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret))
                              .options(joinedload(ApiToken.organizer)))
    if token is None or not token.active or not matches(secret, token.token_hash):
        return None
    return token


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
