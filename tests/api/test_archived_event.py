"""An archived event (issue 18) is read-only through the API too: reads work, writes 409."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invoice
from portal.services import organizers
from tests.factories import ACTOR


def test_reads_work_and_writes_are_refused(api, world):
    organizers.archive_event(world.event, actor=ACTOR)
    db.session.commit()
    before = db.session.scalar(select(func.count(Invoice.id)))
    assert api.get(f"{world.base}/invoices/").status_code == 200
    response = api.post(f"{world.base}/invoices/", {"customer": world.customer.reference})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "event_archived"
    assert db.session.scalar(select(func.count(Invoice.id))) == before
    organizers.restore_event(world.event, actor=ACTOR)
    db.session.commit()
    assert api.post(f"{world.base}/invoices/",
                    {"customer": world.customer.reference}).status_code == 201
