"""The back-office jobs page (owners) and the confirm step of a send after a delivery whose
outcome is unknown."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Invoice, Job, Sending

from .conftest import Browser, commit_fixtures, text


def test_an_owner_sees_the_organizers_pending_jobs_and_no_other(as_owner, world):
    # The world's closed invoices were committed without running their render jobs.
    page = as_owner.get(world.org_url("/jobs"))
    assert page.status_code == 200
    html = text(page)
    pending = db.session.scalars(select(Job).where(Job.state == "pending")).all()
    ours = [job for job in pending if job.organizer_id == world.organizer.id]
    theirs = [job for job in pending if job.organizer_id == world.other.id]
    assert len(ours) == 4 and len(theirs) == 1  # open, paid, disputed, open2 | foreign
    for job in ours:
        assert f"<td>{job.id}</td>" in html
    assert f"<td>{theirs[0].id}</td>" not in html
    assert "Pending <span class=\"muted small\">(4)</span>" in html
    assert "Failed <span class=\"muted small\">(0)</span>" in html


def test_managers_and_viewers_get_no_jobs_page(as_manager, app, world):
    assert as_manager.get(world.org_url("/jobs")).status_code in (403, 404)
    viewer = Browser(app.test_client(), world.viewer)
    assert viewer.get(world.org_url("/jobs")).status_code in (403, 404)


def test_a_send_after_an_unknown_outcome_asks_to_confirm(as_manager, world):
    invoice = world.open
    db.session.add(Sending(invoice=invoice, to="buyer@example.com", outcome="unknown",
                           message_id="<cut.1@localhost>", error="cut off"))
    invoice.status = "sent"
    commit_fixtures()
    detail = as_manager.get(world.url(f"/invoices/{invoice.id}"))
    html = text(detail)
    assert "Unknown — check before resending" in html
    assert "&lt;cut.1@localhost&gt;" in html
    assert 'name="confirm"' in html

    refused = as_manager.follow(as_manager.post(world.url(f"/invoices/{invoice.id}/send")))
    assert "may have arrived" in text(refused)
    assert len(db.session.get(Invoice, invoice.id).sendings) == 1  # nothing recorded

    sent = as_manager.post(world.url(f"/invoices/{invoice.id}/send"), {"confirm": "1"})
    assert sent.status_code == 303
    db.session.expire_all()
    sendings = db.session.get(Invoice, invoice.id).sendings
    assert [s.outcome for s in sendings] == ["unknown", "sent"]
