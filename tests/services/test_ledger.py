"""The ledger (SPEC §9): a chain hash per closed document, set at close; `verify-ledger`, the
API report and the back office verdict; tampering with a PDF, a number or a hash is reported."""

from __future__ import annotations

import json

from sqlalchemy import text

from portal import jobs
from portal.extensions import db
from portal.models import Invoice
from portal.services import documents, ledger
from portal.services import invoices as svc

from ..factories import ACTOR, line


def _closed_and_stored(make, event, **data) -> Invoice:
    invoice = make.invoice(event, **data)
    svc.close_invoice(invoice, actor=ACTOR)
    jobs.commit()  # the in-process job stores the PDF
    return db.session.get(Invoice, invoice.id)


def _ledger(make):
    event = make.event()
    first = _closed_and_stored(make, event, lines=[line("A", "1", "10.00")])
    second = _closed_and_stored(make, event, lines=[line("B", "2", "20.00")])
    third = _closed_and_stored(make, event, lines=[line("C", "3", "30.00")])
    credit = svc.cancel_invoice(third, actor=ACTOR)  # numbered 4 in the shared sequence
    jobs.commit()
    proforma = _closed_and_stored(make, event, type="proforma")
    return event, [first, second, third, db.session.get(Invoice, credit.id)], proforma


def test_every_closed_document_is_chained_to_the_previous_of_its_sequence(app, make):
    event, (first, second, third, credit), proforma = _ledger(make)
    assert [d.sequence_value for d in (first, second, third, credit)] == [1, 2, 3, 4]
    assert first.chain_hash == ledger.link_hash(None, first)
    assert second.chain_hash == ledger.link_hash(first.chain_hash, second)
    assert credit.chain_hash == ledger.link_hash(third.chain_hash, credit)
    assert proforma.chain_hash == ledger.link_hash(None, proforma)  # its own sequence
    assert len({d.chain_hash for d in (first, second, third, credit, proforma)}) == 5

    report = ledger.verify_event(event)
    assert report["ok"] is True and report["findings"] == []
    assert report["documents"] == 5
    assert {s["name"]: (s["documents"], s["last_number"]) for s in report["sequences"]} == {
        "invoice": (4, credit.number), "proforma": (1, proforma.number),
        "shipping_invoice": (0, None)}


def test_a_tampered_pdf_number_and_hash_are_each_reported(app, make, runner):
    event, (first, second, third, credit), _ = _ledger(make)
    db.session.execute(text("UPDATE invoice_documents SET content = :c WHERE invoice_id = :i"),
                       {"c": b"%PDF-1.4 forged", "i": first.id})
    db.session.execute(text("UPDATE invoice_documents SET ubl = :x WHERE invoice_id = :i"),
                       {"x": b"<Invoice/>", "i": credit.id})
    forged_number = second.number[:-5] + "00099"
    db.session.execute(text("UPDATE invoices SET number = :n WHERE id = :i"),
                       {"n": forged_number, "i": second.id})
    db.session.execute(text("UPDATE invoices SET chain_hash = :h WHERE id = :i"),
                       {"h": "f" * 64, "i": third.id})
    db.session.flush()
    db.session.expire_all()

    report = ledger.verify_event(event)
    found = {(f["kind"], f["invoice"]) for f in report["findings"]}
    assert report["ok"] is False
    assert ("altered_document", first.id) in found  # PDF bytes vs the stored SHA-256
    assert ("number_mismatch", second.id) in found  # 00099 is not its sequence value 2
    assert ("broken_link", second.id) in found  # the chain covers the number
    assert ("broken_link", third.id) in found  # its hash no longer matches
    assert ("broken_link", credit.id) in found  # and the next link points at a forged hash
    assert ("broken_link", first.id) not in found  # the first document's link is intact
    ubl = [f for f in report["findings"]
           if f["invoice"] == credit.id and f["kind"] == "altered_document"]
    assert [f["message"] for f in ubl] == [
        f"The stored UBL of {credit.number} does not match its recorded SHA-256."]

    result = runner.invoke(args=["verify-ledger", "--event", event.slug])
    assert result.exit_code == 1, result.output
    assert "[altered_document]" in result.output and "[broken_link]" in result.output
    assert f"[number_mismatch] invoice {forged_number}" in result.output


def test_the_chain_covers_the_e_invoice_hashes(app, make):
    event, (first, second, third, credit), _ = _ledger(make)
    assert all(d.cii_sha256 and d.ubl_sha256 for d in (first, second, third, credit))
    # A recorded XML hash changed behind the portal's back breaks that document's link.
    db.session.execute(text("UPDATE invoices SET cii_sha256 = :h WHERE id = :i"),
                       {"h": "0" * 64, "i": first.id})
    db.session.flush()
    db.session.expire_all()
    found = {(f["kind"], f["invoice"]) for f in ledger.verify_event(event)["findings"]}
    assert ("broken_link", first.id) in found
    assert ("altered_document", first.id) in found  # the stored CII no longer matches it
    assert ("broken_link", second.id) not in found  # the next link holds its own hash


def test_gaps_and_duplicates_are_reported_and_an_intact_ledger_exits_0(app, make, runner):
    event, (first, second, third, credit), _ = _ledger(make)
    result = runner.invoke(args=["verify-ledger", "--event", event.slug, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["ok"] is True

    # Number 2 vanishes (its row deleted behind the portal's back) and 3 is claimed twice.
    db.session.execute(text("DELETE FROM invoice_documents WHERE invoice_id = :i"),
                       {"i": second.id})
    db.session.execute(text("DELETE FROM audit_entries WHERE invoice_id = :i"), {"i": second.id})
    db.session.execute(text("DELETE FROM invoice_lines WHERE invoice_id = :i"), {"i": second.id})
    db.session.execute(text("DELETE FROM invoice_taxes WHERE invoice_id = :i"), {"i": second.id})
    db.session.execute(text("DELETE FROM invoices WHERE id = :i"), {"i": second.id})
    db.session.execute(text("UPDATE invoices SET sequence_value = 3 WHERE id = :i"),
                       {"i": credit.id})
    db.session.flush()
    db.session.expire_all()
    report = ledger.verify_event(event)
    kinds = {f["kind"] for f in report["findings"]}
    assert {"gap", "duplicate"} <= kinds
    assert any(f["kind"] == "gap" and f["number"] == "2" for f in report["findings"])

    result = runner.invoke(args=["verify-ledger", "--event", event.slug])
    assert result.exit_code == 1
    assert "[gap]" in result.output and "[duplicate]" in result.output


def test_documents_not_yet_rendered_are_not_findings(app, make):
    event = make.event()
    invoice = make.invoice(event)
    svc.close_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()  # the PDF job has not run yet
    assert invoice.chain_hash is not None
    assert documents.stored_document(invoice) is None
    assert ledger.verify_event(event)["ok"] is True
