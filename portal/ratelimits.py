"""Counting failed sign-in attempts in the store every worker shares.

Only failures count, and each budget is keyed so that a stranger's failures spend the
stranger's budget, not the user's:

- passwords (organizer login) are guessable, so a spent budget refuses *before* the password
  is checked; the budgets are keyed on the account *and* the client address, on the address
  alone (one address trying many accounts), and a slower one on the account alone (many
  addresses trying one account). A browser that signed in to the account before (a signed
  device cookie) counts on its own budget only, so nobody else can lock it out;
- customer keys, magic links and API tokens carry at least 128 random bits, so nobody guesses
  one: the right one always works, and only wrong ones are refused (429 instead of 401) once
  an address has sent too many. That keeps scanning loud and cheap to spot without letting
  a neighbour behind the same address lock anybody out.

The counts live in `RATELIMIT_STORAGE_URI` (Redis in production): with `memory://` each
gunicorn worker would keep its own counts, which multiplies every budget by the number of
workers, so production start-up logs a warning then.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

EXTENSION = "portal.failure_limits"

# Every budget is a setting (environment variable of the same name, `limits` notation such as
# "10 per 15 minutes" or "10 per minute;100 per day"); these are the defaults.
DEFAULT_LIMITS = {
    # organizer sign-in failures of one account from one address, or from one known browser
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
    # sign-in failures from one address, whatever the account (one address trying many)
    "LOGIN_LIMIT_PER_IP": "30 per 10 minutes",
    # sign-in failures of one account from anywhere (many addresses trying one): slower, and
    # never applied to a browser the user signed in with before
    "LOGIN_LIMIT_PER_ACCOUNT_GLOBAL": "100 per hour",
    # wrong customer keys / magic links from one address
    "CUSTOMER_ACCESS_RATE_LIMIT": "10 per minute;100 per day",
    # wrong API tokens from one address
    "API_AUTH_FAILURE_LIMIT": "30 per minute",
}


def init_rate_limits(app: Flask) -> None:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if (uri.startswith("memory://") and app.config.get("PORTAL_ENV") == "production"
            and app.config.get("RATELIMIT_ENABLED", True)):
        app.logger.warning(
            "RATELIMIT_STORAGE_URI is memory://: every worker process counts failed sign-ins "
            "on its own, so with several gunicorn workers each limit is multiplied by their "
            "number. Set RATELIMIT_STORAGE_URI=redis://… to share the counts.")


def enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _limiter() -> MovingWindowRateLimiter:
    limiter = current_app.extensions.get(EXTENSION)
    if limiter is None:
        uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
        options = current_app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}
        limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))
        current_app.extensions[EXTENSION] = limiter
    return limiter


def limit(setting: str, default: str | None = None) -> RateLimitItem:
    """The budget of `setting` (config), else `default`, else DEFAULT_LIMITS[setting]."""
    return parse(current_app.config.get(setting) or default or DEFAULT_LIMITS[setting])


def _key(key: tuple[str, ...]) -> tuple[str, ...]:
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "portal", *key)


def _store_away(error: Exception) -> None:
    # The store being away (Redis down) must not turn sign-ins into 500s, nor lock everybody
    # out: the budgets are not applied meanwhile, and every such request says so in the log.
    current_app.logger.warning("rate-limit store unreachable, limits not applied: %s", error)


def spent(item: RateLimitItem, *key: str) -> bool:
    """Whether the failures counted under `key` have used up `item`."""
    if not enabled():
        return False
    try:
        return not _limiter().test(item, *_key(key))
    except Exception as error:  # noqa: BLE001 - any storage failure
        _store_away(error)
        return False


def count_failure(item: RateLimitItem, *key: str) -> None:
    if not enabled():
        return
    try:
        _limiter().hit(item, *_key(key))
    except Exception as error:  # noqa: BLE001 - any storage failure
        _store_away(error)


def retry_after(item: RateLimitItem, *key: str) -> int:
    """Seconds until the oldest counted failure under `key` leaves the window."""
    try:
        stats = _limiter().get_window_stats(item, *_key(key))
    except Exception as error:  # noqa: BLE001 - any storage failure
        _store_away(error)
        return 60
    return max(1, math.ceil(stats.reset_time - time.time()))


def refuse(checks: list[tuple[RateLimitItem, tuple[str, ...]]]) -> None:
    """Raise 429 if any of the (limit, key) budgets is spent, with the longest wait."""
    waits = [retry_after(item, *key) for item, key in checks if spent(item, *key)]
    if waits:
        raise TooManyRequests(retry_after=max(waits))
