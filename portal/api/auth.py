"""Who is calling: an organizer's API token or a customer's key, and what it may reach.

Tokens come as `Authorization: Token <token>`, customer keys as `X-Customer-Key: <key>`. Both
are found by their hash and compared in constant time (services/tokens, services/customers).
Anything of another organizer, or of an event the token is not limited to, is the same 404 as
something that does not exist; a read-only token asking to write is 403.

Only wrong credentials are counted, per client address (portal/ratelimits, in the store every
worker shares): past the limit a wrong one is answered 429 instead of 401. A right token or key
always works: both carry at least 128 random bits, so nobody guesses one, and refusing right
ones would let anyone behind the same address lock out the integrations there.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request

from .. import ratelimits
from ..errors import AuthError, ConflictError, ForbiddenError, NotFoundError
from ..i18n import _
from ..models import ApiToken, Customer, Event, Organizer
from ..services import customers, permissions, tokens
from ..services.audit import Actor

TOKEN_SCHEME = "token"  # noqa: S105 - the scheme name, not a secret
CUSTOMER_KEY_HEADER = "X-Customer-Key"
DEFAULT_FAILURE_LIMIT = ratelimits.DEFAULT_LIMITS["API_AUTH_FAILURE_LIMIT"]


@dataclass(frozen=True)
class Scope:
    """What a token reaches in one request: its organizer and, below it, one event."""

    token: ApiToken
    organizer: Organizer
    event: Event | None = None

    @property
    def actor(self) -> Actor:
        return Actor.token(self.token)


# ---------------------------------------------------------------- failed attempts


def _wrong_credential(kind: str) -> None:
    """Count a wrong `kind` of credential from this address; 429 once the budget is spent."""
    item = ratelimits.limit("API_AUTH_FAILURE_LIMIT", DEFAULT_FAILURE_LIMIT)
    key = ("api-" + kind, request.remote_addr or "unknown")
    ratelimits.refuse([(item, key)])
    ratelimits.count_failure(item, *key)


# ---------------------------------------------------------------- tokens


def request_state() -> dict:
    """Per-request state of the API: the token, its secret, an idempotency claim."""
    return g.setdefault("api_state", {})


def current_token() -> ApiToken:
    """The token of this request, or 401 (429 after too many wrong ones from this address)."""
    state = request_state()
    if "token" in state:
        return state["token"]
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise AuthError("Send your API token as `Authorization: Token <token>`.")
    scheme, _, secret = header.strip().partition(" ")
    token = tokens.token_for_secret(secret.strip()) if scheme.lower() == TOKEN_SCHEME else None
    if token is None:
        _wrong_credential("token")
        raise AuthError("The API token is not valid.", code="invalid_token")
    state["token"], state["token_secret"] = token, secret.strip()
    return token


def organizer_scope(organizer_slug: str) -> Scope:
    token = current_token()
    if token.organizer.slug != organizer_slug:
        raise NotFoundError()
    return Scope(token=token, organizer=token.organizer)


def event_scope(organizer_slug: str, event_slug: str, *, write: bool = False) -> Scope:
    """The token's view of one event; 404 unless visible, then 403 for a read-only write."""
    scope = organizer_scope(organizer_slug)
    event = permissions.event_in_scope(scope.token, scope.organizer.id, event_slug)
    if write and scope.token.read_only:
        raise ForbiddenError("This API token is read-only.", code="read_only_token")
    if write and event.archived:
        raise ConflictError(_("This event is archived and read-only."), code="event_archived")
    return Scope(token=scope.token, organizer=scope.organizer, event=event)


# ---------------------------------------------------------------- customers


def current_customer() -> Customer:
    """The customer holding the key of this request, or 401 (429 after too many wrong keys)."""
    key = request.headers.get(CUSTOMER_KEY_HEADER, "").strip()
    if not key:
        raise AuthError(f"Send your customer key as `{CUSTOMER_KEY_HEADER}: <key>`.")
    customer = customers.customer_for_key(key)
    if customer is None:
        _wrong_credential("customer_key")
        raise AuthError("The customer key is not valid.", code="invalid_customer_key")
    return customer
