"""Engine tuning that differs per database.

SQLite: WAL so readers never wait for the writer, foreign keys on, a busy timeout, and
`BEGIN IMMEDIATE` for every transaction that may write. A deferred transaction that reads first
and writes later can fail at once with "database is locked" when another writer got in between
(the busy timeout does not help there); taking the write lock up front makes writers queue
instead. Read-only requests (GET/HEAD) stay deferred so they never queue behind writers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READING = ContextVar("portal_reading", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: on SQLite they start deferred, so a background
    reader (an operator listing, a test watching workers) never holds the write lock while
    it looks."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


def _may_write() -> bool:
    if _READING.get():
        return False
    if has_request_context():
        return request.method not in READ_METHODS
    return True


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let us issue BEGIN ourselves (pysqlite's own BEGIN is always deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _may_write() else "BEGIN")
