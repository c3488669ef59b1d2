"""An expired session on a form (issue 18): sign in again and get the same form back with
what was typed; never a bare 400 page, nothing saved on the way."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import FormStash, Invoice, Payment
from tests.factories import PASSWORD

from .conftest import CSRF, commit_fixtures, invoice_form, line_row, text

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def sign_in_with_form(client, email: str, next_url: str):
    token = CSRF.search(text(client.get("/login?next=" + next_url))).group(1)
    return client.post("/login", data={"csrf_token": token, "email": email,
                                       "password": PASSWORD, "next": next_url})


def expire(client) -> None:
    """The server forgets the session (expired, or its store was emptied)."""
    client.delete_cookie("session")


def counts():
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Invoice.id))),
            db.session.scalar(select(func.count(Payment.id))))


def test_the_invoice_form_comes_back_with_what_was_typed(client, world):
    page = client.get("/login")
    token = CSRF.search(text(page)).group(1)
    from .conftest import sign_in
    sign_in(client, world.manager)
    before = counts()
    expire(client)
    form = invoice_form(world.customer.reference,
                        lines=[line_row(description="Stand A-12", unit_price="1234.50"),
                               line_row(description="Power", quantity="2", unit_price="80")],
                        **{"texts-footer": "Thank you – see you in Berlin"})
    response = client.post(world.url("/invoices/new"), data={"csrf_token": token, **form})
    # not a 400 page: to the sign-in page, which leads back to the form
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    target = parse_qs(urlsplit(location).query)["next"][0]
    assert target.startswith(world.url("/invoices/new") + "?stash=")
    key = parse_qs(urlsplit(target).query)["stash"][0]
    # kept only as a hash, without the stale token
    stash = db.session.scalar(select(FormStash))
    assert stash.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in stash.key_hash and "csrf_token" not in {n for n, _ in stash.data}
    assert counts() == before

    signed_in = sign_in_with_form(client, world.manager.email, target)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == target
    restore = client.get(target)
    assert restore.status_code == 200
    fields = dict(HIDDEN.findall(text(restore)))
    assert fields["lines-0-description"] == "Stand A-12"
    assert fields["lines-1-quantity"] == "2"
    assert fields["texts-footer"] == "Thank you – see you in Berlin"
    assert fields["command"] == "restore"
    assert "data-auto-submit" in text(restore)
    # what the page (or its script) posts: the same form, filled in, nothing saved
    reopened = client.post(world.url("/invoices/new"), data=fields)
    assert reopened.status_code == 200
    page = text(reopened)
    assert 'value="Stand A-12"' in page and 'value="1234.50"' in page
    assert "Thank you – see you in Berlin" in page
    assert counts() == before
    # the key works once
    again = client.get(target)
    assert again.status_code == 303
    assert db.session.scalar(select(func.count(FormStash.id))) == 0


def test_a_payment_sent_after_the_session_expired_is_kept_for_sending_again(client, world):
    detail = world.url(f"/invoices/{world.open.id}")
    token = CSRF.search(text(client.get("/login"))).group(1)
    before = counts()
    # signed out (the session is gone) while the invoice page was open
    response = client.post(world.url(f"/invoices/{world.open.id}/payments"),
                           data={"csrf_token": token, "amount": "19.00", "date": "2026-01-05",
                                 "method": "cash", "reference": "till 3"},
                           headers={"Referer": "http://localhost" + detail})
    assert response.status_code == 302
    target = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    assert target.startswith(detail + "?stash=")  # back on the page the button was on
    assert counts() == before
    assert sign_in_with_form(client, world.manager.email, target).status_code == 303
    restore = text(client.get(target))
    assert f'action="{world.url(f"/invoices/{world.open.id}/payments")}"' in restore
    assert "data-auto-submit" not in restore  # a payment waits for the click
    fields = dict(HIDDEN.findall(restore))
    assert (fields["amount"], fields["reference"]) == ("19.00", "till 3")
    sent = client.post(world.url(f"/invoices/{world.open.id}/payments"), data=fields)
    assert sent.status_code == 303
    assert counts()[1] == before[1] + 1


def test_a_csrf_failure_while_signed_in_returns_to_the_form(client, world):
    from .conftest import Browser
    browser = Browser(client, world.owner)
    browser.token = "stale"
    before = counts()
    response = browser.post(world.url("/invoices/new"), invoice_form(world.customer.reference))
    assert response.status_code == 303
    assert response.headers["Location"].startswith(world.url("/invoices/new") + "?stash=")
    restore = client.get(response.headers["Location"])
    assert restore.status_code == 200 and "Continue where you left off" in text(restore)
    assert counts() == before


def test_passwords_are_never_kept(client, world):
    token = CSRF.search(text(client.get("/login"))).group(1)
    response = client.post("/org/account", data={"csrf_token": token,
                                                 "current_password": "secret one",
                                                 "new_password": "secret two two",
                                                 "confirm_password": "secret two two"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(FormStash.id))) == 0
    commit_fixtures()


def test_sign_in_without_a_token_is_its_page_again(client, world):
    response = client.post("/login", data={"email": world.owner.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert 'name="password"' in text(response)


def test_a_planted_stash_is_worth_nothing_without_the_browsers_cookie(app, client, world):
    # Someone else posts a form to a back-office address and sends the manager the link.
    stranger = app.test_client()
    token = CSRF.search(text(stranger.get("/login"))).group(1)
    planted = stranger.post(world.url(f"/invoices/{world.open.id}/payments"),
                            data={"csrf_token": token, "amount": "119.00", "date": "2026-01-05",
                                  "method": "cash", "reference": "", "command": "save"})
    target = parse_qs(urlsplit(planted.headers["Location"]).query)["next"][0]
    from .conftest import sign_in
    sign_in(client, world.manager)
    response = client.get(target)
    assert response.status_code == 303  # nothing given back, nothing sent
    assert "data-restore-form" not in text(client.get(response.headers["Location"]))
    # the stranger's own browser gets it back, but a payment is never sent by itself
    assert sign_in_with_form(stranger, world.manager.email, target).status_code == 303
    page = text(stranger.get(target))
    assert "data-restore-form" in page and "data-auto-submit" not in page
    assert counts()[1] == 1  # only the paid invoice's payment from the world
