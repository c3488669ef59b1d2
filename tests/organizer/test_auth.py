"""Signing in and out: one failure message, safe `next`, cookie flags, rate limits, sessions
that end when the password changes."""

from __future__ import annotations

import pytest

from portal.extensions import db, limiter
from portal.models import User
from tests.conftest import make_app
from tests.factories import PASSWORD

from .conftest import Browser, commit_fixtures, csrf_token, text

FAILURE = "Wrong e-mail address or password."


def login(client, email, password, next_url=None, **kwargs):
    token = csrf_token(client)
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"csrf_token": token, "email": email, "password": password},
                       **kwargs)


def test_login_form_is_shown(client):
    response = client.get("/login")
    assert response.status_code == 200
    page = text(response)
    assert 'name="email"' in page and 'name="password"' in page
    assert 'name="csrf_token"' in page


def test_right_password_signs_in_and_lands_on_the_dashboard(client, user):
    response = login(client, "olivia@acme.example", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/org/"
    dashboard = client.get("/org/")
    assert dashboard.status_code == 200
    assert "Acme Events" in text(dashboard)
    assert "olivia@acme.example" in text(dashboard)


def test_email_is_matched_without_case_or_spaces(client, user):
    response = login(client, "  Olivia@ACME.example ", PASSWORD)
    assert response.status_code == 303


@pytest.mark.parametrize("case", ["wrong password", "unknown e-mail", "inactive user",
                                  "empty fields"])
def test_every_failure_gets_the_same_answer(client, user, case):
    email, password = {
        "wrong password": ("olivia@acme.example", "not the password"),
        "unknown e-mail": ("nobody@acme.example", PASSWORD),
        "inactive user": ("olivia@acme.example", PASSWORD),
        "empty fields": ("", ""),
    }[case]
    if case == "inactive user":
        user.active = False
        commit_fixtures()
    response = login(client, email, password)
    assert response.status_code == 401
    page = text(response)
    assert FAILURE in page
    assert PASSWORD not in page  # the password is never echoed back
    assert client.get("/org/").status_code == 302  # still signed out


@pytest.mark.parametrize("target", ["/org/acme/customers", "/org/?x=1"])
def test_next_leads_back_to_a_page_of_ours(client, user, target):
    response = login(client, "olivia@acme.example", PASSWORD, next_url=target)
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/\\evil.example", "javascript:alert(1)",
                                    "http://localhost/org/", "org/"])
