"""One unit of work per request and per CLI command (portal/unit_of_work.py), with real commits:
below 400 everything commits and the queued jobs run after it; anything else, and any
exception, leaves nothing behind and runs no job. And the test harness sees what production
sees: work a view flushes but does not commit is lost."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from portal import jobs, unit_of_work
from portal.errors import ValidationError
from portal.extensions import db
from portal.models import Invoice, Organizer
from portal.services import organizers
from portal.services.audit import Actor
from portal.unit_of_work import RefusedError
from tests.organizer.conftest import Browser, invoice_form

RAN: list[str] = []


@jobs.job("test.unit_of_work.mark")
def _mark(slug: str) -> None:
    RAN.append(slug)


def _make_organizer(slug: str) -> None:
    organizers.create_organizer(slug, "Flushed", actor=Actor.system("test"))
    db.session.flush()
    jobs.enqueue("test.unit_of_work.mark", slug)


@pytest.fixture
def probe_app(committed_app):
    """The committed app with a few probe views, wrapped like every other view."""
    app = committed_app

    def ok(slug):
        _make_organizer(slug)
        return "made", 201

    def answer_400(slug):
        _make_organizer(slug)
        return "refused", 400

    def raise_invalid(slug):
        _make_organizer(slug)
        raise ValidationError({"slug": ["No."]})

    def raise_refused(slug):
        _make_organizer(slug)
        raise RefusedError("Not now.", to="/")

    def crash(slug):
        _make_organizer(slug)
        raise RuntimeError("boom")

    for view in (ok, answer_400, raise_invalid, raise_refused, crash):
        app.add_url_rule(f"/probe/{view.__name__}/<slug>", view.__name__, view,
                         methods=["POST"])
    unit_of_work.init_unit_of_work(app)
    app.config.update(RENDER_UNEXPECTED_ERRORS=True, WTF_CSRF_ENABLED=False)
    RAN.clear()
    return app


def stored_slugs(app) -> set[str]:
    """What another connection sees: only committed rows."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT slug FROM organizers")).scalars())
    finally:
        engine.dispose()


def test_an_answer_below_400_commits_then_runs_the_jobs(probe_app):
    response = probe_app.test_client().post("/probe/ok/made-here")
    assert response.status_code == 201
    assert "made-here" in stored_slugs(probe_app)
    assert RAN == ["made-here"]


@pytest.mark.parametrize(("view", "status"), [
    ("answer_400", 400), ("raise_invalid", 400), ("raise_refused", 303), ("crash", 500)])
def test_anything_else_leaves_nothing_and_runs_no_job(probe_app, view, status):
    client = probe_app.test_client()
    response = client.post(f"/probe/{view}/{view.replace('_', '-')}")
    assert response.status_code == status
    assert view.replace("_", "-") not in stored_slugs(probe_app)
    assert RAN == []
    if view == "raise_refused":
        assert response.headers["Location"] == "/"
        page = client.get("/")
        assert "Not now." in page.get_data(as_text=True)


def test_a_cli_command_is_one_unit_of_work(committed_app):
    runner = committed_app.test_cli_runner()
    assert runner.invoke(args=["create-organizer", "cli-made", "CLI"]).exit_code == 0
    refused = runner.invoke(args=["create-organizer", "Not A Slug!", "CLI"])
    assert refused.exit_code != 0
    assert {"cli-made"} == stored_slugs(committed_app) & {"cli-made", "Not A Slug!"}


def test_work_a_view_flushes_but_does_not_commit_is_lost(app, client, make, monkeypatch):
    """The harness gives each request its own session, as a server does: with the unit of
    work's commit turned off, the draft the view made (and flushed) is gone afterwards."""
    organizer = make.organizer()
    event = make.event(organizer)
    owner = make.member(organizer, "owner")
    make.customer(organizer, "C-7")
    db.session.commit()
    browser = Browser(client, owner)
    url = f"/org/{organizer.slug}/events/{event.slug}/invoices/new"

    def count() -> int:
        return db.session.scalar(select(func.count(Invoice.id)).where(
            Invoice.event_id == event.id))

    monkeypatch.setattr(unit_of_work, "commit", lambda: db.session.flush())
    response = browser.post(url, invoice_form(customer="C-7"))
    assert response.status_code == 303  # the view did its work and answered …
    assert count() == 0                 # … but nothing was committed, so nothing is there
    monkeypatch.undo()
    assert browser.post(url, invoice_form(customer="C-7")).status_code == 303
    assert count() == 1


def test_organizers_made_by_the_test_are_seen_by_requests(app, client, make):
    """The other direction: what the test flushed (not committed) is visible to a request."""
    organizer = make.organizer(slug="seen-by-request")
    owner = make.member(organizer, "owner")
    assert db.session.scalar(select(Organizer.id).where(Organizer.slug == "seen-by-request"))
    browser = Browser(client, owner)
    assert browser.get("/org/").status_code == 200
    assert "seen-by-request" in browser.get("/org/").get_data(as_text=True)
