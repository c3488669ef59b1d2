"""The PDF from the back office: the document of record of a closed invoice, a preview of a
draft, and a page that refreshes itself while the document is still being made."""

from __future__ import annotations

from portal.services.documents import store_document_of_record

from .conftest import commit_fixtures, text


def test_a_draft_gets_a_fresh_preview(as_viewer, world):
    response = as_viewer.get(world.url(f"/invoices/{world.draft.id}/pdf"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"


def test_a_closed_invoice_gets_its_stored_document(as_viewer, world):
    document = store_document_of_record(world.open.id)
    commit_fixtures()
    response = as_viewer.get(world.url(f"/invoices/{world.open.id}/pdf"))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data == document.content
    assert response.headers["ETag"] == f'"{document.sha256}"'
    assert response.headers["Content-Disposition"].startswith("inline")
    download = as_viewer.get(world.url(f"/invoices/{world.open.id}/pdf?download=1"))
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert world.open.number in download.headers["Content-Disposition"]
    again = as_viewer.get(world.url(f"/invoices/{world.open.id}/pdf"),
                          headers={"If-None-Match": f'"{document.sha256}"'})
    assert again.status_code == 304


def test_while_the_document_is_made_a_page_refreshes_itself(as_viewer, world):
    response = as_viewer.get(world.url(f"/invoices/{world.open.id}/pdf"))
    assert response.status_code == 409
    assert int(response.headers["Retry-After"]) > 0
    page = text(response)
    assert "The PDF is being prepared" in page
    assert '<meta http-equiv="refresh" content="' in page
    assert world.url(f"/invoices/{world.open.id}/pdf") in page


def test_detail_links_to_the_pdf(as_viewer, world):
    page = text(as_viewer.get(world.url(f"/invoices/{world.open.id}")))
    assert f'href="{world.url(f"/invoices/{world.open.id}/pdf")}"' in page
    assert "Download" in page
    page = text(as_viewer.get(world.url(f"/invoices/{world.draft.id}")))
    assert "Preview PDF" in page


def test_other_organizers_pdfs_are_not_found(as_owner, world):
    assert as_owner.get(world.url(f"/invoices/{world.foreign.id}/pdf")).status_code == 404
