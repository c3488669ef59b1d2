"""Idempotency-Key: a retry replays the first answer byte for byte and does nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import IdempotencyRecord, Invoice, Sending
from portal.models.types import utcnow
from portal.services import invoices
from tests.factories import line

KEY = {"Idempotency-Key": "3f1c9a7e-retry-me"}


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_two_identical_posts_create_one_invoice(api, world):
    body = {"customer": "C-1001", "lines": [line()]}
    first = api.post(f"{world.base}/invoices/", body, headers=KEY)
    second = api.post(f"{world.base}/invoices/", body, headers=KEY)
    assert first.status_code == second.status_code == 201
    assert second.data == first.data
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]
    assert _count(Invoice) == 1
    # Without the key the same body is a new request.
    assert api.post(f"{world.base}/invoices/", body).status_code == 201
    assert _count(Invoice) == 2


def test_two_identical_sends_send_one_mail(app, api, world, make, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_FOLDER", str(tmp_path))
    invoice = make.closed(world.event, world.customer)
    url = world.invoice_url(invoice, "send/")
    first = api.post(url, {"to": "ap@example.com"}, headers=KEY)
    second = api.post(url, {"to": "ap@example.com"}, headers=KEY)
    assert first.status_code == second.status_code == 200 and first.data == second.data
    sendings = db.session.scalars(select(Sending).where(Sending.invoice_id == invoice.id)).all()
    assert [(s.to, s.outcome) for s in sendings] == [("ap@example.com", "sent")]
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_the_same_key_with_another_request_is_409(api, world, make):
    assert api.post(f"{world.base}/invoices/", {"channel": "a"}, headers=KEY).status_code == 201
    other_body = api.post(f"{world.base}/invoices/", {"channel": "b"}, headers=KEY)
    assert other_body.status_code == 409
    assert other_body.get_json()["error"]["code"] == "idempotency_key_reused"
    draft = make.invoice(world.event, world.customer)
    other_path = api.post(world.invoice_url(draft, "close/"), headers=KEY)
    assert other_path.status_code == 409
    assert _count(Invoice) == 2 and db.session.get(Invoice, draft.id).status == "draft"


def test_keys_belong_to_their_token(api, world, as_token, make):
    other_token = make.token(world.organizer)
    assert api.post(f"{world.base}/invoices/", {}, headers=KEY).status_code == 201
    theirs = as_token(other_token).post(f"{world.base}/invoices/", {}, headers=KEY)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert _count(Invoice) == 2


def test_a_request_still_running_with_the_key_is_409(api, world):
    fresh = api.post(f"{world.base}/invoices/", {}, headers={"Idempotency-Key": "warm-up"})
    assert fresh.status_code == 201
    db.session.add(IdempotencyRecord(token_id=world.rw.id, key=KEY["Idempotency-Key"],
                                     request_hash=_hash_of(api, world), status_code=None))
    db.session.flush()
    response = api.post(f"{world.base}/invoices/", {}, headers=KEY)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "idempotency_key_in_use"
    assert response.headers["Retry-After"] == "1"
    assert _count(Invoice) == 1


def _hash_of(api, world) -> str:
    """The request hash the API computes for POST invoices/ with body {} (read back)."""
    api.post(f"{world.base}/invoices/", {}, headers={"Idempotency-Key": "probe"})
    record = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "probe"))
    db.session.delete(db.session.scalar(select(Invoice).order_by(Invoice.id.desc())))
    db.session.delete(record)
    db.session.flush()
    return record.request_hash


def test_a_claim_abandoned_by_a_dead_process_is_taken_over(api, world):
    db.session.add(IdempotencyRecord(
        token_id=world.rw.id, key=KEY["Idempotency-Key"], request_hash=_hash_of(api, world),
        status_code=None, created_at=utcnow() - dt.timedelta(minutes=11)))
    db.session.flush()
    response = api.post(f"{world.base}/invoices/", {}, headers=KEY)
    assert response.status_code == 201 and _count(Invoice) == 1
    assert api.post(f"{world.base}/invoices/", {}, headers=KEY).data == response.data


def test_answers_are_kept_24_hours_then_forgotten(api, world):
    first = api.post(f"{world.base}/invoices/", {}, headers=KEY)
    record = db.session.scalar(select(IdempotencyRecord))
    record.created_at = utcnow() - dt.timedelta(hours=23, minutes=59)
    db.session.flush()
    assert api.post(f"{world.base}/invoices/", {}, headers=KEY).data == first.data
    record = db.session.scalar(select(IdempotencyRecord))
    record.created_at = utcnow() - dt.timedelta(hours=24, minutes=1)
    db.session.flush()
    later = api.post(f"{world.base}/invoices/", {}, headers=KEY)
    assert later.status_code == 201 and later.get_json()["id"] != first.get_json()["id"]
    assert _count(IdempotencyRecord) == 1


def test_refusals_are_replayed_too(api, world, make):
    invoice = make.closed(world.event, world.customer)
    first = api.post(world.invoice_url(invoice, "close/"), headers=KEY)
    assert first.status_code == 409
    second = api.post(world.invoice_url(invoice, "close/"), headers=KEY)
    assert second.status_code == 409 and second.data == first.data
    assert second.headers["Idempotent-Replayed"] == "true"
    invalid = {"Idempotency-Key": "invalid-body"}
    bad = api.post(f"{world.base}/invoices/", {"type": "nope"}, headers=invalid)
    assert bad.status_code == 400
    assert api.post(f"{world.base}/invoices/", {"type": "nope"}, headers=invalid).data == bad.data


def test_a_crash_leaves_no_claim_behind(app, api, world, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(invoices, "create_draft", explode)
    with pytest.raises(RuntimeError):
        api.post(f"{world.base}/invoices/", {}, headers=KEY)
    assert _count(IdempotencyRecord) == 0
    monkeypatch.setitem(app.config, "RENDER_UNEXPECTED_ERRORS", True)
    crashed = api.post(f"{world.base}/invoices/", {}, headers=KEY)
    assert crashed.status_code == 500
    assert crashed.get_json()["error"]["code"] == "server_error"
    assert _count(IdempotencyRecord) == 0
    monkeypatch.undo()
    retried = api.post(f"{world.base}/invoices/", {}, headers=KEY)
    assert retried.status_code == 201 and _count(Invoice) == 1


def test_a_customer_key_rests_only_as_ciphertext(api, world):
    first = api.post(f"{world.base}/customers/", {"reference": "C-9"}, headers=KEY)
    key = first.get_json()["key"]
    record = db.session.scalar(select(IdempotencyRecord))
    assert key.encode() not in record.response_body and b"C-9" not in record.response_body
    replay = api.post(f"{world.base}/customers/", {"reference": "C-9"}, headers=KEY)
    assert replay.data == first.data and replay.get_json()["key"] == key


@pytest.mark.parametrize("value", ["", " ", "x" * 256, "naïve", "tab\there"])
def test_a_malformed_key_is_400(api, world, value):
    response = api.post(f"{world.base}/invoices/", {}, headers={"Idempotency-Key": value})
    assert response.status_code == 400
    assert list(response.get_json()["error"]["fields"]) == ["Idempotency-Key"]
    assert _count(Invoice) == 0


def test_nothing_is_kept_for_unauthenticated_requests(client, world):
    response = client.post(f"{world.base}/invoices/", json={}, headers=KEY)
    assert response.status_code == 401
    assert _count(IdempotencyRecord) == 0


def test_the_purge_command_forgets_only_expired_answers(api, world, runner):
    api.post(f"{world.base}/invoices/", {}, headers={"Idempotency-Key": "old"})
    api.post(f"{world.base}/invoices/", {}, headers={"Idempotency-Key": "new"})
    old = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "old"))
    old.created_at = utcnow() - dt.timedelta(hours=25)
    db.session.flush()
    result = runner.invoke(args=["api", "purge-idempotency-keys"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 idempotency record" in result.output
    assert db.session.scalars(select(IdempotencyRecord.key)).all() == ["new"]


def test_credentials_are_checked_before_the_key(client, world):
    response = client.post(f"{world.base}/invoices/", json={},
                           headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 401
