"""SPEC §9 in the services and the document of record: seller and buyer data, VAT categories,
delivery dates, payment means printed from data, checks at close, credit notes as credits."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import jobs
from portal.errors import ConflictError, ValidationError
from portal.extensions import db
from portal.formatting import format_date
from portal.models import Invoice, NumberSequence
from portal.services import documents, organizers
from portal.services import invoices as svc
from portal.services.representation import invoice_to_dict

from ..factories import ACTOR, line

MEANS = {"code": "58", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
         "account_name": "Org GmbH"}


def pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(pdf)).pages)


def _counter(event) -> int:
    return db.session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.event_id == event.id, NumberSequence.name == "invoice"))


def test_close_lists_every_legal_problem_changes_nothing_and_uses_no_number(app, make):
    organizer = make.organizer(vat_id="", street1="", company="")
    event = make.event(organizer)
    invoice = make.invoice(event, lines=[
        line("Standard at 0 %", tax_rate="0", tax_category="S"),
        line("Exempt without reason", tax_rate="0", tax_category="E"),
        line("Zero-rated at 19 %", tax_rate="19", tax_category="Z")],
        shipping_method={"name": "Courier", "cost": "5.00", "tax_rate": "0",
                         "tax_category": "AE"})
    organizer.seller = {**organizer.seller, "country": "XX"}  # legacy data, not a country
    db.session.flush()
    before = _counter(event)

    with pytest.raises(ValidationError) as caught:
        svc.close_invoice(invoice, actor=ACTOR)

    fields = caught.value.fields
    assert set(fields) == {"seller.legal_name", "seller.street1", "seller.vat_id",
                           "seller.country", "lines.0.tax_category", "lines.1.tax_category",
                           "lines.2.tax_category", "shipping_method.tax_category"}
    assert "above 0 %" in fields["lines.0.tax_category"][0]
    assert "exemption reason" in fields["lines.1.tax_category"][0]
    assert "charged at 0 %" in fields["lines.2.tax_category"][0]
    assert "exemption reason" in fields["shipping_method.tax_category"][0]
    assert "XX is not an ISO 3166-1 country code." in fields["seller.country"]
    db.session.refresh(invoice)
    assert invoice.status == "draft" and invoice.number is None
    assert _counter(event) == before


def test_a_tax_number_is_enough_and_exemptions_with_reasons_close(app, make):
    organizer = make.organizer(vat_id="", tax_number="27/123/45678")
    event = make.event(organizer)
    # §9's checks take a tax number alone; EN 16931 (BR-CO-26) wants a VAT id or a legal
    # registration id besides, so this event issues plain PDFs (see test_einvoice_close).
    event.einvoicing = False
    invoice = make.invoice(event, lines=[
        line("Workshop", "1", "100.00", "19"),
        line("Training (exempt)", "1", "50.00", "0", tax_category="E",
             exemption_reason="Exempt under § 4 Nr. 21 UStG", exemption_code="VATEX-EU-132"),
        line("Book", "1", "20.00", "0")])
    svc.close_invoice(invoice, actor=ACTOR)
    assert invoice.status == "open"
    body = invoice_to_dict(invoice)
    # 100.00 at 19 % -> 19.00; 50.00 exempt (E) and 20.00 zero-rated (Z) are two groups at 0 %.
    assert [(t["category"], t["rate"], t["taxable"], t["amount"], t["exemption_code"])
            for t in body["taxes"]] == [("S", "19.00", "100.00", "19.00", None),
                                        ("E", "0.00", "50.00", "0.00", "VATEX-EU-132"),
                                        ("Z", "0.00", "20.00", "0.00", None)]
    assert body["taxes"][1]["exemption_reason"] == "Exempt under § 4 Nr. 21 UStG"
    assert [ln["tax_category"] for ln in body["lines"]] == ["S", "E", "Z"]
    assert body["totals"]["gross"] == "189.00"  # 170.00 net + 19.00 tax


def test_units_are_rec20_codes_and_free_text_units_are_read_as_codes(app, make):
    invoice = make.invoice(make.event(), lines=[line(unit="pcs"), line(unit="HUR"), line()])
    assert [ln.unit for ln in invoice.lines] == ["H87", "HUR", "C62"]
    with pytest.raises(ValidationError) as caught:
        svc.update_draft(invoice, {"lines": [line(unit="boxes")]}, actor=ACTOR)
    assert "lines.0.unit" in caught.value.fields


def test_the_event_period_payment_means_and_buyer_data_are_frozen_at_close(app, make):
    organizer = make.organizer()
    organizers.update_profile(organizer, {"payment_means": MEANS}, actor=ACTOR)
    event = make.event(organizer, start_date="2026-10-20", end_date="2026-10-22")
    invoice = make.invoice(event, buyer_reference="04011000-12345-03",
                           billing_address={"company": "Stadt Köln", "country": "DE",
                                            "registration_id": "HRB 1",
                                            "electronic_address": {"id": "rechnung@koeln.de",
                                                                   "scheme": "em"},
                                            "e_bill_taxpayer": True})
    svc.close_invoice(invoice, actor=ACTOR)
    body = invoice_to_dict(invoice)
    assert body["period"] == {"start": "2026-10-20", "end": "2026-10-22"}
    assert body["delivery_date"] is None
    assert body["payment_means"] == {"code": "58", "iban": "DE89370400440532013000",
                                     "bic": "COBADEFFXXX", "account_name": "Org GmbH"}
    assert body["buyer_reference"] == "04011000-12345-03"
    assert body["billing_address"]["electronic_address"] == {"id": "rechnung@koeln.de",
                                                             "scheme": "EM"}
    assert body["billing_address"]["e_bill_taxpayer"] is True
    assert body["billing_address"]["registration_id"] == "HRB 1"
    assert body["seller"]["company"] == "Org GmbH" and body["seller"]["tax_number"] == ""
    assert body["preceding_invoice"] is None
    # The profile changes later; the closed invoice keeps what it was closed with.
    organizers.update_profile(organizer, {"payment_means": None}, actor=ACTOR)
    assert invoice_to_dict(invoice)["payment_means"]["iban"] == "DE89370400440532013000"


def test_without_event_dates_the_issue_date_is_the_delivery_date(app, make):
    invoice = make.invoice(make.event())
    svc.close_invoice(invoice, actor=ACTOR, today=dt.date(2026, 11, 2))
    assert invoice.delivery_date == dt.date(2026, 11, 2)
    assert invoice.period_start is None


def test_bad_iban_bic_and_period_are_refused_with_every_problem(app, make):
    with pytest.raises(ValidationError) as caught:
        make.invoice(make.event(), payment_means={"code": "99", "iban": "DE00 1234",
                                                  "bic": "nope"},
                     period={"start": "2026-10-22", "end": "2026-10-20"})
    assert set(caught.value.fields) == {"payment_means.code", "payment_means.iban",
                                        "payment_means.bic", "period.end"}


def test_credit_note_carries_preceding_invoice_and_reads_as_a_credit(app, make):
    invoice = make.invoice(make.event(), lines=[line("Ticket", "10", "96.519")],
                           discounts=[{"type": "percent_off", "value": "10"}],
                           texts={"introductory": "Thank you for your purchase!",
                                  "payment": "Please transfer the amount."})
    svc.close_invoice(invoice, actor=ACTOR, today=dt.date(2026, 10, 20))
    credit = svc.cancel_invoice(invoice, actor=ACTOR, today=dt.date(2026, 10, 21))
    body = invoice_to_dict(credit)
    assert body["preceding_invoice"] == {"number": invoice.number, "issue_date": "2026-10-20"}
    assert body["texts"]["payment"] == "" and body["texts"]["introductory"] == ""
    # 10 x 96.519 = 965.19 net; 10 % off = 96.52 -> 868.67: negated on the credit note, where
    # the cut *adds* 96.52 back: -965.19 + 96.52 == -868.67.
    assert body["totals"]["prediscount_net"] == "-965.19"
    assert body["discounts"][0]["amount"] == "-96.52"
    assert body["totals"]["subtotal_net"] == "-868.67"
    with pytest.raises(ConflictError):
        svc.dispute_invoice(credit, actor=ACTOR, reason="no")


def test_the_pdfs_of_an_invoice_and_its_credit_note_say_what_the_law_asks(app, make):
    organizer = make.organizer(legal_name="Org Events GmbH", registration_id="HRB 12345",
                               registration_scheme="Amtsgericht Berlin")
    organizers.update_profile(organizer, {"payment_means": MEANS}, actor=ACTOR)
    event = make.event(organizer, locale="en",
                       payment_text="Please transfer the amount within 14 days.")
    invoice = make.invoice(event, lines=[line("Ticket", "2", "50.00")],
                           delivery_date="2026-10-18",
                           discounts=[{"type": "amount_off", "value": "10"}])
    svc.close_invoice(invoice, actor=ACTOR, today=dt.date(2026, 10, 20))
    jobs.commit()
    invoice = db.session.get(Invoice, invoice.id)
    text = pdf_text(documents.stored_document(invoice).content)
    assert f"Invoice date {format_date(dt.date(2026, 10, 20), 'en')}" in text
    assert f"Delivery date {format_date(dt.date(2026, 10, 18), 'en')}" in text
    assert "Due date" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text and "BIC COBADEFFXXX" in text
    assert "SEPA credit transfer" in text
    assert "Org Events GmbH" in text and "Registration HRB 12345 (Amtsgericht Berlin)" in text
    assert "Please transfer the amount within 14 days." in text
    # 2 x 50.00 = 100.00 - 10.00 = 90.00 net, 17.10 tax, 107.10 gross.
    assert "Discount -€10.00" in text and "Total €107.10" in text

    credit = svc.cancel_invoice(invoice, actor=ACTOR, today=dt.date(2026, 10, 21))
    jobs.commit()
    credit = db.session.get(Invoice, credit.id)
    text = pdf_text(documents.stored_document(credit).content)
    issued = format_date(dt.date(2026, 10, 20), "en")
    assert (f"This credit note cancels invoice {invoice.number} of {issued}; "
            "the amount will be refunded.") in text
    assert f"Original invoice {invoice.number} ({issued})" in text
    assert f"Credit note date {format_date(dt.date(2026, 10, 21), 'en')}" in text
    assert "Please transfer" not in text and "IBAN" not in text and "Due date" not in text
    # The discount gives back: -100.00 + 10.00 = -90.00 net, -17.10 tax, -107.10 gross.
    assert "Discount €10.00" in text and "Total -€107.10" in text
    assert "Registration HRB 12345" in text


def test_seller_country_must_be_iso_and_germany_is_not_ge(app, make):
    with pytest.raises(ValidationError) as caught:
        make.organizer(country="Germany")
    assert "seller.country" in caught.value.fields
    with pytest.raises(ValidationError):
        make.organizer(country="EU")  # a babel region, not an ISO 3166-1 country


def test_money_groups_keep_categories_apart(app):
    from portal.domain import money

    totals = money.compute_invoice(money.InvoiceInput(currency="EUR", lines=[
        money.LineInput(Decimal("1"), Decimal("10.00"), Decimal("0"), "VAT", tax_category="Z"),
        money.LineInput(Decimal("1"), Decimal("5.00"), Decimal("0"), "VAT", tax_category="E"),
        money.LineInput(Decimal("1"), Decimal("2.00"), Decimal("0"), "VAT", tax_category="Z")],
        shipping=money.ChargeInput(Decimal("3.00"), Decimal("0"), tax_category="E")))
    # Z: 10.00 + 2.00; E: 5.00 + the 3.00 charge that joins its category's group.
    assert [(g.category, g.net) for g in totals.groups] == [("Z", Decimal("12.00")),
                                                           ("E", Decimal("8.00"))]


def test_demo_issue_dates_follow_the_numbering_and_its_ledger_is_intact(app):
    from portal.demo import load_demo
    from portal.models import Event
    from portal.services import ledger

    load_demo()
    event = db.session.scalar(select(Event).where(Event.slug == "sampleconf"))
    for types in (("invoice", "credit_note"), ("proforma",), ("shipping_invoice",)):
        rows = db.session.execute(select(Invoice.sequence_value, Invoice.issue_date).where(
            Invoice.event_id == event.id, Invoice.type.in_(types),
            Invoice.number.is_not(None)).order_by(Invoice.sequence_value)).all()
        dates = [issued for _, issued in rows]
        assert dates == sorted(dates), (types, rows)
    assert ledger.verify_event(event)["ok"]
    organizer = event.organizer
    assert organizer.payment_means["iban"] == "DE02120300000000202051"
    assert organizer.seller["registration_id"] == "HRB 123456"
