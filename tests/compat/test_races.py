"""Races through a dialect: OM's close, delete and send of one invoice fired at once, with real
threads and commits. The dialect adds no step of its own, so what the services promise holds
here too: one winner, the others refused in OM's envelope, numbers gapless, one sending."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invoice, Sending
from tests.test_races import Seed, fire

pytestmark = pytest.mark.concurrency

WIDTH = 4


def _om(seed: Seed, method: str, path: str):
    organizer, event = seed.base.split("/")[4], seed.base.split("/")[6]
    return (method, f"/compat/om/{organizer}/{event}/v1/om/invoices{path}",
            {"headers": {**seed.auth, "Accept": "*/*"}})


def test_concurrent_closes_delete_and_sends_through_om(committed_app):
    seed = Seed(committed_app, drafts=3)
    first, second, third = seed.drafts
    statuses = fire(committed_app, [_om(seed, "PATCH", f"/{first}/close")] * WIDTH)
    assert sorted(statuses) == [200] + [409] * (WIDTH - 1)
    statuses = fire(committed_app, [_om(seed, "PATCH", f"/{second}/close"),
                                    _om(seed, "DELETE", f"/{second}"),
                                    _om(seed, "PATCH", f"/{second}/close"),
                                    _om(seed, "DELETE", f"/{second}")])
    assert statuses.count(200) == 1
    assert set(statuses) <= {200, 404, 409}
    statuses = fire(committed_app, [_om(seed, "PATCH", f"/{third}/close")] * WIDTH)
    assert statuses.count(200) == 1
    with committed_app.app_context():
        numbers = sorted(db.session.scalars(select(Invoice.sequence_value).where(
            Invoice.event_id == seed.event_id, Invoice.number.is_not(None))))
        # Gapless: 1..n, one number per close that won.
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) in (2, 3)
    # Sends race too, each recorded once with its own Message-ID.
    statuses = fire(committed_app, [_om(seed, "POST", f"/{first}/send")] * 2)
    assert statuses == [200, 200]
    with committed_app.app_context():
        ids = list(db.session.scalars(select(Sending.message_id)
                                      .where(Sending.invoice_id == first)))
        assert len(ids) == 2 and len(set(ids)) == 2
        assert db.session.scalar(select(func.count(Sending.id))) == 2
