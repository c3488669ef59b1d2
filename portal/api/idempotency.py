"""`Idempotency-Key` on POST: a retry replays the first answer and does nothing twice.

How a keyed POST runs (records are per token and kept for at least `TTL`):

1. *Claim*: insert `(token, key, request hash, status NULL)` and commit at once, in its own
   short transaction. The unique constraint on (token_id, key) makes the claim race-safe: of
   two concurrent requests only one inserts; the other sees the committed claim.
2. *Work*: the view runs its one service and, in the **same** transaction as the work, writes
   its answer into the record (`remember`); the request's unit of work (portal/unit_of_work.py)
   commits the work and the answer together or not at all, so a replay can never miss work
   that was done. The claim's commit and the refusal's (`_settle`) are the two commits of
   their own that this module makes.
3. *Errors*: a refusal (4xx) is rolled back and then stored the same way, so a retry gets the
   same refusal. A crash (5xx, an unexpected exception) rolls back and deletes the claim, so
   the client may simply retry. A process that dies mid-request leaves a claim whose status
   stays NULL; after `STALE` it is taken over by the next retry (its work never committed).

A second request with the key of a claim still running gets 409 with Retry-After; the same
key with another method, path or body gets 409. The stored body is sealed with a key derived
from the caller's token, which is never stored: a customer key answered by `customers/` or
`rotate-key/` therefore rests in the database only as ciphertext that the token holder alone
can replay, keeping the promise that keys are stored only as hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import wraps

from flask import Response, current_app, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConflictError, ValidationError
from ..extensions import db
from ..models import IdempotencyRecord
from ..models.types import utcnow
from . import auth

HEADER = "Idempotency-Key"
TTL = dt.timedelta(hours=24)
STALE = dt.timedelta(minutes=10)
MAX_KEY_LENGTH = 255
KEPT_HEADERS = ("Content-Type", "Location", "Retry-After", "Allow")
NONCE_BYTES = 16


@dataclass
class Claim:
    record_id: int
    seal_key: bytes
    answered: bool = False


# ---------------------------------------------------------------- sealing


def _seal_key(token_secret: str) -> bytes:
    return hmac.new(token_secret.encode(), b"portal idempotency response", "sha256").digest()


def _keystream(seal_key: bytes, nonce: bytes, length: int) -> bytes:
    return hashlib.shake_256(seal_key + nonce).digest(length)


def seal(seal_key: bytes, data: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    stream = _keystream(seal_key, nonce, len(data))
    return nonce + bytes(a ^ b for a, b in zip(data, stream, strict=True))


def unseal(seal_key: bytes, sealed: bytes) -> bytes:
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    stream = _keystream(seal_key, nonce, len(body))
    return bytes(a ^ b for a, b in zip(body, stream, strict=True))


# ---------------------------------------------------------------- claim, remember, release


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string,
                 request.get_data(cache=True)):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _clean_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError({HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable ASCII characters."]})
    return key


def _replay(record: IdempotencyRecord, seal_key: bytes) -> Response:
    body = unseal(seal_key, record.response_body or b"")
    response = Response(body, status=record.status_code)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(token_id: int, key: str, fingerprint: str, seal_key: bytes, *,
           retried: bool = False) -> Claim | Response:
    """Claim the key (committed at once), or answer from an earlier request with it."""
    now = utcnow()
    db.session.execute(delete(IdempotencyRecord).where(
        IdempotencyRecord.token_id == token_id, IdempotencyRecord.created_at < now - TTL))
    record = IdempotencyRecord(token_id=token_id, key=key, request_hash=fingerprint,
                               status_code=None, response_headers={}, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(record)
    except IntegrityError:
        record = None
    if record is None:
        existing = db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key))
        if existing is None and not retried:  # purged by a concurrent request: claim anew
            db.session.rollback()
            return _claim(token_id, key, fingerprint, seal_key, retried=True)
        if existing is None:
            raise ConflictError(f"This {HEADER} could not be claimed; retry.",
                                code="idempotency_key_in_use", retry_after=1)
        if not hmac.compare_digest(existing.request_hash, fingerprint):
            raise ConflictError(f"This {HEADER} was already used for another request.",
                                code="idempotency_key_reused")
        if existing.status_code is not None:
            replay = _replay(existing, seal_key)
            db.session.rollback()
            return replay
        taken = db.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == existing.id, IdempotencyRecord.status_code.is_(None),
                   IdempotencyRecord.created_at < now - STALE)
            .values(created_at=now)).rowcount
        if not taken:
            raise ConflictError(f"A request with this {HEADER} is still running.",
                                code="idempotency_key_in_use", retry_after=1)
        record = existing
    # Committed on its own, before the work, so a concurrent twin sees the claim at once.
    db.session.commit()
    return Claim(record_id=record.id, seal_key=seal_key)


def _store(claim: Claim, response: Response) -> None:
    headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
    db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == claim.record_id, IdempotencyRecord.status_code.is_(None))
        .values(status_code=response.status_code, response_headers=headers,
                response_body=seal(claim.seal_key, response.get_data())))


def remember(response: Response) -> None:
    """Keep the answer of a keyed POST, inside the transaction that did its work."""
    claim = auth.request_state().get("idempotency_claim")
    if claim is not None:
        _store(claim, response)
        claim.answered = True


def _settle(claim: Claim, response: Response | None) -> None:
    """After a refusal or a crash: keep a refusal (4xx but 429), forget anything else.

    Only a claim still unanswered is touched: an answer committed with the work stays.
    """
    db.session.rollback()
    if response is not None and response.status_code < 500 and response.status_code != 429:
        _store(claim, response)
    else:
        db.session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.id == claim.record_id, IdempotencyRecord.status_code.is_(None)))
    db.session.commit()


def idempotent(view):
    """Decorate every POST view: honours `Idempotency-Key` when the client sends one."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        raw_key = request.headers.get(HEADER)
        if raw_key is None:
            return view(*args, **kwargs)
        token = auth.current_token()  # 401 before anything is kept
        key = _clean_key(raw_key)
        state = auth.request_state()
        outcome = _claim(token.id, key, _fingerprint(), _seal_key(state["token_secret"]))
        if isinstance(outcome, Response):
            return outcome
        state["idempotency_claim"] = outcome
        try:
            rv = view(*args, **kwargs)
        except Exception as exc:  # every failure must settle the claim
            outcome.answered = False
            db.session.rollback()
            try:
                rv = current_app.handle_user_exception(exc)
            except Exception:
                _settle(outcome, None)
                raise
        response = current_app.make_response(rv)
        if not outcome.answered:
            _settle(outcome, response)
        return response

    return wrapper


def purge_expired(now: dt.datetime | None = None) -> int:
    """Forget every answer older than `TTL` (each claim also purges its own token's)."""
    cutoff = (now or utcnow()) - TTL
    return db.session.execute(delete(IdempotencyRecord)
                              .where(IdempotencyRecord.created_at < cutoff)).rowcount
