"""Settings, read from environment variables only.

`PORTAL_ENV` says where we run: `production` (the default), `development` or `testing`.
Only development and testing get a built-in SECRET_KEY; production refuses to start
without one, so a forgotten variable can never sign sessions with a public key.
"""

import os
from pathlib import Path

from .ratelimits import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - used only in development/testing


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str) -> dict:
    env = os.environ.get("PORTAL_ENV", "production").lower()
    default_db = "sqlite:///" + str(Path(instance_path) / "portal.sqlite3")
    config = {
        "PORTAL_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        # No pool_pre_ping: its SELECT 1 on every checkout was 11 % of a stored-PDF download on
        # PostgreSQL (issue 16). Connections are replaced after POOL_RECYCLE seconds instead;
        # a dead one (database restarted, connection killed) makes SQLAlchemy invalidate the
        # whole pool, and the API repeats its first statement once on a fresh connection
        # (api/auth.first_statement), so even the first request after a restart answers.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_recycle": int(os.environ.get("DATABASE_POOL_RECYCLE", "1800"))},
        # Session cookies: HttpOnly and SameSite always; Secure when served over TLS.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", env == "production"),
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("SESSION_LIFETIME_SECONDS", "28800")),
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_ENABLED": _bool("RATELIMIT_ENABLED", True),
        # The failure budgets (portal/ratelimits.py DEFAULT_LIMITS has each one's default).
        **{name: os.environ.get(name) or default for name, default in DEFAULT_LIMITS.items()},
        # Server-side sessions (portal/sessions.py): Redis when set, else files in the instance
        # folder.
        "SESSION_REDIS_URL": os.environ.get("SESSION_REDIS_URL") or None,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or None,
        "CELERY_RESULT_BACKEND": os.environ.get("CELERY_RESULT_BACKEND") or None,
        "CELERY_QUEUE": os.environ.get("CELERY_QUEUE") or "celery",
        # Several deployments on one Redis: a database number each in the URL, or a key
        # prefix each (CELERY_KEY_PREFIX, prepended to every broker key) and a queue each.
        "CELERY_KEY_PREFIX": os.environ.get("CELERY_KEY_PREFIX") or None,
        # The job outbox (portal/jobs.py, portal/sweeper.py). The relay re-drives, every
        # INTERVAL seconds (0: never; tests ask for it), jobs still pending GRACE seconds after
        # they were written or last handed out (the broker was away), and jobs running longer
        # than VISIBILITY_TIMEOUT seconds (their worker died; keep it above the longest job),
        # at most BATCH a round. A failing job is tried MAX_ATTEMPTS times, waiting BACKOFF
        # seconds, then twice that, and so on.
        "JOBS_RELAY_INTERVAL": float(os.environ.get(
            "JOBS_RELAY_INTERVAL", "0" if env == "testing" else "10")),
        "JOBS_RELAY_GRACE": float(os.environ.get("JOBS_RELAY_GRACE", "30")),
        "JOBS_VISIBILITY_TIMEOUT": float(os.environ.get("JOBS_VISIBILITY_TIMEOUT", "300")),
        "JOBS_RELAY_BATCH": int(os.environ.get("JOBS_RELAY_BATCH", "100")),
        "JOBS_MAX_ATTEMPTS": int(os.environ.get("JOBS_MAX_ATTEMPTS", "5")),
        "JOBS_RETRY_BACKOFF": float(os.environ.get("JOBS_RETRY_BACKOFF", "30")),
        # Done jobs are deleted after KEEP_DONE_DAYS, looked for every PURGE_INTERVAL seconds.
        "JOBS_KEEP_DONE_DAYS": float(os.environ.get("JOBS_KEEP_DONE_DAYS", "7")),
        "JOBS_PURGE_INTERVAL": float(os.environ.get("JOBS_PURGE_INTERVAL", "3600")),
        # Compaction of the kept invoice counts (services/tallies.py), through the outbox.
        "TALLY_COMPACT_INTERVAL": float(os.environ.get(
            "TALLY_COMPACT_INTERVAL", "0" if env == "testing" else "300")),
        # Webhooks (services/webhooks.py): private, loopback and link-local targets are
        # refused unless allowed (allowed by default in development and tests only).
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": _bool("WEBHOOK_ALLOW_PRIVATE_TARGETS",
                                               env in {"development", "testing"}),
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "10")),
        "WEBHOOK_RETRY_BASE": float(os.environ.get("WEBHOOK_RETRY_BASE", "30")),
        "WEBHOOK_RETRY_WINDOW": float(os.environ.get("WEBHOOK_RETRY_WINDOW", str(3 * 86400))),
        "WEBHOOK_RETENTION_DAYS": int(os.environ.get("WEBHOOK_RETENTION_DAYS", "30")),
        # Retry pickup, purge and overdue sweep of webhooks run every TICK_INTERVAL seconds
        # through the job outbox (jobs.periodic; 0: never).
        "WEBHOOK_TICK_INTERVAL": float(os.environ.get(
            "WEBHOOK_TICK_INTERVAL", "0" if env == "testing" else "60")),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS"),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL"),
        "MAIL_TIMEOUT": int(os.environ.get("MAIL_TIMEOUT", "10")),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "invoices@localhost"),
        "MAIL_FOLDER": os.environ.get("MAIL_FOLDER", str(Path(instance_path) / "mail")),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "BABEL_DEFAULT_LOCALE": os.environ.get("BABEL_DEFAULT_LOCALE", "en"),
        # Number of reverse proxies in front of us whose X-Forwarded-* headers we trust
        # (0: none). Rate limits key on the client address, so behind a proxy set this.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
    }
    # Several deployments on one Redis database: a key prefix each (see README).
    for name in ("RATELIMIT_KEY_PREFIX", "SESSION_KEY_PREFIX"):
        if os.environ.get(name):
            config[name] = os.environ[name]
    if env in {"development", "testing"} and not config["SECRET_KEY"]:
        config["SECRET_KEY"] = DEV_SECRET_KEY
    if env == "testing":
        config["TESTING"] = True
    return config


def check_config(config) -> None:
    """Refuse to start with settings that would be unsafe in production."""
    if not config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set. Set it in the environment "
            "(or PORTAL_ENV=development for a local run)."
        )
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://") or uri.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; the bare scheme would pick psycopg2.
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
