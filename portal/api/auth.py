"""Who is calling: an organizer's API token or a customer's key, and what it may reach.

Tokens come as `Authorization: Token <token>`, customer keys as `X-Customer-Key: <key>`. Both
are found by their hash and compared in constant time (services/tokens, services/customers).
Anything of another organizer, or of an event the token is not limited to, is the same 404 as
something that does not exist; a read-only token asking to write is 403.

Wrong credentials are counted per client address: past the limit every attempt from that
address is refused with 429 *before* the credential is looked at, so guessing stays pointless.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from ..errors import AuthError, ForbiddenError, NotFoundError
from ..models import ApiToken, Customer, Event, Organizer
from ..services import customers, permissions, tokens
from ..services.audit import Actor

TOKEN_SCHEME = "token"  # noqa: S105 - the scheme name, not a secret
CUSTOMER_KEY_HEADER = "X-Customer-Key"
DEFAULT_FAILURE_LIMIT = "30 per minute"


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


def _failure_limiter() -> MovingWindowRateLimiter:
    limiter = current_app.extensions.get("api_auth_failures")
    if limiter is None:
        storage = storage_from_string(current_app.config.get("RATELIMIT_STORAGE_URI")
                                      or "memory://")
        limiter = current_app.extensions["api_auth_failures"] = MovingWindowRateLimiter(storage)
    return limiter


def _failure_item():
    return parse(current_app.config.get("API_AUTH_FAILURE_LIMIT", DEFAULT_FAILURE_LIMIT))


def _limited() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _refuse_if_too_many_failures(kind: str) -> None:
    if not _limited():
        return
    item = _failure_item()
    address = request.remote_addr or "unknown"
    if not _failure_limiter().test(item, kind, address):
        raise TooManyRequests(retry_after=item.get_expiry())


def _count_failure(kind: str) -> None:
    if _limited():
        _failure_limiter().hit(_failure_item(), kind, request.remote_addr or "unknown")


# ---------------------------------------------------------------- tokens


def request_state() -> dict:
    """Per-request state of the API (not `g`: an app context may outlive one request)."""
    return request.environ.setdefault("portal.api", {})


def current_token() -> ApiToken:
    """The token of this request, or 401 (429 after too many wrong ones from this address)."""
    state = request_state()
    if "token" in state:
        return state["token"]
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise AuthError("Send your API token as `Authorization: Token <token>`.")
    _refuse_if_too_many_failures("token")
    scheme, _, secret = header.strip().partition(" ")
    token = tokens.token_for_secret(secret.strip()) if scheme.lower() == TOKEN_SCHEME else None
    if token is None:
        _count_failure("token")
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
    return Scope(token=scope.token, organizer=scope.organizer, event=event)


# ---------------------------------------------------------------- customers


def current_customer() -> Customer:
    """The customer holding the key of this request, or 401 (429 after too many wrong keys)."""
    key = request.headers.get(CUSTOMER_KEY_HEADER, "").strip()
    if not key:
        raise AuthError(f"Send your customer key as `{CUSTOMER_KEY_HEADER}: <key>`.")
    _refuse_if_too_many_failures("customer_key")
    customer = customers.customer_for_key(key)
    if customer is None:
        _count_failure("customer_key")
        raise AuthError("The customer key is not valid.", code="invalid_customer_key")
    return customer
