"""Password reset by e-mail (issue 18).

- A request names an e-mail address; the answer is the same whether or not an account has
  it, and so is the work done in the request: the mail leaves in a job after the commit.
- The link carries a token of 256 random bits, made by the mail job itself (so it is in no
  job argument or queue); only its SHA-256 is stored. It works once, for an hour from the
  request (`RESET_LIFETIME`), and a new request or a successful reset voids the others.
- Setting the new password bumps the user's session version: every session ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update

from .. import jobs
from ..errors import ValidationError
from ..extensions import db
from ..i18n import _
from ..models import PasswordReset, User
from ..models.types import utcnow
from .input import FieldErrors, clean_email
from .organizers import MIN_PASSWORD, hash_password

RESET_LIFETIME = dt.timedelta(hours=1)
MAIL_JOB = "portal.mail_password_reset"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_reset(email: str) -> None:
    """Record a reset for the account of `email`, if there is one, and queue its mail.

    A malformed address raises ValidationError (the form says so: that reveals nothing);
    an unknown one returns like a known one.
    """
    errors = FieldErrors()
    address = clean_email(errors, "email", email, required=True)
    errors.raise_if_any()
    user = db.session.scalar(select(User).where(User.email == address.lower()))
    if user is None or not user.active:
        return
    now = utcnow()
    _void_open_resets(user.id, now)
    # The link's token is made by the mail job (`issue_token`), so it never travels through
    # the job queue or its table; until then the row holds the hash of a token nobody has.
    reset = PasswordReset(user_id=user.id, token_hash=token_hash(secrets.token_urlsafe(32)),
                          created_at=now, expires_at=now + RESET_LIFETIME)
    db.session.add(reset)
    db.session.flush()
    jobs.enqueue(MAIL_JOB, reset.id)


def issue_token(reset: PasswordReset) -> str:
    """A fresh token for `reset` (the mail job, just before it mails the link): only its hash
    is stored, committed with the job. A job run twice mails twice; only the last link works."""
    token = secrets.token_urlsafe(32)
    reset.token_hash = token_hash(token)
    db.session.flush()
    return token


def _void_open_resets(user_id: int, now: dt.datetime) -> None:
    db.session.execute(update(PasswordReset).where(
        PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False))


def valid_reset(token: str | None) -> PasswordReset | None:
    """The unused, unexpired reset of `token`, else None."""
    if not token or len(token) > 100:
        return None
    reset = db.session.scalar(select(PasswordReset).where(
        PasswordReset.token_hash == token_hash(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    return reset


def reset_password(token: str, new: str, confirm: str) -> User:
    """Set the new password through a valid link: once only; every session of the user ends.

    The reset row is taken by a conditional UPDATE, so two submissions of one link racing
    each other set the password once."""
    errors = FieldErrors()
    if len(new or "") < MIN_PASSWORD:
        errors.add("new_password", _("Use at least %(count)s characters.", count=MIN_PASSWORD))
    elif new != confirm:
        errors.add("confirm_password", _("The two passwords differ."))
    reset = valid_reset(token)
    if reset is None:
        raise ValidationError({"token": [_("This link is invalid, used or expired. "
                                           "Ask for a new one.")]})
    errors.raise_if_any()
    now = utcnow()
    taken = db.session.execute(update(PasswordReset).where(
        PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise ValidationError({"token": [_("This link is invalid, used or expired. "
                                           "Ask for a new one.")]})
    user = db.session.get(User, reset.user_id)
    user.password_hash = hash_password(new)
    user.session_version += 1
    _void_open_resets(user.id, now)
    db.session.flush()
    return user
