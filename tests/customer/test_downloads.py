"""The PDF of record of one invoice, and "download all as ZIP"."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from portal import jobs
from portal.extensions import db
from portal.models import InvoiceDocument

from .helpers import close, sign_in


def download_zip(client) -> zipfile.ZipFile:
    with client.get("/my/invoices.zip") as response:  # closes the streamed file
        assert response.status_code == 200
        return zipfile.ZipFile(io.BytesIO(response.get_data()))


def stored(invoice) -> InvoiceDocument:
    document = db.session.get(InvoiceDocument, invoice.id)
    assert document is not None
    return document


def test_the_pdf_is_the_stored_document_of_record(client, world):
    sign_in(client, world.a)
    response = client.get(f"/my/invoices/{world.a_second.id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    document = stored(world.a_second)
    assert response.get_data() == document.content
    assert response.get_data().startswith(b"%PDF")
    assert response.headers["ETag"] == f'"{document.sha256}"'
    assert f"{world.a_second.number}.pdf" in response.headers["Content-Disposition"]
    assert "private" in response.headers["Cache-Control"]
    again = client.get(f"/my/invoices/{world.a_second.id}/pdf",
                       headers={"If-None-Match": f'"{document.sha256}"'})
    assert again.status_code == 304


def test_a_pdf_still_being_made_shows_a_page_that_refreshes(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    invoice = close(make, event, customer, on=dt.date(2026, 6, 1))
    jobs.discard_pending()  # the render job has not run yet
    sign_in(client, customer)
    response = client.get(f"/my/invoices/{invoice.id}/pdf")
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "3"
    html = response.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "Your PDF is being prepared" in html
    assert "<script" not in html

    jobs.run_now("portal.render_document", invoice.id)
    assert client.get(f"/my/invoices/{invoice.id}/pdf").mimetype == "application/pdf"


def _with_xml(stems) -> list[str]:
    """Each PDF of record comes with its CII and UBL (SPEC §11)."""
    return sorted(f"{stem}{suffix}" for stem in stems
                  for suffix in (".pdf", "-cii.xml", "-ubl.xml"))


def test_zip_holds_every_own_stored_pdf_and_nothing_else(client, world):
    sign_in(client, world.a)
    with client.get("/my/invoices.zip") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/zip"
        assert response.headers["Content-Disposition"] == \
            f"attachment; filename=invoices-{world.a.reference}.zip"
        archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    own = [world.a_first, world.a_second, world.a_cancelled, world.a_credit]
    assert sorted(archive.namelist()) == _with_xml(i.number for i in own)
    for invoice in own:
        assert archive.read(f"{invoice.number}.pdf") == stored(invoice).content
        assert archive.read(f"{invoice.number}-cii.xml") == stored(invoice).cii
        assert archive.read(f"{invoice.number}-ubl.xml") == stored(invoice).ubl
    assert archive.testzip() is None


def test_zip_names_pdfs_still_being_made(client, world, make):
    pending = close(make, world.event1, world.a, on=dt.date(2026, 7, 1))
    jobs.discard_pending()
    sign_in(client, world.a)
    archive = download_zip(client)
    assert f"{pending.number}.pdf" not in archive.namelist()
    assert pending.number in archive.read("still-being-prepared.txt").decode()
    assert len(archive.namelist()) == 4 * 3 + 1  # 4 PDFs with their 2 XMLs each, the note


def test_zip_with_nothing_ready_goes_back_to_the_list(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer)
    close(make, event, customer, on=dt.date(2026, 6, 1))
    jobs.discard_pending()
    sign_in(client, customer)
    response = client.get("/my/invoices.zip")
    assert response.status_code == 303
    assert response.headers["Location"] == "/my/invoices"
    assert "None of your PDFs is ready yet." in client.get("/my/invoices").get_data(as_text=True)


def test_zip_keeps_equal_numbers_of_two_events_apart(client, make):
    organizer = make.organizer()
    customer = make.customer(organizer)
    first = make.event(organizer, invoice_prefix="INV-")
    second = make.event(organizer, invoice_prefix="INV-")
    a = close(make, first, customer, on=dt.date(2026, 6, 1))
    b = close(make, second, customer, on=dt.date(2026, 6, 2))
    jobs.commit()
    assert a.number == b.number == "INV-00001"
    sign_in(client, customer)
    archive = download_zip(client)
    assert sorted(archive.namelist()) == _with_xml(["INV-00001", f"{second.slug}-INV-00001"])
