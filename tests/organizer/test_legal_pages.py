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


def _png() -> bytes:
    """A valid 1x1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def _profile_form(**extra) -> dict:
    data = {"name": "Acme Events", "seller-legal_name": "Acme Events GmbH",
            "seller-company": "Acme", "seller-street1": "Main St 1", "seller-city": "Berlin",
            "seller-postal_code": "10115", "seller-country": "DE", "seller-vat_id": "DE999",
            "seller-registration_id": "HRB 1", "means_code": "58",
            "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
            "account_name": "Acme Events GmbH"}
    data.update(extra)
    return data


def test_the_owner_keeps_seller_data_payment_means_and_a_logo_in_the_profile(as_owner, world):
    import io

    from portal.services.documents.context import build_pdf_context
    from portal.services.documents.render import make_pdf

    url = "/org/acme/profile"
    assert "Organizer profile" in text(as_owner.get(url))
    response = as_owner.post(url, {**_profile_form(), "logo": (io.BytesIO(_png()), "l.png")},
                             content_type="multipart/form-data")
    assert response.status_code == 303, text(response)
    db.session.expire_all()
    organizer = db.session.get(type(world.organizer), world.organizer.id)
    assert organizer.seller["legal_name"] == "Acme Events GmbH"
    assert organizer.payment_means == {"code": "58", "iban": "DE89370400440532013000",
                                       "bic": "COBADEFFXXX", "account_name": "Acme Events GmbH"}
    assert organizer.logo_type == "image/png"
    assert as_owner.get("/org/acme/profile/logo").data == _png()
    # The logo is printed on the PDF: an image XObject on the page.
    pdf = make_pdf(build_pdf_context(db.session.get(type(world.open), world.open.id)))
    from pypdf import PdfReader
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert any(str(x.get_object().get("/Subtype")) == "/Image"
               for x in page["/Resources"].get("/XObject", {}).values())

    # "Germany" is not a country code; a GIF is not a logo; a bad IBAN is refused.
    bad = as_owner.post(url, {**_profile_form(**{"seller-country": "Germany", "iban": "DE00"}),
                              "logo": (io.BytesIO(b"GIF89a...."), "l.gif")},
                        content_type="multipart/form-data")
    assert bad.status_code == 400
    page_text = text(bad)
    assert "Enter a two-letter ISO country code" in page_text
    assert "Upload a PNG or JPEG image." in page_text and "Enter a valid IBAN." in page_text
    db.session.expire_all()
    assert db.session.get(type(world.organizer), world.organizer.id).seller["country"] == "DE"


def test_forms_offer_countries_units_and_categories_from_the_code_lists(as_manager, world):
    page = text(as_manager.get(world.url("/invoices/new"),
                               headers={"Accept-Language": "de"}))
    assert '<option value="DE">Deutschland (DE)</option>' in page
    assert '<option value="GE">Georgien (GE)</option>' in page
    assert 'value="HUR">Stunden (HUR)' in page
    assert 'value="AE">AE – VAT reverse charge' in page
    assert 'name="delivery_date"' in page and 'name="buyer_reference"' in page
    assert 'name="billing_address-e_bill_taxpayer"' in page
