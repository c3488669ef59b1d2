"""Forms kept across an expired session (issue 18).

A back-office form posted when the session has expired (the CSRF token no longer matches, or
nobody is signed in any more) is not thrown away: its fields are kept here under a one-time
key of 128 random bits (stored only as its SHA-256) for an hour, and the user, once signed in
again, gets them back on the same page. Reading a stash deletes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select

from ..extensions import db
from ..models import FormStash
from ..models.types import utcnow

STASH_LIFETIME = dt.timedelta(hours=1)
MAX_PAIRS = 5000
MAX_CHARS = 500_000
# Never kept: the stale token itself, and secrets typed into a form.
NOT_KEPT = frozenset({"csrf_token", "password", "current_password", "new_password",
                      "confirm_password"})


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def stash_form(path: str, pairs: list[tuple[str, str]]) -> str | None:
    """Keep `pairs` (the posted fields, in order) for `path`; the one-time key, or None when
    the form is empty (a plain button) or too large to keep."""
    kept = [[name, value] for name, value in pairs if name not in NOT_KEPT]
    if not kept or len(kept) > MAX_PAIRS or sum(len(n) + len(v) for n, v in kept) > MAX_CHARS \
            or len(path) > 500:
        return None
    now = utcnow()
    db.session.execute(delete(FormStash).where(FormStash.expires_at < now))
    key = secrets.token_urlsafe(16)
    db.session.add(FormStash(key_hash=_hash(key), path=path, data=kept, created_at=now,
                             expires_at=now + STASH_LIFETIME))
    db.session.flush()
    return key


def take_stash(key: str | None) -> tuple[str, list[tuple[str, str]]] | None:
    """The address the form was posted to and its fields kept under `key`, once: the stash
    is deleted as it is read. None for an unknown, used or expired key."""
    if not key or len(key) > 100:
        return None
    stash = db.session.scalar(select(FormStash).where(FormStash.key_hash == _hash(key)))
    if stash is None:
        return None
    db.session.delete(stash)
    db.session.flush()
    if stash.expires_at <= utcnow():
        return None
    return stash.path, [(name, value) for name, value in stash.data]
