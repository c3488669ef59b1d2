"""Kept invoice counts (issue 16): the triggers of migration 0014 keep `invoice_tallies` equal
to the invoices through every write, compaction keeps them and bounds the rows, and the lists
count from them instead of count(*) over invoices. On SQLite and PostgreSQL alike: the
triggers are the database's own."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from portal import jobs
from portal.extensions import db
from portal.models import Event, Invoice, InvoiceTally
from portal.services import invoice_queries, invoices, tallies
from portal.services.invoice_queries import CLOSED_STATUSES, InvoiceFilter
from tests.factories import ACTOR, Factory, line


def _real(event_id: int, statuses=(), types=()) -> int:
    query = select(func.count(Invoice.id)).where(Invoice.event_id == event_id)
    if statuses:
        query = query.where(Invoice.status.in_(statuses))
    if types:
        query = query.where(Invoice.type.in_(types))
    return db.session.scalar(query)


def _kept(event_id: int, statuses=(), types=()) -> int:
    return int(db.session.scalar(tallies.tally_count(event_id=event_id, statuses=statuses,
                                                     types=types)))


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(InvoiceTally))


def _agree(*event_ids):
    db.session.flush()
    assert tallies.check_tallies() == []
    for event_id in event_ids:
        for statuses, types in [((), ()), (CLOSED_STATUSES, ()), (("draft",), ()),
                                (("open", "paid"), ("invoice",)), ((), ("credit_note",))]:
            assert _kept(event_id, statuses, types) == _real(event_id, statuses, types)


def test_the_kept_counts_follow_every_step_of_the_lifecycle(app, make):
    organizer = make.organizer()
    event, other = make.event(organizer), make.event(organizer)
    customer = make.customer(organizer)
    drafts = [make.invoice(event, customer) for _ in range(6)]
    make.invoice(other, customer)
    _agree(event.id, other.id)
    assert _kept(event.id, ("draft",)) == 6
    for draft in drafts[:4]:
        invoices.close_invoice(draft, actor=ACTOR)
    _agree(event.id, other.id)
    assert _kept(event.id, ("open",)) == 4 and _kept(event.id, ("draft",)) == 2
    invoices.pay_invoice(drafts[0], actor=ACTOR)
    invoices.dispute_invoice(drafts[1], actor=ACTOR, reason="wrong")
    _agree(event.id)
    invoices.resolve_invoice(drafts[1], actor=ACTOR)
    credit = invoices.cancel_invoice(drafts[2], actor=ACTOR)
    _agree(event.id)
    assert credit is not None and _kept(event.id, (), ("credit_note",)) == 1
    invoices.archive_invoice(drafts[0], actor=ACTOR)
    invoices.delete_draft(drafts[4], actor=ACTOR)
    _agree(event.id, other.id)
    assert _kept(event.id) == _real(event.id) == 6  # 6 made, 1 credit note, 1 deleted
    proforma = make.closed(event, customer, type="proforma")
    invoices.cancel_invoice(proforma, actor=ACTOR)  # a proforma cancels without a credit note
    _agree(event.id, other.id)


def test_compaction_keeps_the_counts_and_leaves_one_row_per_key(app, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    closed = [make.closed(event, customer) for _ in range(5)]
    for invoice in closed[:3]:
        invoices.pay_invoice(invoice, actor=ACTOR)
    draft = make.invoice(event, customer)
    invoices.delete_draft(draft, actor=ACTOR)  # a key whose deltas sum to 0
    db.session.flush()
    before = _rows()
    removed, written = tallies.compact_tallies()
    db.session.flush()
    keys = db.session.execute(select(Invoice.status, Invoice.type).where(
        Invoice.event_id == event.id).group_by(Invoice.status, Invoice.type)).all()
    # open invoice, paid invoice; the drafts' key sums to 0 and is gone
    assert {(s, t) for s, t in keys} == {("open", "invoice"), ("paid", "invoice")}
    event_rows = db.session.scalar(select(func.count()).select_from(InvoiceTally)
                                   .where(InvoiceTally.event_id == event.id))
    assert event_rows == len(keys) == 2
    assert removed > written and _rows() == before - removed + written
    _agree(event.id)
    assert tallies.compact_tallies() == (0, 0)  # nothing left to fold
    invoices.pay_invoice(closed[3], actor=ACTOR)  # deltas after a compaction still count
    _agree(event.id)
    tallies.compact_tallies()
    _agree(event.id)


def test_the_back_office_status_tabs_count_from_the_tallies(app, make):
    organizer = make.organizer()
    event = make.event(organizer)
    invoice = make.closed(event)
    make.invoice(event)
    invoices.pay_invoice(invoice, actor=ACTOR)
    db.session.flush()
    counts = invoice_queries.status_counts(event)
    assert counts["paid"] == 1 and counts["draft"] == 1 and counts["open"] == 0
    assert set(counts) == {"draft", "open", "sent", "paid", "disputed", "cancelled", "archived"}


# ---------------------------------------------------------------- the lists' count


def _counting(count_queries, call):
    with count_queries() as counter:
        result = call()
    invoice_counts = [s for s in counter.statements
                      if re.search(r"count\((\*|invoices\.id)\)", s)
                      and re.search(r"FROM invoices\b", s)]
    tally_reads = [s for s in counter.statements if "FROM invoice_tallies" in s]
    return result, invoice_counts, tally_reads


@pytest.fixture
def listed(make):
    organizer = make.organizer()
    event, other = make.event(organizer), make.event(organizer)
    customer = make.customer(organizer, reference="C-77")
    for _ in range(3):
        make.closed(event, customer)
    make.invoice(event, customer)
    make.closed(other, customer)
    token = make.token(organizer)
    limited = make.token(organizer, events=[other])
    db.session.flush()
    return organizer, event, other, token, limited


def test_an_api_list_with_only_status_and_type_never_counts_the_invoices(
        app, client, listed, count_queries):
    organizer, event, _other, token, _limited = listed
    headers = {"Authorization": f"Token {token.plain}"}
    base = f"/api/v1/organizers/{organizer.slug}/events/{event.slug}/invoices/"
    for query, expected in (("", 4), ("?status=open", 3), ("?status=draft,open&type=invoice", 4),
                            ("?type=credit_note", 0)):
        response, counts, reads = _counting(count_queries,
                                            lambda q=query: client.get(base + q, headers=headers))
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["count"] == expected
        assert counts == [] and len(reads) == 1, query
    # Any other filter counts directly (and still right).
    response, counts, reads = _counting(
        count_queries, lambda: client.get(base + "?customer=C-77&status=open", headers=headers))
    assert response.get_json()["count"] == 3 and len(counts) == 1 and reads == []


def test_the_organizer_wide_list_sums_the_tallies_of_the_tokens_events(
        app, client, listed, count_queries):
    organizer, _event, other, token, limited = listed
    url = f"/api/v1/organizers/{organizer.slug}/invoices/"
    for used, expected in ((token, 5), (limited, 1)):
        response, counts, reads = _counting(count_queries, lambda t=used: client.get(
            url, headers={"Authorization": f"Token {t.plain}"}))
        body = response.get_json()
        assert body["count"] == expected == len(body["results"])
        assert counts == [] and len(reads) == 1
    assert {r["event"] for r in body["results"]} == {other.slug}
    response, counts, _ = _counting(count_queries, lambda: client.get(
        url + f"?event={other.slug}", headers={"Authorization": f"Token {token.plain}"}))
    assert response.get_json()["count"] == 1 and len(counts) == 1


def test_the_pretix_dialect_and_the_back_office_tabs_count_from_the_tallies(
        app, listed, count_queries):
    _organizer, event, _other, _token, _limited = listed
    for filters in (InvoiceFilter(status=CLOSED_STATUSES), InvoiceFilter(status=("open",))):
        page, counts, reads = _counting(count_queries, lambda f=filters: invoice_queries.invoice_page(
            invoice_queries.event_invoices(event), f, ordering="id", page=1, page_size=2,
            past_end=invoice_queries.PastEnd.NOT_FOUND))
        assert page.count == 3 and len(page.items) == 2
        assert counts == [] and len(reads) == 1


def test_a_narrowed_scope_is_counted_directly(app, listed):
    _organizer, event, _other, _token, _limited = listed
    narrowed = invoice_queries.event_invoices(event).where(Invoice.status == "draft")
    count = invoice_queries.invoice_count(narrowed, InvoiceFilter())
    assert "invoice_tallies" not in str(count) and db.session.scalar(count) == 1


# ---------------------------------------------------------------- real commits


def test_the_migration_counts_the_invoices_that_were_there(committed_app):
    with committed_app.app_context():
        downgrade(revision="0013")
        make = Factory()
        organizer = make.organizer()
        event = make.event(organizer)
        for _ in range(3):
            make.closed(event)
        make.invoice(event)
        event_id = event.id
        jobs.commit()
        db.session.remove()
        upgrade()
        assert tallies.check_tallies() == []
        assert _kept(event_id) == 4 and _kept(event_id, ("open",)) == 3
        make.closed(db.session.get(Event, event_id))  # and the triggers write from now on
        jobs.commit()
        assert tallies.check_tallies() == [] and _kept(event_id) == 5


def test_concurrent_lifecycle_steps_and_compactions_keep_the_counts(committed_app, db_kind):
    """8 threads close, pay and cancel different invoices of one event at the same time, while
    two threads compact: no deadlock, no lost or doubled delta."""
    width, rounds = 8, 3
    with committed_app.app_context():
        make = Factory()
        organizer = make.organizer()
        event = make.event(organizer)
        customer = make.customer(organizer)
        lines = [line("Ticket", "1", "10.00")]
        drafts = [make.invoice(event, customer, lines=lines).id for _ in range(width * rounds)]
        paid_first = [make.closed(event, customer, lines=lines).id for _ in range(width)]
        jobs.commit()
        event_id = event.id
    errors: list[BaseException] = []

    def step(invoice_id: int, action: str):
        with committed_app.app_context():
            try:
                invoice = db.session.get(Invoice, invoice_id)
                if action == "close":
                    invoices.close_invoice(invoice, actor=ACTOR)
                elif action == "pay":
                    invoices.pay_invoice(invoice, actor=ACTOR)
                else:
                    invoices.cancel_invoice(invoice, actor=ACTOR)
                jobs.commit()
            except BaseException as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    def compact(stop: threading.Event):
        with committed_app.app_context():
            while not stop.wait(0.01):
                try:
                    tallies.compact_tallies()
                    db.session.commit()
                except BaseException as error:  # noqa: BLE001 - reported below
                    db.session.rollback()
                    errors.append(error)
                finally:
                    db.session.remove()

    stop = threading.Event()
    compactors = [threading.Thread(target=compact, args=(stop,)) for _ in range(2)]
    for thread in compactors:
        thread.start()
    try:
        for round_ in range(rounds):
            batch = [(i, "close") for i in drafts[round_ * width:(round_ + 1) * width]]
            if round_ == 0:
                batch += [(i, "pay") for i in paid_first[:width // 2]]
            elif round_ == 1:
                batch += [(i, "cancel") for i in paid_first[width // 2:]]
            barrier = threading.Barrier(len(batch))

            def run(item, barrier=barrier):
                barrier.wait()
                step(*item)

            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                list(pool.map(run, batch))
    finally:
        stop.set()
        for thread in compactors:
            thread.join()
    assert errors == []
    with committed_app.app_context():
        assert tallies.check_tallies() == []
        assert _kept(event_id) == _real(event_id) == width * rounds + width + width // 2
        assert _kept(event_id, ("paid",)) == width // 2
        assert _kept(event_id, ("cancelled",)) == width // 2
        tallies.compact_tallies()
        db.session.commit()
        assert tallies.check_tallies() == []
        rows = db.session.scalar(select(func.count()).select_from(InvoiceTally).where(
            InvoiceTally.event_id == event_id))
        keys = db.session.scalar(text(
            "SELECT count(*) FROM (SELECT DISTINCT status, type FROM invoices "
            "WHERE event_id = :e) k"), {"e": event_id})
        assert rows == keys
