"""Issue 16: document downloads answer a strong ETag (the stored hash), `Cache-Control:
private`, and a 304 for a current copy, without reading the bytes; drafts and documents still
being made keep their answers."""

from __future__ import annotations

import hashlib

import pytest

from portal import jobs
from portal.extensions import db
from portal.models import InvoiceDocument
from portal.services import customers, documents
from tests.factories import ACTOR

from .conftest import Api
from .test_auth_one_query import statements  # noqa: F401 - the statement-watching fixture


def _stored(make, world):
    invoice = make.closed(world.event, world.customer)
    jobs.commit()
    document = db.session.get(InvoiceDocument, invoice.id)
    db.session.flush()
    return invoice, document


def _urls(world, invoice, client):
    key = customers.rotate_key(world.customer, actor=ACTOR)
    db.session.flush()
    pretix = (f"/compat/pretix/api/v1/organizers/{world.organizer.slug}/events/"
              f"{world.event.slug}/invoices/{invoice.number}/download/")
    return {
        "api": (Api(client, world.rw.plain), world.invoice_url(invoice, "pdf/")),
        "customer": (Api(client, customer_key=key), f"/api/v1/customer/invoices/{invoice.id}/pdf"),
        "pretix": (Api(client, world.rw.plain), pretix),
    }


@pytest.mark.parametrize("where", ["api", "customer", "pretix"])
def test_a_stored_pdf_has_a_strong_private_etag_and_a_304(client, world, make, statements,  # noqa: F811
                                                         where):
    invoice, document = _stored(make, world)
    as_who, url = _urls(world, invoice, client)[where]
    etag = f'"{document.sha256}"'
    assert document.sha256 == hashlib.sha256(document.content).hexdigest() == invoice.pdf_sha256

    with statements() as full:
        response = as_who.get(url)
    assert response.status_code == 200 and response.data == document.content
    assert response.headers["ETag"] == etag  # strong: no W/
    assert response.headers["Cache-Control"].startswith("private")
    assert "public" not in response.headers["Cache-Control"]
    assert response.headers["Content-Length"] == str(len(document.content))
    assert len(full.sql) == 1

    for asked in (etag, f'W/{etag}', f'"other", {etag}', "*"):
        with statements() as conditional:
            cached = as_who.get(url, headers={"If-None-Match": asked})
        assert cached.status_code == 304 and cached.data == b"", asked
        assert cached.headers["ETag"] == etag and cached.headers["Cache-Control"].startswith(
            "private")
        # one statement, and the database drops the bytes: the hash the client named is in
        # it (CASE … THEN NULL), or with `*` no bytes are asked for at all
        (sql, parameters), = conditional.seen
        if asked != "*":
            assert "CASE WHEN" in sql and document.sha256 in str(parameters)
        else:
            assert "invoice_documents.content" not in sql

    stale = as_who.get(url, headers={"If-None-Match": '"not-this-one"'})
    assert stale.status_code == 200 and stale.data == document.content


def test_drafts_and_pending_documents_keep_their_answers(api, world, make):
    draft = make.invoice(world.event, world.customer)
    preview = api.get(world.invoice_url(draft, "pdf/"))
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    assert preview.headers["Cache-Control"] == "no-store" and "ETag" not in preview.headers
    # a draft's preview ignores If-None-Match: it is never cached
    assert api.get(world.invoice_url(draft, "pdf/"),
                   headers={"If-None-Match": "*"}).status_code == 200
    pending = make.closed(world.event, world.customer)  # its job has not run yet
    db.session.flush()
    for headers in ({}, {"If-None-Match": "*"}):
        response = api.get(world.invoice_url(pending, "pdf/"), headers=headers)
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "document_pending"
        assert int(response.headers["Retry-After"]) > 0
    documents.store_document_of_record(pending.id)
    db.session.flush()
    assert api.get(world.invoice_url(pending, "pdf/")).status_code == 200


def test_xml_downloads_answer_a_304_from_the_recorded_hash(api, world, make, statements):  # noqa: F811
    invoice, document = _stored(make, world)
    for syntax, data, recorded in (("cii", document.cii, invoice.cii_sha256),
                                   ("ubl", document.ubl, invoice.ubl_sha256)):
        url = world.invoice_url(invoice, f"xml/?syntax={syntax}")
        etag = f'"{hashlib.sha256(data).hexdigest()}"'
        assert etag == f'"{recorded}"'
        response = api.get(url)
        assert response.status_code == 200 and response.data == data
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"].startswith("private")
        with statements() as seen:
            cached = api.get(url, headers={"If-None-Match": etag})
        assert cached.status_code == 304 and cached.data == b"" and cached.headers["ETag"] == etag
        assert not any("invoice_documents" in sql for sql in seen.sql)
