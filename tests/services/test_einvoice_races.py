"""Closes refused by the e-invoice rules, racing good closes from many threads, with real
commits on SQLite and PostgreSQL: the good ones are numbered without gaps, the refused ones
stay drafts and use no number."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.models import Invoice, NumberSequence
from portal.services import invoices as svc
from portal.services.documents import EInvoiceInvalidError

from ..factories import ACTOR, Factory, line

pytestmark = pytest.mark.concurrency

TRAP = {"lines": [line("Sticker", "1000", "0.024")],
        "rounding": {"mode": "half_up", "rule": "per_item"}}


def _seed(app, good: int, bad: int) -> tuple[int, list[int], list[int]]:
    with app.app_context():
        make = Factory()
        event = make.event(invoice_prefix="EI-")
        customer = make.customer(event.organizer)
        goods = [make.invoice(event, customer).id for _ in range(good)]
        bads = [make.invoice(event, customer, **TRAP).id for _ in range(bad)]
        jobs.commit()
        return event.id, goods, bads


def _close_all(app, ids: list[int], barrier: threading.Barrier) -> list[str]:
    barrier.wait(timeout=30)
    outcomes = []
    with app.app_context():
        for invoice_id in ids:
            invoice = db.session.get(Invoice, invoice_id)
            try:
                svc.close_invoice(invoice, actor=ACTOR)
                db.session.commit()
                outcomes.append(invoice.number)
            except EInvoiceInvalidError as error:
                db.session.rollback()
                outcomes.append("refused " + ",".join(sorted(error.fields)))
            jobs.discard_pending()
        db.session.remove()
    return outcomes


def test_refused_and_good_closes_race_without_gaps(committed_app):
    event_id, goods, bads = _seed(committed_app, 12, 8)
    mixed = [x for pair in zip(goods, bads + [None] * 4, strict=True) for x in pair if x]
    barrier = threading.Barrier(4)
    chunks = [mixed[i::4] for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda chunk: _close_all(committed_app, chunk, barrier), chunks))
    outcomes = [o for chunk in results for o in chunk]
    numbers = sorted(o for o in outcomes if not o.startswith("refused"))
    refused = [o for o in outcomes if o.startswith("refused")]
    assert numbers == [f"EI-{i:05d}" for i in range(1, 13)]
    assert len(refused) == 8 and all("BR-CO-17" in r and "BR-S-09" in r for r in refused)
    with committed_app.app_context():
        drafts = db.session.scalars(select(Invoice.number).where(
            Invoice.id.in_(bads), Invoice.status == "draft")).all()
        assert drafts == [None] * 8
        assert db.session.scalar(select(NumberSequence.last_value).where(
            NumberSequence.event_id == event_id, NumberSequence.name == "invoice")) == 12
        db.session.remove()
