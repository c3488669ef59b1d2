"""Server-side sessions: the cookie holds only a random session id, the data stays with us.

So signing out really ends a session: its id is deleted from the store, and a copy of the
cookie taken before opens nothing afterwards. Flask-Session does the work:

- with `SESSION_REDIS_URL` (production, several workers or hosts): Redis, whose TTL expires
  old sessions by itself;
- otherwise (the embedded default): cachelib's `FileSystemCache` in the instance folder,
  which every worker on the host shares.

Not Flask-Session's SQLAlchemy backend: it commits the app's own `db.session` when it saves
a session at the end of each request, which would commit work our unit of work means to roll
back (a request answered with 400 or more), and it creates its table at start-up, outside
the migrations.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, session

SESSION_DIR = "sessions"
# The file store prunes past this many sessions: expired ones first, then the least recently
# used. Each session is one small file.
DEFAULT_FILE_THRESHOLD = 20000


def init_sessions(app: Flask) -> None:
    from flask_session import Session

    config = app.config
    config.setdefault("SESSION_KEY_PREFIX", "portal-session:")
    config.setdefault("SESSION_PERMANENT", True)
    if not config.get("SESSION_TYPE"):
        url = config.get("SESSION_REDIS_URL")
        if url:
            from redis import Redis
            config["SESSION_TYPE"] = "redis"
            config["SESSION_REDIS"] = Redis.from_url(url)
        else:
            from cachelib import FileSystemCache
            folder = config.get("SESSION_FILE_DIR") or str(Path(app.instance_path) / SESSION_DIR)
            config["SESSION_TYPE"] = "cachelib"
            config["SESSION_CACHELIB"] = FileSystemCache(
                folder, threshold=int(config.get("SESSION_FILE_THRESHOLD",
                                                 DEFAULT_FILE_THRESHOLD)),
                mode=0o600)
    Session(app)


def renew_session_id() -> None:
    """Move this session's data to a new id and delete the old one from the store.

    At sign-in, so an id planted before (session fixation) is worth nothing afterwards; at
    sign-out, so a copy of the cookie is worth nothing either. An empty session needs
    nothing: an id the store does not hold is replaced by a new one when it is read.
    """
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None and session:
        regenerate(session)
