"""Server-side sessions in the back office: signing out ends that session on the server, so a
copy of its cookie opens nothing; other browsers stay signed in unless the user signs out
everywhere; signing in gives the session a new id."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from portal.models import User
from tests.conftest import make_app
from tests.factories import PASSWORD

from .conftest import commit_fixtures, csrf_token, replay, session_id, text

REDIS_URL = "redis://127.0.0.1:6379/0"


def login(client) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"csrf_token": token, "email": "olivia@acme.example",
                                           "password": PASSWORD})
    assert response.status_code == 303


def logout(client, **data) -> str:
    token = csrf_token(client, "/logout")
    response = client.post("/logout", data={"csrf_token": token, **data})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    return text(client.get("/login"))


def signed_in(client) -> bool:
    response = client.get("/org/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_the_cookie_holds_an_id_not_the_session(app, client, user):
    login(client)
    sid = session_id(client)
    assert sid and "." not in sid and "_user_id" not in sid  # not a signed cookie with data
    assert len(sid) >= 40


def test_a_cookie_copied_before_logout_opens_nothing_afterwards(app, client, user):
    login(client)
    copied = session_id(client)
    assert signed_in(replay(app, copied))  # the copy works while the session lives…
    assert "You are signed out." in logout(client)
    assert not signed_in(client)
    thief = replay(app, copied)
    assert not signed_in(thief)  # …and not after the logout
    assert "Please sign in" in text(thief.get("/org/", follow_redirects=True))


def test_logout_leaves_the_users_other_browsers_signed_in(app, user):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop)
    login(phone)
    assert session_id(laptop) != session_id(phone)
    logout(laptop)
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_sign_out_everywhere_ends_every_session_of_the_user(app, make, user):
    laptop, phone, copy_holder = app.test_client(), app.test_client(), None
    login(laptop)
    login(phone)
    copy_holder = replay(app, session_id(phone))
    someone_else = app.test_client()
    other = make.member(make.organizer(slug="other"), "owner", email="oscar@other.example")
    commit_fixtures()
    token = csrf_token(someone_else)
    assert someone_else.post("/login", data={"csrf_token": token, "email": other.email,
                                             "password": PASSWORD}).status_code == 303

    page = text(laptop.get("/logout"))
    assert "Sign out everywhere" in page and 'name="everywhere"' in page
    assert "You are signed out everywhere." in logout(laptop, everywhere="1")
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert not signed_in(copy_holder)
    assert signed_in(someone_else)  # another user is not touched
    assert User.query.filter_by(email="olivia@acme.example").one().session_version == 2
    login(phone)  # and signing in again works
    assert signed_in(phone)


def test_login_gives_the_session_a_new_id(app, client, user):
    client.get("/login")  # the form's CSRF token opens a session before signing in
    before = session_id(client)
    assert before
    login(client)
    after = session_id(client)
    assert after and after != before
    # The id from before signing in (one an attacker could have planted) is gone.
    planted = replay(app, before)
    assert not signed_in(planted)
    assert session_id(planted) != before


def test_logout_with_a_get_or_without_csrf_ends_nothing(app, client, user):
    login(client)
    copied = session_id(client)
    assert client.post("/logout", data={"everywhere": "1"}).status_code == 400
    assert signed_in(client) and signed_in(replay(app, copied))


@pytest.fixture
def redis_app(app, database_url):
    """A second app on the test's database with its sessions in Redis, as in production."""
    prefix = f"test-session-{uuid.uuid4().hex}:"
    redis_app = make_app(database_url, SESSION_REDIS_URL=REDIS_URL, SESSION_KEY_PREFIX=prefix)
    with redis_app.app_context():
        yield redis_app, prefix
    redis = Redis.from_url(REDIS_URL)
    for key in redis.scan_iter(match=prefix + "*"):
        redis.delete(key)


def test_redis_sessions_end_on_logout_and_are_shared_by_every_worker(redis_app, user):
    app, prefix = redis_app
    redis = Redis.from_url(REDIS_URL)
    client = app.test_client()
    login(client)
    sid = session_id(client)
    assert redis.exists(prefix + sid)
    assert redis.ttl(prefix + sid) > 0
    # Another worker (another app on the same Redis) knows the session.
    worker = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SESSION_REDIS_URL=REDIS_URL,
                      SESSION_KEY_PREFIX=prefix)
    with worker.app_context():
        assert signed_in(replay(worker, sid))
        logout(client)
        assert not redis.exists(prefix + sid)
        assert not signed_in(replay(worker, sid))


def test_changing_the_password_moves_this_session_to_a_new_id(app, client, user):
    login(client)
    copied = session_id(client)
    token = csrf_token(client, "/org/account")
    response = client.post("/org/account", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": "a brand new secret", "confirm_password": "a brand new secret"})
    assert response.status_code == 303
    assert signed_in(client)
    assert session_id(client) != copied
    assert not signed_in(replay(app, copied))
