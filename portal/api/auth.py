"""Who is calling: an organizer's API token or a customer's key, and what it may reach.

Tokens come as `Authorization: Token <token>`, customer keys as `X-Customer-Key: <key>`. Both
are found by their hash and compared in constant time (services/tokens, services/customers).
Anything of another organizer, or of an event the token is not limited to, is the same 404 as
something that does not exist; a read-only token asking to write is 403.

Every request finds its credential and what it reaches in ONE SELECT (issue 16): the token by
its hash, its organizer, the event by slug within the token's events, and for a download the
invoice and the stored bytes too (outer joins, so a row comes back whenever the token exists).
The error cases are told apart in Python from that row; nothing is cached beyond the request,
so a revoked token is refused from the very next request.

Only wrong credentials are counted, per client address (portal/ratelimits, in the store every
worker shares): past the limit a wrong one is answered 429 instead of 401. A right token or key
always works: both carry at least 128 random bits, so nobody guesses one, and refusing right
ones would let anyone behind the same address lock out the integrations there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from flask import g, request
from sqlalchemy import Select, and_, bindparam, false, select
from sqlalchemy.exc import DBAPIError

from .. import ratelimits
from ..errors import AuthError, ConflictError, ForbiddenError, NotFoundError
from ..extensions import db
from ..i18n import _
from ..models import ApiToken, Customer, Event, Invoice, InvoiceDocument, Organizer
from ..services import tokens
from ..services.audit import Actor
from ..services.invoice_queries import visible_to
from ..services.secrets import hash_secret, matches

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


# ---------------------------------------------------------------- the one statement


def first_statement(query: Select, params: dict):
    """Run the request's first statement and return its first row.

    It replaces `pool_pre_ping` (a `SELECT 1` on every checkout, 11 % of a PDF download on
    PostgreSQL): should the pooled connection be dead (the database restarted, the connection
    was killed), SQLAlchemy invalidates the pool and we run the statement once more on a fresh
    connection. That is safe only because nothing ran before it in this transaction.
    """
    fresh = not db.session().in_transaction()
    try:
        return db.session.execute(query, params).first()
    except DBAPIError as error:
        if not (fresh and error.connection_invalidated):
            raise
        db.session.rollback()
        return db.session.execute(query, params).first()


# ---------------------------------------------------------------- tokens


def request_state() -> dict:
    """Per-request state of the API: the token, its secret, an idempotency claim."""
    return g.setdefault("api_state", {})


def _header_secret() -> str:
    """The secret of `Authorization: Token <secret>`: 401 without the header, 401 (counted)
    for another scheme or a secret not worth a lookup."""
    header = request.headers.get("Authorization", "")
    if not header.strip():
        raise AuthError("Send your API token as `Authorization: Token <token>`.")
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != TOKEN_SCHEME or not tokens.plausible_secret(secret):
        _refuse_token()
    return secret


def _refuse_token() -> NoReturn:
    _wrong_credential("token")
    raise AuthError("The API token is not valid.", code="invalid_token")


def _authenticated(query: Select, **params) -> tuple:
    """The row of `query` (token, organizer, …) for this request's token, or 401 for a wrong,
    inactive or revoked token."""
    secret = _header_secret()
    row = first_statement(query, {"token_hash": hash_secret(secret), **params})
    if row is None or not tokens.token_is_valid(row[0], secret):
        _refuse_token()
    state = request_state()
    state["token"], state["token_secret"] = row[0], secret
    return tuple(row)


def current_token() -> ApiToken:
    """The token of this request, or 401 (429 after too many wrong ones from this address)."""
    state = request_state()
    if "token" in state:
        return state["token"]
    return _authenticated(tokens.token_scope_query(with_event=False))[0]


def organizer_scope(organizer_slug: str) -> Scope:
    token, organizer = _authenticated(tokens.token_scope_query(with_event=False))
    if organizer.slug != organizer_slug:
        raise NotFoundError()
    return Scope(token=token, organizer=organizer)


def _event_checked(token: ApiToken, organizer: Organizer, event: Event | None,
                   organizer_slug: str, *, write: bool) -> Scope:
    if organizer.slug != organizer_slug or event is None:
        raise NotFoundError()
    if write and token.read_only:
        raise ForbiddenError("This API token is read-only.", code="read_only_token")
    if write and event.archived:
        raise ConflictError(_("This event is archived and read-only."), code="event_archived")
    return Scope(token=token, organizer=organizer, event=event)


def event_scope(organizer_slug: str, event_slug: str, *, write: bool = False) -> Scope:
    """The token's view of one event; 404 unless visible, then 403 for a read-only write."""
    token, organizer, event = _authenticated(tokens.token_scope_query(with_event=True),
                                             organizer_slug=organizer_slug,
                                             event_slug=event_slug)
    return _event_checked(token, organizer, event, organizer_slug, write=write)


