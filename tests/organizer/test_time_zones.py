"""Times in the user's time zone (issue 18): a setting on the account page; 24-hour where
the locale writes it so (babel's formats)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from portal.extensions import db
from portal.models import AuditEntry, User

from .conftest import commit_fixtures, text

MOMENT = dt.datetime(2026, 11, 29, 15, 5, tzinfo=dt.UTC)


def pin_history(world) -> None:
    db.session.execute(update(AuditEntry).where(AuditEntry.invoice_id == world.open.id)
                       .values(created_at=MOMENT))
    commit_fixtures()


def test_utc_and_the_locales_clock_by_default(as_manager, world):
    pin_history(world)
    page = text(as_manager.get(world.url(f"/invoices/{world.open.id}")))
    assert "Nov 29, 2026, 3:05:00\u202fPM UTC" in page or "Nov 29, 2026, 3:05:00 PM UTC" in page


def test_the_chosen_zone_and_a_24_hour_locale(as_manager, world):
    pin_history(world)
    user = db.session.get(User, world.manager.id)
    user.locale = "de"
    commit_fixtures()
    response = as_manager.post("/org/account/profile", {"timezone": "Europe/Berlin"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, world.manager.id).timezone == "Europe/Berlin"
    page = text(as_manager.get(world.url(f"/invoices/{world.open.id}")))
    # 15:05 UTC is 16:05 in Berlin in November (CET, UTC+1), written 24-hour in German
    assert "29.11.2026, 16:05:00 MEZ" in page
    assert "PM" not in page.split("16:05:00", 1)[0][-40:]


def test_an_unknown_zone_is_refused_next_to_the_field(as_manager, world):
    response = as_manager.post("/org/account/profile", {"timezone": "Mars/Olympus"})
    assert response.status_code == 400
    assert 'id="timezone-errors"' in text(response)
    db.session.expire_all()
    assert db.session.get(User, world.manager.id).timezone == ""


def test_the_account_page_offers_the_zones(as_manager):
    page = text(as_manager.get("/org/account"))
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in page
    assert '<option selected value="">UTC (the default)</option>' in page or \
        'value="" selected' in page or '<option value="" selected>' in page
