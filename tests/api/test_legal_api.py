"""The API and SPEC §9: the new fields (optional, with defaults), the close check's 400 listing
every problem, credit notes that cannot be disputed, and the ledger report."""

from __future__ import annotations

from sqlalchemy import text

from portal.extensions import db
from tests.factories import line


def test_todays_clients_get_defaults_and_the_new_fields_can_be_written(api, world):
    old = api.post(f"{world.base}/invoices/", {"customer": "C-1001", "lines": [line()]})
    assert old.status_code == 201
    body = old.get_json()
    assert body["lines"][0]["unit"] == "C62" and body["lines"][0]["tax_category"] == "S"
    assert body["delivery_date"] is None and body["period"] is None
    assert body["preceding_invoice"] is None and body["chain_hash"] is None
    assert body["xml"] is None and body["payment_means"] is None
    assert body["billing_address"]["e_bill_taxpayer"] is False

    new = api.post(f"{world.base}/invoices/", {
        "customer": "C-1001", "buyer_reference": "991-01234-56",
        "delivery_date": "2026-10-18", "period": {"start": "2026-10-01", "end": "2026-10-31"},
        "payment_means": {"code": "30", "iban": "GB82WEST12345698765432"},
        "billing_address": {"company": "ACME", "country": "GB", "e_bill_taxpayer": True,
                            "registration_id": "01234567",
                            "electronic_address": {"id": "0088:5060012345678",
                                                   "scheme": "0088"}},
        "lines": [line(unit="HUR", tax_rate="0", tax_category="AE",
                       exemption_reason="Reverse charge", exemption_code="VATEX-EU-AE")],
        "shipping_method": {"name": "Courier", "cost": "5.00", "tax_rate": "0",
                            "tax_category": "AE", "exemption_reason": "Reverse charge"}})
    assert new.status_code == 201, new.get_json()
    got = new.get_json()
    assert got["buyer_reference"] == "991-01234-56" and got["delivery_date"] == "2026-10-18"
    assert got["period"] == {"start": "2026-10-01", "end": "2026-10-31"}
    assert got["payment_means"] == {"code": "30", "iban": "GB82WEST12345698765432",
                                    "bic": "", "account_name": ""}
    assert got["lines"][0]["tax_category"] == "AE" and got["lines"][0]["unit"] == "HUR"
    assert got["shipping_method"]["tax_category"] == "AE"
    # 100.00 + 5.00 shipping, both reverse charge at 0 %: one AE group of 105.00.
    assert [(t["category"], t["taxable"], t["exemption_code"]) for t in got["taxes"]] == [
        ("AE", "105.00", "VATEX-EU-AE")]
    closed = api.post(f"{world.base}/invoices/{got['id']}/close/")
    assert closed.status_code == 200, closed.get_json()
    assert len(closed.get_json()["chain_hash"]) == 64


def test_close_answers_400_listing_every_problem_and_uses_no_number(api, world, make):
    world.organizer.seller = {"company": "", "country": "DE"}
    draft = make.invoice(world.event, world.customer,
                         lines=[line(tax_rate="19", tax_category="Z"), line(tax_rate="0",
                                                                            tax_category="S")])
    db.session.flush()
    response = api.post(f"{world.base}/invoices/{draft.id}/close/")
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"seller.legal_name", "seller.street1", "seller.vat_id",
                           "lines.0.tax_category", "lines.1.tax_category"}
    again = api.get(f"{world.base}/invoices/{draft.id}/").get_json()
    assert again["status"] == "draft" and again["number"] is None


def test_a_credit_note_cannot_be_disputed_and_carries_its_preceding_invoice(api, world, make):
    invoice = make.closed(world.event, world.customer)
    db.session.flush()
    cancelled = api.post(f"{world.base}/invoices/{invoice.id}/cancel/")
    assert cancelled.status_code == 200
    credit_id = [i for i in api.get(f"{world.base}/invoices/?type=credit_note").get_json()[
        "results"]][0]["id"]
    credit = api.get(f"{world.base}/invoices/{credit_id}/").get_json()
    assert credit["preceding_invoice"] == {"number": invoice.number,
                                           "issue_date": invoice.issue_date.isoformat()}
    assert credit["texts"]["payment"] == ""
    response = api.post(f"{world.base}/invoices/{credit_id}/dispute/", {"reason": "x"})
    assert response.status_code == 409


def test_the_ledger_report(api, world, make, as_token):
    make.closed(world.event, world.customer)
    second = make.closed(world.event, world.customer)
    db.session.flush()
    report = api.get(f"{world.base}/ledger/")
    assert report.status_code == 200
    body = report.get_json()
    assert body["ok"] is True and body["documents"] == 2 and body["findings"] == []
    assert body["event"] == world.event.slug
    db.session.execute(text("UPDATE invoices SET chain_hash = :h WHERE id = :i"),
                       {"h": "a" * 64, "i": second.id})
    db.session.flush()
    body = api.get(f"{world.base}/ledger/").get_json()
    assert body["ok"] is False
    assert [(f["kind"], f["invoice"]) for f in body["findings"]] == [("broken_link", second.id)]
    # A token limited to another event does not see this one's ledger.
    assert as_token(world.limited).get(f"{world.base}/ledger/").status_code == 404
