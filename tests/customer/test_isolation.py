"""Customer A reaches its own closed invoices and nothing else: anything else is the same 404."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Invoice

from .helpers import csrf_token, sign_in

FOREIGN = ("b_invoice", "c_invoice", "a_draft")  # same organizer, other organizer, A's draft


def missing_id() -> int:
    return db.session.scalar(select(func.max(Invoice.id))) + 1000


def requests_for(invoice_id: int, token: str):
    """Every way to reach one invoice: see it, download it, dispute it."""
    return [
        ("GET", f"/my/invoices/{invoice_id}", None),
        ("GET", f"/my/invoices/{invoice_id}/pdf", None),
        ("POST", f"/my/invoices/{invoice_id}/dispute", {"reason": "Mine?", "csrf_token": token}),
    ]


@pytest.mark.parametrize("name", FOREIGN)
def test_foreign_invoices_and_drafts_answer_exactly_like_a_missing_id(client, world, name):
    target = getattr(world, name)
    sign_in(client, world.a)
    token = csrf_token(client, "/my/invoices")
    status_before = target.status
    audit_before = db.session.scalar(select(func.count(AuditEntry.id)))

    missing = requests_for(missing_id(), token)
    for (method, url, data), (_, missing_url, _) in zip(requests_for(target.id, token), missing,
                                                        strict=True):
        response = client.open(url, method=method, data=data)
        reference = client.open(missing_url, method=method, data=data)
        assert response.status_code == 404, url
        assert reference.status_code == 404, missing_url
        assert response.get_data() == reference.get_data(), url
        assert response.headers["Content-Type"] == reference.headers["Content-Type"]

    db.session.expire_all()
    assert db.session.get(Invoice, target.id).status == status_before
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audit_before


def test_foreign_invoices_never_show_up_in_the_list_or_a_search(client, world):
    sign_in(client, world.a)
    for foreign in (world.b_invoice, world.c_invoice):
        html = client.get(f"/my/invoices?number={foreign.number}").get_data(as_text=True)
        assert f"/my/invoices/{foreign.id}\"" not in html
    html = client.get("/my/invoices").get_data(as_text=True)
    assert world.b.name not in html and world.c.name not in html


def test_each_customer_sees_only_its_own(client, world):
    sign_in(client, world.b)
    assert client.get(f"/my/invoices/{world.b_invoice.id}").status_code == 200
    for own_of_a in (world.a_first, world.a_second, world.a_credit):
        assert client.get(f"/my/invoices/{own_of_a.id}").status_code == 404
    sign_in(client, world.c)
    assert client.get(f"/my/invoices/{world.c_invoice.id}").status_code == 200
    assert client.get(f"/my/invoices/{world.b_invoice.id}").status_code == 404


def test_ids_that_are_not_numbers_are_404_too(client, world):
    sign_in(client, world.a)
    for url in ("/my/invoices/abc", "/my/invoices/-1", "/my/invoices/1.5/pdf",
                "/my/invoices/%00/dispute"):
        assert client.get(url).status_code == 404, url
