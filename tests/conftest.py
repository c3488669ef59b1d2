"""Shared fixtures.

`--db sqlite|postgresql` picks the database the whole run uses (CI runs both). Each run gets
a fresh database whose schema is made by the migrations (so every run also proves they work).
Each test runs inside a transaction that is rolled back afterwards; the service code's own
commits become savepoints. Every request gets its own app context and session, as on a server
(`ServerLikeRequests`), so what a view does not commit is lost. Tests that need real commits
across threads use `committed_app`.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import shutil
import tempfile
import uuid

os.environ["PORTAL_ENV"] = "testing"
os.environ.setdefault("RATELIMIT_STORAGE_URI", "memory://")

import pytest
from flask import has_app_context
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from portal import create_app
from portal.extensions import db
from portal.i18n import compile_catalogs

from .factories import Factory

compile_catalogs()  # the .mo files `make setup` compiles from translations/ (not committed)

# Server-side sessions of this test process live in a throw-away folder, not in instance/.
SESSION_DIR = tempfile.mkdtemp(prefix="portal-test-sessions-")
atexit.register(shutil.rmtree, SESSION_DIR, True)
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser):
    parser.addoption("--db", action="store", default="sqlite", choices=("sqlite", "postgresql"),
                     help="database the suite runs against")


def _new_database(kind: str, tmp_path_factory) -> tuple[str, callable]:
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("db") / f"portal-{uuid.uuid4().hex[:8]}.sqlite3"
        return f"sqlite:///{path}", lambda: None
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    admin.dispose()

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


class ServerLikeRequests:
    """WSGI middleware of the test app: every request runs as on a server, in an app context
    of its own, so with its own database session and its own `g`, torn down when the request
    ends (whatever the request flushed but did not commit is lost, as in production). It wraps
    the app itself, so the test client and Schemathesis alike go through it.

    The test's own session shares the test's connection: it is flushed before each request,
    so the request sees what the test made, and expired after it, so the test reads what the
    request committed.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if has_app_context():
            db.session.flush()
        # A fresh context has no app context, so Flask pushes (and tears down) one per request.
        response = contextvars.Context().run(self.wsgi_app, environ, start_response)
        if has_app_context():
            db.session.expire_all()
        return response


def make_app(url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret-key",
        "RATELIMIT_ENABLED": False,
        "JOBS_RAISE": True,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SESSION_FILE_DIR": SESSION_DIR,
    }
    config.update(overrides)
    app = create_app(config)
    app.wsgi_app = ServerLikeRequests(app.wsgi_app)
    return app


def upgrade(app) -> None:
    from flask_migrate import upgrade as alembic_upgrade
    with app.app_context():
        alembic_upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def db_kind(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def database_url(db_kind, tmp_path_factory):
    url, drop = _new_database(db_kind, tmp_path_factory)
    upgrade(make_app(url))
    yield url
    drop()


@pytest.fixture(scope="session")
def _session_app(database_url, tmp_path_factory):
    app = make_app(database_url, MAIL_FOLDER=str(tmp_path_factory.mktemp("mail")))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_session_app):
    """The app, with every database change of the test rolled back afterwards.

    Every app context (the test's, and each request's) gets its own session on one connection
    inside one outer transaction; a session's commit releases a savepoint of it.
    """
    app = _session_app
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(
            bind=connection, class_=Session, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id)
        _watch_jobs(db.session)
        try:
            yield app
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


def _watch_jobs(session) -> None:
    @event.listens_for(session, "after_soft_rollback")
    def _drop(sess, previous):
        if previous.parent is None:
            sess.info.pop("pending_jobs", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app) -> Factory:
    """Factories that return callables: make.organizer(), make.event(org), make.invoice(event)…"""
    return Factory()


@pytest.fixture
def committed_app(db_kind, tmp_path_factory):
    """An app on its own fresh database with real commits (for concurrency tests)."""
    url, drop = _new_database(db_kind, tmp_path_factory)
    app = make_app(url, MAIL_FOLDER=str(tmp_path_factory.mktemp("mail")))
    upgrade(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """Use as `with count_queries() as q: …; q.count`."""
    from contextlib import contextmanager

    @contextmanager
    def counting():
        counter = QueryCounter()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", counter)

    return counting
