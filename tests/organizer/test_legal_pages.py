"""The back office and SPEC §9: close problems listed, credit notes that read as credits (no
dispute, "Mark as refunded", "To refund" in lists, signs that add up), the ledger verdict."""

from __future__ import annotations

from sqlalchemy import text as sql

from portal.extensions import db
from portal.services import invoices
from tests.factories import ACTOR, line

from .conftest import closed, commit_fixtures, text
from .test_invoice_actions import buttons


def test_close_flashes_every_legal_problem_and_changes_nothing(as_manager, world, make):
    world.organizer.seller = {**world.organizer.seller, "vat_id": "", "tax_number": ""}
    draft = make.invoice(world.event1, world.customer,
                         lines=[line("Exempt", "1", "10.00", "0", tax_category="E")])
    commit_fixtures()
    response = as_manager.post(world.url(f"/invoices/{draft.id}/close"))
    page = text(as_manager.follow(response))
    assert "The seller needs a VAT id or a tax number (organizer profile)." in page
    assert "Say why no VAT is charged (an exemption reason)." in page
    db.session.expire_all()
    assert db.session.get(type(draft), draft.id).status == "draft"


def test_a_credit_note_reads_as_a_credit_in_the_back_office(as_manager, world, make):
    invoice = closed(make, world.event1, world.customer,
                     lines=[line("Ticket", "10", "96.519")],
                     discounts=[{"type": "percent_off", "value": "10"}])
    credit = invoices.cancel_invoice(invoice, actor=ACTOR)
    commit_fixtures()
    page = text(as_manager.get(world.url(f"/invoices/{credit.id}")))
    assert buttons(page, credit) == ["send", "pay"]
    assert "Mark as refunded" in page and "Mark as paid" not in page
    assert "Mark as disputed" not in page
    assert (f"This credit note cancels invoice {invoice.number} of ") in page
    # -965.19 + 96.52 = -868.67: the discount row gives back, so the rows add up.
    assert "−€965.19" in page or "-€965.19" in page
    assert "<dd>€96.52</dd>" in page
    assert "−€96.52" not in page
    listing = text(as_manager.get(world.url("/invoices")))
    assert "To refund" in listing
    response = as_manager.post(world.url(f"/invoices/{credit.id}/pay"))
    assert "is marked as refunded" in text(as_manager.follow(response))


def test_the_ledger_page_shows_the_verdict(as_viewer, world, make):
    ok = text(as_viewer.get(world.url("/ledger")))
    assert 'data-ledger="ok"' in ok and "Intact" in ok
    db.session.execute(sql("UPDATE invoices SET chain_hash = :h WHERE id = :i"),
                       {"h": "e" * 64, "i": world.open.id})
    commit_fixtures()
    bad = text(as_viewer.get(world.url("/ledger")))
    assert 'data-ledger="findings"' in bad and "Broken link" in bad
