"""Secrets shown once and stored only as hashes (customer keys, API tokens).

Both have ≥128 random bits, so SHA-256 without a salt is safe (no dictionary to attack) and
lets us find the owner by the hash; `hmac.compare_digest` guards the final comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(nbytes: int = 24) -> str:
    """A URL-safe secret of `nbytes` random bytes (24 bytes = 192 bits)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
