"""Events from the back office (issue 18): create, edit, archive; an archived event is
read-only and hidden from the default lists."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, Event, NumberSequence

from .conftest import Browser, text


def new_event_data(**changes) -> dict:
    data = {"name": "Summer Fair 2027", "slug": "summer-27", "currency": "CHF", "locale": "de",
            "due_days": "21", "default_tax_rate": "8.1", "invoice_prefix": "SF27-",
            "proforma_prefix": "SF27-PF-", "shipping_prefix": "SF27-DN-",
            "introductory_text": "Danke!", "additional_text": "", "payment_text": "",
            "footer_text": "", "terms_text": ""}
    data.update(changes)
    return data


def stored(organizer_id: int, slug: str) -> Event | None:
    db.session.expire_all()
    return db.session.scalar(select(Event).where(Event.organizer_id == organizer_id,
                                                 Event.slug == slug))


def test_owner_creates_an_event_with_its_settings(as_owner, world):
    page = text(as_owner.get(world.org_url("/events/new")))
    assert "CHF – Swiss Franc" in page  # babel's currency names
    response = as_owner.post(world.org_url("/events/new"), new_event_data())
    assert response.status_code == 303, text(response)
    assert "is created" in text(as_owner.follow(response))
    event = stored(world.organizer.id, "summer-27")
    assert (event.name, event.currency, event.locale, event.due_days) == \
        ("Summer Fair 2027", "CHF", "de", 21)
    assert (event.invoice_prefix, event.proforma_prefix, event.shipping_prefix) == \
        ("SF27-", "SF27-PF-", "SF27-DN-")
    assert str(event.default_tax_rate) == "8.100" and event.introductory_text == "Danke!"
    sequences = db.session.scalars(select(NumberSequence.name).where(
        NumberSequence.event_id == event.id)).all()
    assert sorted(sequences) == ["invoice", "proforma", "shipping_invoice"]
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.event_id == event.id, AuditEntry.action == "create")) is not None
    dashboard = text(as_owner.get("/org/"))
    assert world.org_url("/events/summer-27/invoices") in dashboard


def test_blank_prefixes_come_from_the_slug(as_owner, world):
    response = as_owner.post(world.org_url("/events/new"), new_event_data(
        invoice_prefix="", proforma_prefix="", shipping_prefix=""))
    assert response.status_code == 303
    event = stored(world.organizer.id, "summer-27")
    assert (event.invoice_prefix, event.proforma_prefix) == ("SUMMER-27-", "SUMMER-27-PF-")


def test_every_problem_shows_next_to_its_field_and_nothing_is_saved(as_owner, world):
    response = as_owner.post(world.org_url("/events/new"), new_event_data(
        slug="Bad Slug", currency="XXX", due_days="many", default_tax_rate="101", name=""))
    assert response.status_code == 400
    page = text(response)
    for field in ("slug", "currency", "due_days", "default_tax_rate", "name"):
        assert f'id="{field}-errors"' in page, field
    assert "Use lowercase letters, digits and dashes" in page
    assert stored(world.organizer.id, "summer-27") is None


def test_a_taken_slug_is_refused(as_owner, world):
    response = as_owner.post(world.org_url("/events/new"), new_event_data(slug="conf"))
    assert response.status_code == 400
    assert "This organizer has an event with this slug already." in text(response)


def test_managers_and_event_limited_owners_cannot_create_events(client, world, make):
    assert Browser(client, world.manager).post(
        world.org_url("/events/new"), new_event_data()).status_code == 403
    assert stored(world.organizer.id, "summer-27") is None


def test_outsider_gets_404(client, world):
    response = Browser(client, world.outsider).post(world.org_url("/events/new"),
                                                    new_event_data())
    assert response.status_code == 404


def test_edit_keeps_the_default_tax_rate(as_owner, world):
    from .test_settings import settings_data
    response = as_owner.post(world.url("/settings"), settings_data(default_tax_rate="7"))
    assert response.status_code == 303
    assert str(stored(world.organizer.id, "conf").default_tax_rate) == "7.000"


def test_archived_event_is_read_only_and_hidden(as_owner, world):
    from .test_settings import settings_data
    response = as_owner.post(world.url("/archive"))
    assert response.status_code == 303
    assert stored(world.organizer.id, "conf").archived_at is not None
    dashboard = text(as_owner.get("/org/"))
    assert world.url("/invoices") not in dashboard
    assert world.url("/invoices", world.event2) in dashboard
    archived = text(as_owner.get("/org/?archived=1"))
    assert world.url("/invoices") in archived
    assert world.url("/invoices", world.event2) not in archived
    # Still readable …
    assert as_owner.get(world.url("/invoices")).status_code == 200
    # … but every change is refused, and nothing changes.
    response = as_owner.post(world.url("/settings"), settings_data(name="Renamed"))
    assert response.status_code == 303
    assert "archived and read-only" in text(as_owner.follow(response))
    assert stored(world.organizer.id, "conf").name != "Renamed"
    response = as_owner.post(world.url(f"/invoices/{world.draft.id}/delete"))
    assert response.status_code == 303
    db.session.expire_all()
    from portal.models import Invoice
    assert db.session.get(Invoice, world.draft.id) is not None
    # Restoring makes it editable again.
    assert as_owner.post(world.url("/restore")).status_code == 303
    assert stored(world.organizer.id, "conf").archived_at is None
    assert as_owner.post(world.url("/settings"),
                         settings_data(name="Renamed")).status_code == 303
    assert stored(world.organizer.id, "conf").name == "Renamed"


def test_archiving_is_for_owners(client, world):
    assert Browser(client, world.manager).post(world.url("/archive")).status_code == 403
    assert stored(world.organizer.id, "conf").archived_at is None


def test_blank_sequence_prefixes_follow_the_invoice_prefix(as_owner, world):
    response = as_owner.post(world.org_url("/events/new"), new_event_data(
        proforma_prefix="", shipping_prefix="", default_tax_rate=""))
    assert response.status_code == 303
    event = stored(world.organizer.id, "summer-27")
    assert (event.proforma_prefix, event.shipping_prefix) == ("SF27-PF-", "SF27-DN-")
    assert event.default_tax_rate is None
