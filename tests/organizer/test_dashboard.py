"""The dashboard lists the user's organizers and only the events each membership allows."""

from __future__ import annotations

from .conftest import Browser, text


def test_owner_sees_every_event_and_the_admin_links(client, world):
    page = text(Browser(client, world.owner).get("/org/"))
    assert "Acme Events" in page and "Rival Shows" not in page
    assert world.url("/invoices") in page and world.url("/invoices", world.event2) in page
    assert world.org_url("/tokens") in page and world.org_url("/members") in page
    assert world.url("/settings") in page


def test_event_limited_member_sees_only_their_events(client, world):
    page = text(Browser(client, world.limited).get("/org/"))
    assert world.url("/invoices") in page
    assert world.url("/invoices", world.event2) not in page
    assert world.org_url("/tokens") not in page and world.url("/settings") not in page


def test_member_of_two_organizers_sees_both(client, world, make):
    from portal.services import organizers
    from tests.factories import ACTOR

    from .conftest import commit_fixtures
    organizers.add_membership(world.viewer, world.other, "manager", actor=ACTOR)
    commit_fixtures()
    page = text(Browser(client, world.viewer).get("/org/"))
    assert "Acme Events" in page and "Rival Shows" in page
    assert f"/org/{world.other.slug}/events/{world.other_event.slug}/invoices" in page


def test_nobody_in_no_organizer(client, make, fast_passwords):
    from .conftest import commit_fixtures
    lonely = make.user("lonely@example.com")
    commit_fixtures()
    page = text(Browser(client, lonely).get("/org/"))
    assert "You are not a member of any organizer yet." in page
