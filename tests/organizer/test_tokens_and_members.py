"""API tokens (shown once, read-only or read-write, limited to events, revocable) and the
members of an organizer, managed by its owners."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.extensions import db
from portal.models import ApiToken, Membership, User
from portal.services.tokens import token_for_secret

from .conftest import Browser, commit_fixtures, text

SECRET = re.compile(r'id="api-token" class="secret" value="(pt_[^"]+)"')


def test_create_a_read_only_token_for_one_event(as_owner, world):
    response = as_owner.post(world.org_url("/tokens"), {
        "name": "Shop sync", "access": "read_only", "events": [str(world.event1.id)]})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = text(response)
    secret = SECRET.search(page).group(1)
    assert "This is the only time the token is shown." in page
    token = token_for_secret(secret)
    assert token.name == "Shop sync" and token.read_only and not token.all_events
    assert [e.id for e in token.events] == [world.event1.id]
    listing = text(as_owner.get(world.org_url("/tokens")))
    assert "Shop sync" in listing and token.token_prefix in listing and secret not in listing


def test_create_a_read_write_token_for_every_event(as_owner, world):
    page = text(as_owner.post(world.org_url("/tokens"), {"name": "ERP", "access": "read_write"}))
    token = token_for_secret(SECRET.search(page).group(1))
    assert not token.read_only and token.all_events


def test_token_errors(as_owner, world):
    response = as_owner.post(world.org_url("/tokens"), {"name": "", "access": "read_only"})
    assert response.status_code == 400
    assert "Give the token a name of at most 100 characters." in text(response)
    response = as_owner.post(world.org_url("/tokens"), {
        "name": "x", "access": "read_only", "events": [str(world.other_event.id)]})
    assert response.status_code == 400
    assert "Choose events of this organizer." in text(response)
    assert db.session.scalar(select(ApiToken.id).where(
        ApiToken.organizer_id == world.organizer.id)) is None


def test_revoke_a_token(as_owner, world, make):
    token = make.token(world.organizer)
    commit_fixtures()
    response = as_owner.post(world.org_url(f"/tokens/{token.id}/revoke"))
    assert response.status_code == 303
    assert "is revoked; it no longer works." in text(as_owner.follow(response))
    assert token_for_secret(token.plain) is None


def test_an_event_limited_owner_may_not_manage_tokens(client, world, make):
    owner = make.member(world.organizer, "owner", events=[world.event1], email="lo@acme.example")
    commit_fixtures()
    browser = Browser(client, owner)
    assert browser.get(world.org_url("/tokens")).status_code == 403
    assert browser.get(world.url("/settings")).status_code == 200


# ---------------------------------------------------------------- members


def membership(world, email):
    return db.session.scalar(select(Membership).join(User).where(
        User.email == email, Membership.organizer_id == world.organizer.id))


def test_member_list(as_owner, world):
    page = text(as_owner.get(world.org_url("/members")))
    for email in ("owner@acme.example", "manager@acme.example", "viewer@acme.example",
                  "limited@acme.example"):
        assert email in page
    assert "owner@rival.example" not in page


def test_add_a_new_person_shows_their_first_password_once(app, as_owner, world):
    response = as_owner.post(world.org_url("/members"), {
        "email": "Newbie@Acme.example", "name": "New Bie", "role": "manager",
        "events": [str(world.event2.id)]})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="first-password" class="secret" value="([^"]+)"',
                         text(response)).group(1)
    added = membership(world, "newbie@acme.example")
    assert added.role == "manager" and [e.id for e in added.events] == [world.event2.id]
    # The new person can sign in with it.
    client = app.test_client()
    from .conftest import csrf_token
    token = csrf_token(client)
    signed_in = client.post("/login", data={"csrf_token": token, "email": "newbie@acme.example",
                                            "password": password})
    assert signed_in.status_code == 303


def test_add_an_existing_user(as_owner, world):
    response = as_owner.post(world.org_url("/members"), {
        "email": "owner@rival.example", "role": "viewer"})
    assert response.status_code == 303
    assert "owner@rival.example is now a member." in text(as_owner.follow(response))
    assert membership(world, "owner@rival.example").role == "viewer"


def test_add_member_errors(as_owner, world):
    response = as_owner.post(world.org_url("/members"), {"email": "viewer@acme.example",
                                                         "role": "viewer"})
    assert response.status_code == 400
    assert "This user is a member already." in text(response)
    response = as_owner.post(world.org_url("/members"), {"email": "bad", "role": "viewer"})
    assert "Enter a valid e-mail address." in text(response)


def test_change_role_and_events(as_owner, world):
    viewer = membership(world, "viewer@acme.example")
    response = as_owner.post(world.org_url(f"/members/{viewer.id}"), {
        f"m{viewer.id}-role": "manager", f"m{viewer.id}-events": [str(world.event1.id)]})
    assert response.status_code == 303
    db.session.refresh(viewer)
    assert viewer.role == "manager" and not viewer.all_events
    assert [e.id for e in viewer.events] == [world.event1.id]


def test_the_last_owner_cannot_be_demoted_or_removed(as_owner, world):
    owner = membership(world, "owner@acme.example")
    response = as_owner.post(world.org_url(f"/members/{owner.id}"), {f"m{owner.id}-role": "viewer"})
    assert response.status_code == 400
    assert "The organizer needs at least one owner who sees every event." in text(response)
    response = as_owner.post(world.org_url(f"/members/{owner.id}/remove"))
    assert "The organizer needs at least one owner who sees every event." in \
        text(as_owner.follow(response))
    db.session.refresh(owner)
    assert owner.role == "owner"


def test_removed_members_lose_access(app, as_owner, world):
    viewer = membership(world, "viewer@acme.example")
    response = as_owner.post(world.org_url(f"/members/{viewer.id}/remove"))
    assert "viewer@acme.example is no longer a member." in text(as_owner.follow(response))
    assert membership(world, "viewer@acme.example") is None
    assert Browser(app.test_client(), world.viewer).get(world.url("/invoices")).status_code == 404