def test_next_to_another_site_is_ignored(client, user, target):
    response = login(client, "olivia@acme.example", PASSWORD, next_url=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/org/"


def test_protected_page_sends_to_login_with_next(client):
    response = client.get("/org/acme/customers")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Forg%2Facme%2Fcustomers"


def test_login_without_csrf_token_is_rejected(client, user):
    response = client.post("/login", data={"email": "olivia@acme.example",
                                           "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/org/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, user):
    response = login(client, "olivia@acme.example", PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test server speaks plain HTTP


def test_session_cookie_is_secure_when_configured(app, client, user, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    response = login(client, "olivia@acme.example", PASSWORD, base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "; Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_needs_a_post_and_ends_the_session(client, user):
    browser = Browser(client, user)
    page = browser.get("/logout")
    assert page.status_code == 200 and "Sign out?" in text(page)
    assert browser.get("/org/").status_code == 200  # a GET signs nobody out
    response = browser.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "You are signed out." in text(browser.follow(response))
    assert browser.get("/org/").status_code == 302


def test_logout_without_csrf_token_is_rejected(client, user):
    Browser(client, user)
    assert client.post("/logout").status_code == 400
    assert client.get("/org/").status_code == 200


def test_changing_the_password_ends_other_sessions(app, user):
    mine, other = app.test_client(), app.test_client()
    me = Browser(mine, user)
    them = Browser(other, user)
    assert them.get("/org/").status_code == 200
    response = me.post("/org/account", {"current_password": PASSWORD,
                                        "new_password": "a brand new secret",
                                        "confirm_password": "a brand new secret"})
    assert response.status_code == 303
    assert "Other sessions are signed out" in text(me.follow(response))
    assert me.get("/org/").status_code == 200        # this session carries on
    assert them.get("/org/").status_code == 302      # the other one is over
    assert login(app.test_client(), "olivia@acme.example", "a brand new secret").status_code == 303


def test_wrong_current_password_changes_nothing(client, user):
    browser = Browser(client, user)
    response = browser.post("/org/account", {"current_password": "guess",
                                             "new_password": "a brand new secret",
                                             "confirm_password": "a brand new secret"})
    assert response.status_code == 400
    assert "This is not your current password." in text(response)
    assert db.session.get(User, user.id).session_version == 1


def test_a_stale_session_version_is_signed_out(client, user):
    browser = Browser(client, user)
    assert browser.get("/org/").status_code == 200
    user.session_version += 1
    commit_fixtures()
    assert browser.get("/org/").status_code == 302


# ---------------------------------------------------------------- rate limits
# Only failures count; the rules are in portal/ratelimits.py and portal/organizer/auth.py.

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OFFICE = {"REMOTE_ADDR": "198.51.100.4"}


@pytest.fixture
def limited(app, database_url):
    """A second app on the test's (rolled back) database with rate limiting on and small
    budgets (its counts start empty: each app has its own memory:// store)."""
    limited = make_app(database_url, RATELIMIT_ENABLED=True,
                       LOGIN_LIMIT_PER_IP="6 per 10 minutes",
                       LOGIN_LIMIT_PER_ACCOUNT="3 per 15 minutes",
                       LOGIN_LIMIT_PER_ACCOUNT_GLOBAL="8 per hour")
    with limited.app_context():
        yield limited
    limiter.enabled = False


def _attempt(app, email, password, environ, client=None):
    client = client or app.test_client()
    token = client.get("/login", environ_base=environ)
    assert token.status_code == 200
    html = text(token)
    value = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client.post("/login", data={"csrf_token": value, "email": email,
                                       "password": password}, environ_base=environ)


def test_failures_from_one_address_are_limited_for_that_account(limited, user):
    for _ in range(3):
        assert _attempt(limited, "olivia@acme.example", "guess", ATTACKER).status_code == 401
    # Spent before the password is looked at: from here even the right one learns nothing.
    blocked = _attempt(limited, "olivia@acme.example", PASSWORD, ATTACKER)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "Too many attempts" in text(blocked)
    # The same address may still try another account.
    assert _attempt(limited, "someone@acme.example", "guess", ATTACKER).status_code == 401


def test_a_strangers_failures_do_not_lock_the_user_out(limited, user):
    statuses = [_attempt(limited, "olivia@acme.example", "guess", ATTACKER).status_code
                for _ in range(50)]
    assert statuses == [401] * 3 + [429] * 47
    # Olivia, from her own address, signs in with her password at once.
    response = _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE)
    assert response.status_code == 303 and response.headers["Location"] == "/org/"


def test_successful_logins_spend_no_budget(limited, user):
    for _ in range(8):
        assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE).status_code == 303
    # Neither the account's budget nor the address's was touched by those.
    for n in range(3):
        assert _attempt(limited, "olivia@acme.example", "guess", OFFICE).status_code == 401, n
    for n in range(3):
        assert _attempt(limited, f"guess{n}@acme.example", "guess", OFFICE).status_code == 401, n


def test_login_failures_are_limited_per_address(limited, user):
    for n in range(6):
        response = _attempt(limited, f"guess{n}@acme.example", "guess", ATTACKER)
        assert response.status_code == 401
    assert _attempt(limited, "other@acme.example", "guess", ATTACKER).status_code == 429
    # Someone else, from another address, still gets in.
    assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE).status_code == 303


def test_the_global_account_back_off_needs_many_failures_from_many_addresses(limited, user):
    # Olivia's own browser signed in once before the attack (it keeps a device cookie).
    laptop = limited.test_client()
    assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE, laptop).status_code == 303
    assert laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/logout")},
                       environ_base=OFFICE).status_code == 303
    for n in range(7):
        address = {"REMOTE_ADDR": f"203.0.113.{100 + n}"}
        assert _attempt(limited, "olivia@acme.example", "guess", address).status_code == 401
    # Seven failures from seven addresses: not yet; a new browser still gets in.
    assert _attempt(limited, "olivia@acme.example", PASSWORD,
                    {"REMOTE_ADDR": "192.0.2.1"}).status_code == 303
    assert _attempt(limited, "olivia@acme.example", "guess",
                    {"REMOTE_ADDR": "203.0.113.200"}).status_code == 401
    # The eighth engages the back-off for the account from every unknown browser…
    for address in ("192.0.2.2", "203.0.113.201"):
        refused = _attempt(limited, "olivia@acme.example", PASSWORD, {"REMOTE_ADDR": address})
        assert refused.status_code == 429, address
    # …but not for Olivia's laptop, whichever address it comes from, nor for other accounts.
    assert _attempt(limited, "olivia@acme.example", PASSWORD, {"REMOTE_ADDR": "192.0.2.3"},
                    laptop).status_code == 303
    assert _attempt(limited, "someone@acme.example", "guess",
                    {"REMOTE_ADDR": "192.0.2.2"}).status_code == 401


def test_a_device_cookie_of_another_account_or_forged_earns_nothing(limited, user):
    laptop = limited.test_client()
    assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE, laptop).status_code == 303
    cookie = laptop.get_cookie("portal_login_device", path="/login")
    assert cookie is not None and cookie.http_only
    for n in range(8):
        address = {"REMOTE_ADDR": f"203.0.113.{100 + n}"}
        assert _attempt(limited, "olivia@acme.example", "guess", address).status_code == 401
    forged = limited.test_client()
    forged.set_cookie("portal_login_device", cookie.value[:-2] + "xx", path="/login")
    assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE, forged).status_code == 429


def test_signing_out_everywhere_ends_the_trust_in_known_browsers(limited, user):
    lost_laptop = limited.test_client()
    assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE,
                    lost_laptop).status_code == 303
    assert lost_laptop.post("/logout", data={"csrf_token": csrf_token(lost_laptop, "/logout"),
                                             "everywhere": "1"}).status_code == 303
    for n in range(8):
        address = {"REMOTE_ADDR": f"203.0.113.{100 + n}"}
        assert _attempt(limited, "olivia@acme.example", "guess", address).status_code == 401
    assert _attempt(limited, "olivia@acme.example", PASSWORD, OFFICE,
                    lost_laptop).status_code == 429


def test_the_login_page_itself_is_not_limited(limited):
    client = limited.test_client()
    for _ in range(10):
        assert client.get("/login", environ_base=ATTACKER).status_code == 200
