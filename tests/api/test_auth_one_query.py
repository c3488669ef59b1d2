"""Issue 16: a request finds its token, organizer, event (and, for downloads, the invoice and
its stored bytes) in ONE statement; every refusal keeps its status; a revoked token is refused
from the next request on; a dead pooled connection (no pool_pre_ping) still gets an answer."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import event as sa_event
from sqlalchemy.pool import NullPool

from portal.extensions import db
from portal.services import documents, organizers, tokens
from tests.factories import ACTOR, Factory

from .conftest import Api


class Statements:
    """Every statement the engine runs (savepoints and transaction control left out)."""

    def __init__(self):
        self.seen: list[tuple[str, object]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK",
                                                      "BEGIN")):
            self.seen.append((" ".join(statement.split()), parameters))

    @property
    def sql(self) -> list[str]:
        return [statement for statement, _ in self.seen]


@pytest.fixture
def statements(app):
    from contextlib import contextmanager

    @contextmanager
    def watching():
        seen = Statements()
        sa_event.listen(db.engine, "before_cursor_execute", seen)
        try:
            yield seen
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", seen)

    return watching


def _is_auth(sql: str) -> bool:
    return "FROM api_tokens JOIN organizers" in sql


def _stored(make, event, customer):
    invoice = make.closed(event, customer)
    document = documents.store_document_of_record(invoice.id)
    db.session.flush()  # the request's statements only, below
    return invoice, document


# ---------------------------------------------------------------- one statement


@pytest.mark.parametrize("who", ["rw", "limited"])
def test_detail_finds_token_organizer_and_event_in_one_statement(client, world, make,
                                                                  statements, who):
    token = getattr(world, who)
    event = world.event if who == "rw" else world.other_event
    invoice, _ = _stored(make, event, world.customer)
    url = f"/api/v1/organizers/{world.organizer.slug}/events/{event.slug}/invoices/{invoice.id}/"
    with statements() as seen:
        response = Api(client, token.plain).get(url)
    assert response.status_code == 200 and response.get_json()["id"] == invoice.id
    first, *rest = seen.sql
    assert _is_auth(first) and "LEFT OUTER JOIN events" in first
    if who == "limited":  # its event limits are a correlated EXISTS of the same statement
        assert "api_token_events" in first
    assert rest and rest[0].startswith("SELECT invoices.id")
    assert not any("api_tokens" in sql or "FROM events" in sql for sql in rest)


def test_organizer_wide_list_finds_token_and_organizer_in_one_statement(api, world, make,
                                                                         statements):
    make.closed(world.event, world.customer)
    db.session.flush()
    with statements() as seen:
        response = api.get(f"/api/v1/organizers/{world.organizer.slug}/invoices/")
    assert response.status_code == 200 and response.get_json()["count"] == 1
    assert _is_auth(seen.sql[0])
    assert sum("api_tokens" in sql for sql in seen.sql) == 1


def test_a_stored_pdf_is_one_statement_token_to_bytes(api, world, make, statements):
    invoice, document = _stored(make, world.event, world.customer)
    with statements() as seen:
        response = api.get(world.invoice_url(invoice, "pdf/"))
    assert response.status_code == 200 and response.data == document.content
    assert response.headers["ETag"] == f'"{document.sha256}"'
    assert len(seen.sql) == 1, seen.sql
    assert _is_auth(seen.sql[0]) and "invoice_documents.content" in seen.sql[0]


def test_the_pretix_download_is_one_statement_token_to_bytes(client, world, make, statements):
    invoice, document = _stored(make, world.event, world.customer)
    url = (f"/compat/pretix/api/v1/organizers/{world.organizer.slug}/events/{world.event.slug}"
           f"/invoices/{invoice.number}/download/")
    with statements() as seen:
        response = Api(client, world.rw.plain).get(url)
    assert response.status_code == 200 and response.data == document.content
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(seen.sql) == 1, seen.sql


def test_the_customer_pdf_is_one_statement_key_to_bytes(client, world, make, statements):
    from portal.services import customers

    invoice, document = _stored(make, world.event, world.customer)
    key = customers.rotate_key(world.customer, actor=ACTOR)
    db.session.flush()
    with statements() as seen:
        response = Api(client, customer_key=key).get(f"/api/v1/customer/invoices/{invoice.id}/pdf")
    assert response.status_code == 200 and response.data == document.content
    assert len(seen.sql) == 1, seen.sql
    assert "FROM customers LEFT OUTER JOIN invoices" in seen.sql[0]


# ---------------------------------------------------------------- every refusal as before


def test_every_refusal_keeps_its_status(client, world, make):
    invoice, _ = _stored(make, world.event, world.customer)
    other_org = make.organizer(name="Other")
    paths = {
        "detail": world.invoice_url(invoice),
        "pdf": world.invoice_url(invoice, "pdf/"),
        "list": f"{world.base}/invoices/",
    }
    for name, url in paths.items():
        assert client.get(url).status_code == 401, name
        bad = Api(client, "pt_not-a-token").get(url)
        assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "invalid_token"
        assert bad.headers["WWW-Authenticate"] == 'Token realm="api"'
        assert Api(client, f"{world.rw.plain[:-1]}x").get(url).status_code == 401, name
        assert Api(client, world.limited.plain).get(url).status_code == 404, name
        assert Api(client, world.stranger.plain).get(url).status_code == 404, name
        foreign = url.replace(world.organizer.slug, other_org.slug)
        assert Api(client, world.rw.plain).get(foreign).status_code == 404, name
        assert Api(client, world.rw.plain).get(url).status_code == 200, name
    missing = Api(client, world.rw.plain)
    for raw in ("0", "abc", "99999999999999999999", str(invoice.id + 1000)):
        assert missing.get(f"{world.base}/invoices/{raw}/pdf/").status_code == 404, raw
    assert missing.get(world.invoice_url(invoice, "pdf/?x=1")).status_code == 400
    assert Api(client, "wrong").get(f"{world.base}/invoices/abc/pdf/?x=1").status_code == 401
    # writes: read-only 403, archived event 409
    write = f"{world.base}/invoices/"
    body = {"customer": world.customer.reference}
    refused = Api(client, world.ro.plain).post(write, body)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "read_only_token"
    organizers.archive_event(world.event, actor=ACTOR)
    db.session.flush()
    archived = Api(client, world.rw.plain).post(write, body)
    assert archived.status_code == 409 and archived.get_json()["error"]["code"] == "event_archived"
    assert Api(client, world.rw.plain).get(paths["pdf"]).status_code == 200


def test_the_pretix_download_refuses_as_pretix_does(client, world, make):
    invoice, _ = _stored(make, world.event, world.customer)
    draft = make.invoice(world.event, world.customer)
    base = f"/compat/pretix/api/v1/organizers/{world.organizer.slug}/events"
    url = f"{base}/{world.event.slug}/invoices/{invoice.number}/download/"
    assert client.get(url).status_code == 401
    assert Api(client, "pt_wrong").get(url).status_code == 401
    assert Api(client, world.limited.plain).get(url).status_code == 403
    assert Api(client, world.stranger.plain).get(url).status_code == 403
    rw = Api(client, world.rw.plain)
    assert rw.get(f"{base}/nope/invoices/{invoice.number}/download/").status_code == 403
    assert rw.get(f"{base}/{world.event.slug}/invoices/NOPE-1/download/").status_code == 404
    assert rw.get(f"{base}/{world.event.slug}/invoices/draft-{draft.id}/download/"
                  ).status_code == 404


def test_the_customer_pdf_refuses_as_before(client, world, make):
    from portal.services import customers

    mine, _ = _stored(make, world.event, world.customer)
    draft = make.invoice(world.event, world.customer)
    other = make.customer(world.organizer, reference="C-2")
    theirs, _ = _stored(make, world.event, other)
    key = customers.rotate_key(world.customer, actor=ACTOR)
    url = "/api/v1/customer/invoices/{}/pdf"
    assert client.get(url.format(mine.id)).status_code == 401
    wrong = Api(client, customer_key="nope").get(url.format(mine.id))
    assert wrong.status_code == 401
    assert wrong.get_json()["error"]["code"] == "invalid_customer_key"
    me = Api(client, customer_key=key)
    assert me.get(url.format(mine.id)).status_code == 200
    for invoice_id in (theirs.id, draft.id, "abc", 99999999999):
        assert me.get(url.format(invoice_id)).status_code == 404, invoice_id
    assert me.get(url.format(mine.id) + "?x=1").status_code == 400


# ---------------------------------------------------------------- revocation


def test_a_revoked_token_is_refused_from_the_next_request(client, world, make):
    invoice, _ = _stored(make, world.event, world.customer)
    token = make.token(world.organizer)
    me = Api(client, token.plain)
    assert me.get(world.invoice_url(invoice)).status_code == 200
    assert me.get(world.invoice_url(invoice, "pdf/")).status_code == 200
    tokens.revoke_token(token, actor=ACTOR)
    db.session.commit()
    for url in (world.invoice_url(invoice), world.invoice_url(invoice, "pdf/"),
                f"/api/v1/organizers/{world.organizer.slug}/invoices/"):
        refused = me.get(url)
        assert refused.status_code == 401, url
        assert refused.get_json()["error"]["code"] == "invalid_token"
    assert Api(client, world.rw.plain).get(world.invoice_url(invoice)).status_code == 200


# ---------------------------------------------------------------- a dead pooled connection


def test_no_pre_ping_and_a_killed_connection_still_gets_an_answer(committed_app, db_kind):
    """The pool has no pre-ping; after the pooled connections die (PostgreSQL: terminated by
    the server, as on a restart; SQLite: closed behind the pool's back) the next request is
    still answered, on a fresh connection, and so is every request after it."""
    app = committed_app
    with app.app_context():
        assert db.engine.pool._pre_ping is False
        assert db.engine.pool._recycle == 1800
        make = Factory()
        organizer = make.organizer(name="Restart")
        event = make.event(organizer)
        token = make.token(organizer)
        invoice = make.closed(event)
        db.session.commit()
        document = documents.store_document_of_record(invoice.id)
        db.session.commit()
        url = f"/api/v1/organizers/{organizer.slug}/events/{event.slug}/invoices/{invoice.id}/"
        secret, content = token.plain, document.content
        db.session.remove()
    client = app.test_client()
    me = Api(client, secret)
    assert me.get(url).status_code == 200 and me.get(url + "pdf/").data == content
    with app.app_context():
        engine = db.engine
        pooled = engine.pool.checkedin()
        assert pooled >= 1
        if db_kind == "postgresql":
            # From outside the pool, as the server does on a restart.
            outside = create_engine(engine.url, poolclass=NullPool)
            with outside.connect() as admin:
                killed = admin.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )).scalar()
            outside.dispose()
        else:
            killed = 0
            for record in list(engine.pool._pool.queue):
                record.dbapi_connection.close()
                killed += 1
        assert killed >= 1
    for path in ("", "pdf/", ""):
        response = me.get(url + path)
        assert response.status_code == 200, (path, response.data[:300])
    assert response.get_json()["id"] == invoice.id