def _with_invoice(query: Select, owner, scope_on, conditions: Sequence | None, *,
                  options: Sequence, columns: Sequence, document: bool) -> Select:
    """`query` with the invoice matching `conditions` under `scope_on` outer-joined to `owner`
    (and its stored document, for `columns` of it), the first by id if several match."""
    on = and_(scope_on, *(conditions if conditions is not None else [false()]))
    query = query.add_columns(Invoice).outerjoin_from(owner, Invoice, on).options(*options)
    if document:
        query = query.outerjoin_from(Invoice, InvoiceDocument,
                                     InvoiceDocument.invoice_id == Invoice.id)
    return query.add_columns(*columns).order_by(Invoice.id).limit(1)


_STATEMENTS: dict = {}


def _statement(shape, build) -> Select:
    """The statement of this `shape`, built on first use (its values are bind parameters)."""
    if shape is None:
        return build()
    statement = _STATEMENTS.get(shape)
    if statement is None:
        statement = _STATEMENTS[shape] = build()
    return statement


def event_invoice(organizer_slug: str, event_slug: str, conditions: Sequence | None, *,
                  options: Sequence = (), columns: Sequence = (), document: bool = False,
                  params: dict | None = None, shape=None) -> tuple[Scope, Invoice | None, tuple]:
    """`event_scope` plus the event's invoice matching `conditions` (None: no invoice, e.g. a
    malformed id) and extra `columns` (of the stored document with `document=True`), all in
    the same one SELECT. Scope errors as `event_scope`; the invoice is None when there is
    none, for the caller to answer (404 here, a dialect's own status there). Given a hashable
    `shape`, the statement is built once for it and `params` fill its bind parameters."""
    query = _statement(shape, lambda: _with_invoice(
        tokens.token_scope_query(with_event=True), Event, Invoice.event_id == Event.id,
        conditions, options=options, columns=columns, document=document))
    token, organizer, event, invoice, *extra = _authenticated(
        query, organizer_slug=organizer_slug, event_slug=event_slug, **(params or {}))
    scope = _event_checked(token, organizer, event, organizer_slug, write=False)
    return scope, invoice, tuple(extra)


# ---------------------------------------------------------------- customers


def _customer_key() -> str:
    key = request.headers.get(CUSTOMER_KEY_HEADER, "").strip()
    if not key:
        raise AuthError(f"Send your customer key as `{CUSTOMER_KEY_HEADER}: <key>`.")
    return key


def _customer_row(query: Select, **params) -> tuple:
    """The row of `query` (customer, …) for this request's key, or 401 (429 after too many
    wrong keys)."""
    key = _customer_key()
    row = (first_statement(query, {"key_hash": hash_secret(key), **params})
           if len(key) <= 200 else None)
    if row is None or not matches(key, row[0].key_hash):
        _wrong_credential("customer_key")
        raise AuthError("The customer key is not valid.", code="invalid_customer_key")
    return tuple(row)


_CUSTOMER = select(Customer).where(Customer.key_hash == bindparam("key_hash"))


def current_customer() -> Customer:
    """The customer holding the key of this request, or 401 (429 after too many wrong keys)."""
    return _customer_row(_CUSTOMER)[0]


def customer_invoice(invoice_id: int | None, *, options: Sequence = (),
                     columns: Sequence = (), document: bool = False,
                     params: dict | None = None, shape=None
                     ) -> tuple[Customer, Invoice | None, tuple]:
    """`current_customer` plus its own visible invoice `invoice_id` (None when there is none)
    and extra `columns`, in one SELECT (built once per hashable `shape`, as event_invoice)."""
    conditions = None if invoice_id is None else [Invoice.id == bindparam("invoice_id")]
    shape = None if shape is None else (shape, invoice_id is None)
    query = _statement(shape, lambda: _with_invoice(
        _CUSTOMER, Customer, and_(*visible_to(Customer)), conditions, options=options,
        columns=columns, document=document))
    customer, invoice, *extra = _customer_row(query, invoice_id=invoice_id, **(params or {}))
    return customer, invoice, tuple(extra)
