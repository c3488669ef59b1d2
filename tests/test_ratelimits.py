"""Failure counts live in the store every worker shares (Redis in production), and a start-up
with the per-process memory:// store in production says so in the log."""

from __future__ import annotations

import logging
import uuid

import pytest
from redis import Redis

from tests.conftest import make_app
from tests.factories import PASSWORD
from tests.organizer.conftest import commit_fixtures

REDIS_URL = "redis://127.0.0.1:6379/0"
ATTACKER = {"REMOTE_ADDR": "203.0.113.50"}
OFFICE = {"REMOTE_ADDR": "198.51.100.50"}
EMAIL = "olivia@acme.example"


@pytest.fixture
def redis_prefix():
    prefix = f"test-limits-{uuid.uuid4().hex}"
    yield prefix
    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(match=f"*{prefix}*"):
        redis.delete(key)


def _worker(database_url, prefix):
    """One gunicorn worker's app: its own process state, the shared Redis for counts."""
    return make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL,
                    RATELIMIT_KEY_PREFIX=prefix, LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes",
                    CUSTOMER_ACCESS_RATE_LIMIT="3 per minute")


def _login(app, email, password, environ):
    client = app.test_client()
    html = client.get("/login", environ_base=environ).get_data(as_text=True)
    token = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": password}, environ_base=environ)


def test_two_workers_share_the_login_failure_count_in_redis(app, database_url, make,
                                                           redis_prefix):
    make.member(make.organizer(), "owner", email=EMAIL)
    commit_fixtures()
    first, second = _worker(database_url, redis_prefix), _worker(database_url, redis_prefix)
    with first.app_context():
        assert _login(first, EMAIL, "guess", ATTACKER).status_code == 401
        assert _login(first, EMAIL, "guess", ATTACKER).status_code == 401
    with second.app_context():
        assert _login(second, EMAIL, "guess", ATTACKER).status_code == 401
        # The third failure was counted by the other worker: this one knows.
        assert _login(second, EMAIL, "guess", ATTACKER).status_code == 429
    with first.app_context():
        assert _login(first, EMAIL, PASSWORD, ATTACKER).status_code == 429
        assert _login(first, EMAIL, PASSWORD, OFFICE).status_code == 303
    keys = list(Redis.from_url(REDIS_URL).scan_iter(match=f"*{redis_prefix}*"))
    assert keys, "the counts are in Redis"


def test_two_workers_share_the_wrong_key_count_in_redis(app, database_url, make, redis_prefix):
    key = make.customer(make.organizer()).plain_key
    commit_fixtures()
    first, second = _worker(database_url, redis_prefix), _worker(database_url, redis_prefix)
    for worker in (first, second, first):
        with worker.app_context():
            response = worker.test_client().get("/my/access/ck_wrong", environ_base=ATTACKER)
            assert response.status_code == 303
    with second.app_context():
        client = second.test_client()
        assert client.get("/my/access/ck_wrong", environ_base=ATTACKER).status_code == 429
        assert client.get(f"/my/access/{key}",
                          environ_base=ATTACKER).status_code == 303


def test_separate_memory_stores_do_not_share_counts(app, database_url, make):
    """Why production needs Redis: two workers on memory:// each count on their own."""
    make.member(make.organizer(), "owner", email=EMAIL)
    commit_fixtures()
    first, second = (make_app(database_url, RATELIMIT_ENABLED=True,
                              LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes") for _ in range(2))
    for worker in (first, first, second, second):
        with worker.app_context():
            assert _login(worker, EMAIL, "guess", ATTACKER).status_code == 401
    with first.app_context():
        assert _login(first, EMAIL, "guess", ATTACKER).status_code == 429


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def portal_log():
    # Alembic's logging setup (run by the database fixture) disables existing loggers.
    logger, handler = logging.getLogger("portal"), _Collect()
    disabled = logger.disabled
    logger.disabled = False
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)
    logger.disabled = disabled


@pytest.mark.parametrize(("env", "uri", "warned"), [
    ("production", "memory://", True),
    ("production", REDIS_URL, False),
    ("development", "memory://", False),
])
def test_memory_storage_in_production_is_logged_at_start_up(database_url, portal_log,
                                                           env, uri, warned):
    make_app(database_url, PORTAL_ENV=env, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=uri)
    found = [m for m in portal_log if "RATELIMIT_STORAGE_URI is memory://" in m]
    assert bool(found) is warned


def test_a_store_that_is_away_neither_fails_nor_locks_out(app, database_url, make, caplog):
    """Redis down: sign-ins still answer (right 303, wrong 401), never 500, and the log says
    the limits are not applied."""
    make.member(make.organizer(), "owner", email=EMAIL)
    commit_fixtures()
    away = make_app(database_url, RATELIMIT_ENABLED=True,
                    RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                    RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.2})
    with away.app_context(), caplog.at_level(logging.WARNING):
        assert _login(away, EMAIL, "guess", ATTACKER).status_code == 401
        assert _login(away, EMAIL, PASSWORD, ATTACKER).status_code == 303
        client = away.test_client()
        assert client.get("/my/access/ck_wrong", environ_base=ATTACKER).status_code == 303
    assert "rate-limit store unreachable" in caplog.text
