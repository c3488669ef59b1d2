"""Signing in with a customer key: the start page form, the magic link, sign out, rotation."""

from __future__ import annotations

import hashlib
import logging
import re
from html import unescape
from urllib.parse import urlencode

from sqlalchemy import text

from portal.customer.forms import WRONG_KEY
from portal.extensions import db
from portal.services import customers
from tests.factories import ACTOR

from .helpers import csrf_token, sign_in


def test_start_page_has_the_key_form_and_the_organizer_login(client):
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<form method="post" action="/my/access"' in html
    assert 'name="csrf_token"' in html
    assert 'id="key" maxlength="200" name="key" required spellcheck="false" type="password"' in html
    assert 'href="/login"' in html


def test_magic_link_signs_in_and_moves_the_key_out_of_the_address_bar(client, make):
    customer = make.customer(make.organizer(), name="Alice Buyer")
    response = client.get(f"/my/access/{customer.plain_key}")
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/invoices"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert customer.plain_key not in response.get_data(as_text=True)
    page = client.get("/my/invoices")
    assert page.status_code == 200
    assert "Alice Buyer" in page.get_data(as_text=True)


def test_session_holds_the_customer_id_and_key_version_never_the_key(client, make):
    customer = make.customer(make.organizer())
    sign_in(client, customer)
    with client.session_transaction() as session:
        assert session["customer_id"] == customer.id
        assert session["customer_key_version"] == 1
        assert customer.plain_key not in repr(dict(session))


def test_key_form_signs_in(client, make):
    customer = make.customer(make.organizer())
    token = csrf_token(client)
    response = client.post("/my/access", data={"key": f"  {customer.plain_key} ",
                                               "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/invoices"
    assert client.get("/my/invoices").status_code == 200


def test_key_form_needs_its_csrf_token(client, make):
    customer = make.customer(make.organizer())
    response = client.post("/my/access", data={"key": customer.plain_key})
    assert response.status_code == 400
    assert client.get("/my/invoices").status_code == 303  # not signed in


def test_wrong_keys_get_one_neutral_message(client, make):
    customer = make.customer(make.organizer())
    old_key = customer.plain_key
    customers.rotate_key(customer, actor=ACTOR)
    token = csrf_token(client)
    pages = []
    for key in ("ck_not-a-key", old_key, "x" * 500, "' OR 1=1 --"):
        response = client.post("/my/access", data={"key": key, "csrf_token": token})
        assert response.status_code == 401
        html = response.get_data(as_text=True)
        assert str(WRONG_KEY) in html
        # The typed key stays in the field (SPEC §14: a typo can be seen), and only there.
        kept = re.search(r'<input [^>]*id="key"[^>]*value="([^"]*)"', html)
        assert kept is not None and unescape(kept.group(1)) == key
        assert html.count(kept.group(1)) == 1
        pages.append(html.replace(kept.group(1), ""))
    assert len(set(pages)) == 1  # the same page, whatever was wrong with the key
    assert client.get("/my/invoices").status_code == 303


def test_empty_key_asks_for_one(client):
    response = client.post("/my/access", data={"key": "", "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert "Enter the customer key you received." in response.get_data(as_text=True)


def test_wrong_magic_link_redirects_to_the_start_page_with_the_same_message(client, make):
    customer = make.customer(make.organizer())
    response = client.get("/my/access/ck_wrong" + customer.plain_key[8:])
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    start = client.get("/").get_data(as_text=True)
    assert str(WRONG_KEY) in start
    assert client.get("/my/invoices").status_code == 303


def test_the_key_is_stored_only_as_its_sha256(app, make):
    customer = make.customer(make.organizer())
    row = db.session.execute(text("SELECT * FROM customers WHERE id = :id"),
                             {"id": customer.id}).mappings().one()
    assert row["key_hash"] == hashlib.sha256(customer.plain_key.encode()).hexdigest()
    assert all(customer.plain_key not in str(value) for value in row.values())
    assert len(customer.plain_key) >= 3 + 22  # "ck_" + at least 128 bits in base64


def test_rotating_the_key_ends_open_sessions_at_once(client, make):
    customer = make.customer(make.organizer())
    old_key = customer.plain_key
    sign_in(client, customer)
    assert client.get("/my/invoices").status_code == 200

    new_key = customers.rotate_key(customer, actor=ACTOR)

    response = client.get("/my/invoices")
    assert response.status_code == 303
    assert response.headers["Location"] == "/?next=/my/invoices"  # back there after the key
    with client.session_transaction() as session:
        assert "customer_id" not in session
    assert "your customer key was changed" in client.get("/").get_data(as_text=True)
    assert client.get(f"/my/access/{old_key}").headers["Location"] == "/"
    assert client.get(f"/my/access/{new_key}").headers["Location"] == "/my/invoices"
    assert client.get("/my/invoices").status_code == 200


def test_sign_out_ends_the_session(client, make):
    customer = make.customer(make.organizer())
    sign_in(client, customer)
    token = csrf_token(client, "/my/invoices")
    response = client.post("/my/sign-out", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "customer_id" not in session and "customer_key_version" not in session
    assert client.get("/my/invoices").status_code == 303
    assert "You are signed out." in client.get("/").get_data(as_text=True)


def test_pages_need_a_signed_in_customer(client, world):
    for url in ("/my/", "/my/invoices", f"/my/invoices/{world.a_first.id}",
                f"/my/invoices/{world.a_first.id}/pdf", "/my/invoices.zip"):
        response = client.get(url)
        assert response.status_code == 303, url
        # The key form, remembering the page to return to.
        assert response.headers["Location"] == "/?" + urlencode({"next": url}, safe="/"), url


def test_the_key_never_reaches_our_logs(client, make, caplog):
    customer = make.customer(make.organizer())
    assert not [name for name, logger in logging.root.manager.loggerDict.items()
                if isinstance(logger, logging.Logger) and logger.disabled], \
        "a disabled logger could hide a leak"
    with caplog.at_level(logging.DEBUG):
        sign_in(client, customer)
        client.get("/my/access/ck_wrong-key-for-the-log")
        client.post("/my/access", data={"key": customer.plain_key,
                                        "csrf_token": csrf_token(client)})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert customer.plain_key not in logged
    assert "ck_wrong-key-for-the-log" not in logged
