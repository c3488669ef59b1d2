"""Server-side sessions in the customer area: signing out ends that session on the server, so
a copy of its cookie opens nothing afterwards; other browsers of the customer stay signed in;
signing in gives the session a new id."""

from __future__ import annotations

from portal.services.customers import rotate_key
from tests.factories import ACTOR
from tests.organizer.conftest import replay, session_id
from tests.organizer.conftest import sign_in as organizer_sign_in

from .helpers import csrf_token


def signed_in(client) -> bool:
    response = client.get("/my/invoices")
    assert response.status_code in (200, 303)
    return response.status_code == 200


def sign_in(client, customer) -> None:
    response = client.get(f"/my/access/{customer.plain_key}")
    assert response.status_code == 303 and response.headers["Location"] == "/my/invoices"


def sign_out(client) -> None:
    token = csrf_token(client, "/my/invoices")
    response = client.post("/my/sign-out", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, client, make):
    customer = make.customer(make.organizer())
    sign_in(client, customer)
    copied = session_id(client)
    assert copied and "." not in copied
    assert signed_in(replay(app, copied))  # the copy works while the session lives…
    sign_out(client)
    assert not signed_in(client)
    assert not signed_in(replay(app, copied))  # …and not after signing out
    assert session_id(client) != copied


def test_sign_out_leaves_the_customers_other_browsers_signed_in(app, make):
    customer = make.customer(make.organizer())
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, customer)
    sign_in(phone, customer)
    sign_out(laptop)
    assert not signed_in(laptop)
    assert signed_in(phone)


def test_signing_in_gives_the_session_a_new_id(app, client, make):
    customer = make.customer(make.organizer())
    csrf_token(client)  # the key form opens a session before signing in
    before = session_id(client)
    assert before
    sign_in(client, customer)
    assert session_id(client) != before
    assert not signed_in(replay(app, before))


def test_an_organizer_signed_in_in_the_same_browser_stays_signed_in(app, client, make):
    organizer = make.organizer()
    user = make.member(organizer, "owner")
    customer = make.customer(organizer)
    organizer_sign_in(client, user)
    sign_in(client, customer)
    copied = session_id(client)
    sign_out(client)
    assert not signed_in(client)
    assert client.get("/org/").status_code == 200
    # The copy taken before opens neither area now.
    thief = replay(app, copied)
    assert not signed_in(thief)
    assert thief.get("/org/").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_the_customer(app, make):
    customer = make.customer(make.organizer())
    bystander = make.customer(customer.organizer)
    laptop, phone, other = app.test_client(), app.test_client(), app.test_client()
    sign_in(laptop, customer)
    sign_in(phone, customer)
    sign_in(other, bystander)
    page = laptop.get("/my/invoices").get_data(as_text=True)
    assert 'name="everywhere"' in page and "Sign out everywhere" in page
    token = csrf_token(laptop, "/my/invoices")
    response = laptop.post("/my/sign-out", data={"csrf_token": token, "everywhere": "1"})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "You are signed out everywhere." in laptop.get("/").get_data(as_text=True)
    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert "You were signed out on every device" in phone.get("/").get_data(as_text=True)
    assert signed_in(other)  # another customer is not touched
    # The key keeps working.
    sign_in(phone, customer)
    assert signed_in(phone)


def test_rotating_the_key_still_says_the_key_changed(client, make):
    customer = make.customer(make.organizer())
    sign_in(client, customer)
    rotate_key(customer, actor=ACTOR)
    assert not signed_in(client)
    assert "your customer key was changed" in client.get("/").get_data(as_text=True)
