"""Wrong keys are rate limited per IP address; a right key always works (keys carry 128+
random bits, so refusing one would only let a neighbour lock its customer out)."""

from __future__ import annotations

import pytest

from tests.conftest import make_app

from .helpers import csrf_token

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
CUSTOMER = {"REMOTE_ADDR": "198.51.100.20"}


@pytest.fixture
def limited(app, database_url):
    """A second app on the same (rolled back) database, with rate limiting on, as in production.

    It shares the test's database session, so it sees what the test made without commits.
    """
    limited = make_app(database_url, RATELIMIT_ENABLED=True)
    with limited.app_context():
        yield limited


def test_repeated_wrong_keys_get_429_and_a_right_key_still_works(limited, make):
    customer = make.customer(make.organizer())
    attacker = limited.test_client()
    for attempt in range(10):
        response = attacker.get(f"/my/access/ck_guess{attempt}", environ_base=ATTACKER)
        assert response.status_code == 303, attempt

    blocked = attacker.get("/my/access/ck_guess10", environ_base=ATTACKER)
    assert blocked.status_code == 429
    assert "Too many attempts. Please wait a moment and try again." in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    assert blocked.headers["Referrer-Policy"] == "no-referrer"
    # The customer gets in from another address…
    other = limited.test_client()
    response = other.get(f"/my/access/{customer.plain_key}", environ_base=CUSTOMER)
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/invoices"
    assert other.get("/my/invoices", environ_base=CUSTOMER).status_code == 200
    # …and from the very address whose budget is spent (say, the same office NAT): someone
    # else's wrong keys never refuse a right one.
    neighbour = limited.test_client()
    response = neighbour.get(f"/my/access/{customer.plain_key}", environ_base=ATTACKER)
    assert response.status_code == 303 and response.headers["Location"] == "/my/invoices"
    assert neighbour.get("/my/invoices", environ_base=ATTACKER).status_code == 200
    # The budget is still spent for wrong keys.
    assert attacker.get("/my/access/ck_guess11", environ_base=ATTACKER).status_code == 429


def test_a_right_key_in_the_form_works_on_a_spent_address(limited, make):
    customer = make.customer(make.organizer())
    client = limited.test_client()
    token = csrf_token(client)
    for attempt in range(10):
        client.get(f"/my/access/ck_guess{attempt}", environ_base=ATTACKER)
    response = client.post("/my/access", data={"key": "ck_more", "csrf_token": token},
                           environ_base=ATTACKER)
    assert response.status_code == 429
    response = client.post("/my/access", data={"key": customer.plain_key, "csrf_token": token},
                           environ_base=ATTACKER)
    assert response.status_code == 303 and response.headers["Location"] == "/my/invoices"


def test_the_form_and_the_magic_link_share_one_budget(limited, make):
    client = limited.test_client()
    token = csrf_token(client)
    for attempt in range(5):
        assert client.get(f"/my/access/ck_guess{attempt}",
                          environ_base=ATTACKER).status_code == 303
    for attempt in range(5):
        response = client.post("/my/access", data={"key": f"ck_form{attempt}", "csrf_token": token},
                               environ_base=ATTACKER)
        assert response.status_code == 401
    response = client.post("/my/access", data={"key": "ck_more", "csrf_token": token},
                           environ_base=ATTACKER)
    assert response.status_code == 429


def test_right_keys_do_not_spend_the_budget(limited, make):
    customer = make.customer(make.organizer())
    client = limited.test_client()
    for _ in range(15):
        assert client.get(f"/my/access/{customer.plain_key}",
                          environ_base=CUSTOMER).status_code == 303
