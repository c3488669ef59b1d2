"""Password reset by e-mail (issue 18): through a real SMTP server (aiosmtpd); hashed,
single-use, expiring tokens; the same answer for unknown addresses; rate limited."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading

import pytest
from sqlalchemy import select

from portal.extensions import db, limiter
from portal.models import PasswordReset, User
from portal.services import password_resets
from tests.conftest import make_app
from tests.services.test_mail import SmtpServer

from .conftest import CSRF, Browser, commit_fixtures, text

PASSWORD = "correct horse battery"


@pytest.fixture
def smtp(app, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
        yield server


@pytest.fixture
def olivia(make, fast_passwords):
    organizer = make.organizer(slug="acme", name="Acme Events")
    user = make.member(organizer, "owner", email="olivia@acme.example")
    user.locale = "de"
    commit_fixtures()
    return user


def ask(client, email: str, environ=None):
    browser = Browser(client)
    return browser.post("/password/forgot", {"email": email}, environ_base=environ or {})


def mailed_link(smtp) -> str:
    body = smtp.parsed().get_body(("plain",)).get_content()
    return re.search(r"http://\S+/password/reset/(\S+)", body).group(0)


def test_the_link_is_mailed_hashed_and_works_once(client, olivia, smtp):
    response = ask(client, "Olivia@Acme.example")
    assert response.status_code == 303
    assert "If an account exists for this address" in text(client.get(response.headers["Location"]))
    assert len(smtp.messages) == 1 and smtp.messages[0][0] == ["olivia@acme.example"]
    message = smtp.parsed()
    # In Olivia's language (de); a long encoded subject is folded, hence strip().
    assert message["Subject"].strip() == "Ihr Passwort für das Rechnungsportal zurücksetzen"
    link = mailed_link(smtp)
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalars(select(PasswordReset)).all()
    assert [r.token_hash for r in stored] == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in {r.token_hash for r in stored}
    # nowhere in the database: not in a job's arguments, not in the audit log
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).all():
            assert token not in repr(tuple(row)), table.name
    # lives one hour
    assert stored[0].expires_at - stored[0].created_at == dt.timedelta(hours=1)

    path = "/password/reset/" + token
    form = client.get(path)
    assert form.status_code == 200
    csrf = CSRF.search(text(form)).group(1)
    short = client.post(path, data={"csrf_token": csrf, "new_password": "short",
                                    "confirm_password": "short"})
    assert short.status_code == 400 and 'id="new_password-errors"' in text(short)
    done = client.post(path, data={"csrf_token": csrf, "new_password": "a brand new secret",
                                   "confirm_password": "a brand new secret"})
    assert done.status_code == 303
    db.session.expire_all()
    user = db.session.get(User, olivia.id)
    assert user.session_version == 2  # every session of the user ends
    from werkzeug.security import check_password_hash
    assert check_password_hash(user.password_hash, "a brand new secret")
    # single use
    assert client.get(path).status_code == 410
    csrf = CSRF.search(text(client.get("/login"))).group(1)  # a new session: a new token
    again = client.post(path, data={"csrf_token": csrf, "new_password": "another new secret",
                                    "confirm_password": "another new secret"})
    assert again.status_code == 410


def test_unknown_address_gets_the_same_answer_and_no_mail(client, olivia, smtp):
    known = ask(client, "olivia@acme.example")
    unknown = ask(client, "nobody@acme.example")
    assert (known.status_code, known.headers["Location"]) == \
        (unknown.status_code, unknown.headers["Location"])
    assert len(smtp.messages) == 1
    assert db.session.scalar(select(db.func.count(PasswordReset.id))) == 1


def test_an_expired_link_is_refused(client, olivia, smtp):
    ask(client, "olivia@acme.example")
    token = mailed_link(smtp).rsplit("/", 1)[1]
    reset = db.session.scalar(select(PasswordReset))
    reset.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    commit_fixtures()
    assert client.get("/password/reset/" + token).status_code == 410
    assert client.get("/password/reset/not-a-token").status_code == 410


def test_a_new_request_voids_the_older_link(client, olivia, smtp):
    ask(client, "olivia@acme.example")
    first = mailed_link(smtp).rsplit("/", 1)[1]
    ask(client, "olivia@acme.example")
    second = mailed_link(smtp).rsplit("/", 1)[1]
    assert client.get("/password/reset/" + first).status_code == 410
    assert client.get("/password/reset/" + second).status_code == 200


def test_two_submissions_of_one_link_racing_set_the_password_once(committed_app, make_user):
    user_id, token = make_user
    outcomes = []
    barrier = threading.Barrier(2)

    def submit(secret):
        with committed_app.app_context():
            barrier.wait()
            try:
                password_resets.reset_password(token, secret, secret)
                db.session.commit()
                outcomes.append(secret)
            except Exception:  # noqa: BLE001 - the loser's refusal or lock error
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(s,)) for s in
               ("first new secret", "second new secret")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 1
    with committed_app.app_context():
        from werkzeug.security import check_password_hash
        user = db.session.get(User, user_id)
        assert check_password_hash(user.password_hash, outcomes[0])
        assert user.session_version == 2


@pytest.fixture
def make_user(committed_app):
    from portal.services import organizers
    with committed_app.app_context():
        user = organizers.create_user("race@acme.example", "an old password")
        db.session.commit()
        from portal import jobs
        password_resets.request_reset("race@acme.example")
        reset = db.session.scalar(select(PasswordReset))
        token = password_resets.issue_token(reset)
        jobs.discard_pending()
        db.session.commit()
        return user.id, token


def test_requests_are_rate_limited_per_account(database_url, olivia):
    limited = make_app(database_url, RATELIMIT_ENABLED=True,
                       RESET_LIMIT_PER_ACCOUNT="2 per hour", RESET_LIMIT_PER_IP="50 per hour",
                       MAIL_FOLDER="/tmp")
    try:
        with limited.app_context():
            client = limited.test_client()
            codes = [ask(client, "olivia@acme.example").status_code for _ in range(3)]
            assert codes == [303, 303, 429]
            # an unknown address is limited exactly alike (no enumeration through the limit)
            codes = [ask(client, "ghost@acme.example").status_code for _ in range(3)]
            assert codes == [303, 303, 429]
    finally:
        limiter.enabled = False
