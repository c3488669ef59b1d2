"""The benchmark data set takes a shape (count, lines per invoice, amounts), and the pretix
shape is what the pretix peer seeds: one line, 23.00 gross at 19 % (19.33 + 3.67)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bench import dataset
from portal.extensions import db
from portal.models import Invoice, InvoiceLine, InvoiceTax
from portal.models.job import Job
from portal.services import frozen


def test_pretix_shape_totals_come_from_the_money_engine():
    totals = dataset.PRETIX_SHAPE.totals()
    assert (totals.total.net, totals.total.tax, totals.total.gross) == (
        Decimal("19.33"), Decimal("3.67"), Decimal("23.00"))
    assert dataset.PRETIX_SHAPE.template == (
        [("TKT", "Conference ticket", "1", "23.00", "19.00")], "per_line", True)


def test_a_shape_keeps_the_first_lines_and_refuses_impossible_ones():
    lines = dataset.TEMPLATES[0][0]
    shape = dataset.Shape(invoices=3, lines=tuple(lines), lines_per_invoice=2)
    assert shape.invoice_lines == tuple(lines[:2])
    with pytest.raises(ValueError):
        dataset.Shape(invoices=3, lines=tuple(lines), lines_per_invoice=6)
    with pytest.raises(ValueError):
        dataset.Shape(invoices=3, lines=())


def _sums(invoice_ids):
    """Per invoice: (gross total, sum of its lines' gross, sum of its taxes' gross, lines),
    added up as Decimals here (SQLite's sum() of a NUMERIC is a float)."""
    out = {i: [None, Decimal(0), Decimal(0), 0] for i in invoice_ids}
    for invoice_id, gross in db.session.execute(
            select(InvoiceLine.invoice_id, InvoiceLine.gross_amount)
            .where(InvoiceLine.invoice_id.in_(invoice_ids))):
        out[invoice_id][1] += gross
        out[invoice_id][3] += 1
    for invoice_id, gross in db.session.execute(
            select(InvoiceTax.invoice_id, InvoiceTax.gross)
            .where(InvoiceTax.invoice_id.in_(invoice_ids))):
        out[invoice_id][2] += gross
    for invoice_id, gross in db.session.execute(
            select(Invoice.id, Invoice.gross_total).where(Invoice.id.in_(invoice_ids))):
        out[invoice_id][0] = gross
    return {i: tuple(v) for i, v in out.items()}


def test_bulk_build_with_fewer_lines_keeps_totals_equal_to_the_lines(app):
    """Before, `lines_per_invoice` cut the lines but kept the 5-line totals."""
    info = dataset.build(6, 2, 3, lines_per_invoice=2, drafts_to_close=2)
    ids = list(db.session.scalars(select(Invoice.id).where(
        Invoice.event_id.in_(info["event_ids"])).order_by(Invoice.id)))
    assert len(ids) == 6
    for gross, lines, taxes, count in _sums(ids).values():
        assert count == 2
        assert gross == lines == taxes
    drafts = _sums(info["draft_ids"])
    assert all(count == 2 and gross == lines for gross, lines, _t, count in drafts.values())
    # Closed invoices are read frozen, as in production; drafts are not frozen.
    versions = dict(db.session.execute(select(Invoice.id, Invoice.frozen_version)).all())
    assert {versions[i] for i in ids} == {frozen.FROZEN_VERSION}
    assert {versions[i] for i in info["draft_ids"]} == {None}


def test_bulk_build_takes_the_pretix_shape(app):
    info = dataset.build(4, 1, 2, lines_per_invoice=1, drafts_to_close=0,
                         templates=[dataset.PRETIX_SHAPE.template])
    sums = _sums(list(db.session.scalars(select(Invoice.id).where(
        Invoice.event_id == info["event_ids"][0]))))
    assert len(sums) == 4
    assert set(sums.values()) == {(Decimal("23.00"), Decimal("23.00"), Decimal("23.00"), 1)}


def test_build_closed_makes_the_pretix_shape_through_the_services(app):
    shape = dataclasses.replace(dataset.PRETIX_SHAPE, invoices=3, customers=2)
    info = dataset.build_closed(shape)
    invoices = db.session.scalars(select(Invoice).where(Invoice.id.in_(info["invoice_ids"]))
                                  .order_by(Invoice.id)).all()
    assert [i.number for i in invoices] == ["SAMPLECONF-00001", "SAMPLECONF-00002",
                                            "SAMPLECONF-00003"]
    assert info["first_number"] == "SAMPLECONF-00001"
    assert {i.status for i in invoices} == {"open"}
    assert all(i.event.slug == "sampleconf" and i.event.organizer.slug == "bigevents"
               for i in invoices)
    assert {(i.net_total, i.tax_total, i.gross_total, i.prices_include_tax) for i in invoices} == {
        (Decimal("19.33"), Decimal("3.67"), Decimal("23.00"), True)}
    assert [len(i.lines) for i in invoices] == [1, 1, 1]
    # customers in turn: the first has invoices 1 and 3
    assert [i.customer_id for i in invoices] == [info["customer_id"], invoices[1].customer_id,
                                                 info["customer_id"]]
    assert info["customer_invoices"] == 2
    # the document jobs close queued are forgotten, so no server renders during a benchmark
    pending = db.session.scalar(select(func.count()).select_from(Job).where(
        Job.state == "pending"))
    assert pending >= 3
    assert dataset.drop_pending_jobs() == pending
    assert db.session.scalar(select(func.count()).select_from(Job).where(
        Job.state == "pending")) == 0


def test_bulk_drafts_pass_the_close_checks_the_bench_closes_them_with(app):
    """`make bench` closes the bulk drafts through the API; their lines once carried the unit
    "pcs" as typed (bulk rows skip the input cleaning), which the e-invoice rules refuse
    (BR-CL-23), so every close of the scenario answered 400."""
    from portal.services import invoices
    from tests.factories import ACTOR

    info = dataset.build(2, 1, 2, drafts_to_close=1)
    draft = db.session.get(Invoice, info["draft_ids"][0])
    invoices.close_invoice(draft, actor=ACTOR)
    assert draft.status == "open" and draft.number == "CL-00001"
