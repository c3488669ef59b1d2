"""Same-invoice races, with real threads, real requests and real commits, on SQLite and
PostgreSQL alike (issue 10).

Each trial fires a handful of requests at one invoice at the same instant (a barrier releases
them together) and then checks what a system of record promises whatever the interleaving:
exactly one of N identical steps wins and the others are refused (409, or 404 once the draft
is gone) and change nothing; numbers stay gapless and unique; a closed document is never
edited or deleted; one invoice never gets two credit notes; the stored PDF shows the number
and the total in the record. Each race runs TRIALS times; the lifecycle steps one by one a few
times each.
"""

from __future__ import annotations

import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import jobs
from portal.extensions import db
from portal.formatting import format_money
from portal.models import AuditEntry, Event, Invoice, InvoiceDocument, NumberSequence
from portal.models.types import utcnow
from portal.services import invoices, ledger
from tests.factories import ACTOR, Factory, line

pytestmark = pytest.mark.concurrency

TRIALS = 10
WIDTH = 4  # simultaneous requests per trial


class Seed:
    def __init__(self, app, *, drafts: int = 0, closed: int = 0, price: str = "20.00"):
        with app.app_context():
            make = Factory()
            organizer = make.organizer()
            self.event = make.event(organizer)
            customer = make.customer(organizer)
            token = make.token(organizer)
            lines = [line("Ticket", "1", price)]
            self.drafts = [make.invoice(self.event, customer, lines=lines).id
                           for _ in range(drafts)]
            self.closed = []
            for _ in range(closed):
                invoice = make.invoice(self.event, customer, lines=lines)
                invoices.close_invoice(invoice, actor=ACTOR)
                self.closed.append(invoice.id)
            self.event_id, self.prefix = self.event.id, self.event.invoice_prefix
            self.base = f"/api/v1/organizers/{organizer.slug}/events/{self.event.slug}"
            self.auth = {"Authorization": f"Token {token.plain}"}
            self.org_url = f"/org/{organizer.slug}/events/{self.event.slug}"
            self.owner_id = make.member(organizer, "owner").get_id()
            jobs.commit()


def fire(app, calls: list[tuple[str, str, dict]]) -> list[int]:
    """Send every (method, url, kwargs) at once, each from its own client; their statuses."""
    start = threading.Barrier(len(calls))

    def send(call):
        method, url, kwargs = call
        client = kwargs.pop("client", None) or app.test_client()
        start.wait()
        return client.open(url, method=method, **kwargs).status_code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def api(seed: Seed, method: str, invoice_id: int, step: str = "", **kwargs):
    path = f"{seed.base}/invoices/{invoice_id}/" + (f"{step}/" if step else "")
    return (method, path, {"headers": seed.auth, **kwargs})


def counter(seed: Seed) -> int:
    return db.session.scalar(select(NumberSequence.last_value).where(
        NumberSequence.event_id == seed.event_id, NumberSequence.name == "invoice"))


def audit_actions(invoice_id: int) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.invoice_id == invoice_id).order_by(AuditEntry.id)))


def pdf_text(invoice: Invoice) -> str:
    document = db.session.scalar(select(InvoiceDocument).where(
        InvoiceDocument.invoice_id == invoice.id))
    assert document is not None, f"no stored PDF for {invoice.number}"
    reader = PdfReader(io.BytesIO(document.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def credit_notes_of(invoice_id: int) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(
        Invoice.refers_id == invoice_id, Invoice.type == "credit_note")))


def numbers_are_gapless(seed: Seed, expected: int) -> None:
    numbers = sorted(db.session.scalars(select(Invoice.number).where(
        Invoice.event_id == seed.event_id, Invoice.number.is_not(None))))
    assert numbers == [f"{seed.prefix}{n:05d}" for n in range(1, expected + 1)]
    assert counter(seed) == expected
    # Whatever raced, the ledger's chain links every document to its predecessor.
    report = ledger.verify_event(db.session.get(Event, seed.event_id))
    assert report["ok"], report["findings"]


# ---------------------------------------------------------------- the four reported races


def test_simultaneous_closes_take_one_number_and_the_pdf_shows_it(committed_app):
    seed = Seed(committed_app, drafts=TRIALS)
    for invoice_id in seed.drafts:
        statuses = fire(committed_app, [api(seed, "POST", invoice_id, "close")] * WIDTH)
        assert sorted(statuses) == [200] + [409] * (WIDTH - 1), statuses
    with committed_app.app_context():
        numbers_are_gapless(seed, TRIALS)
        for invoice_id in seed.drafts:
            assert audit_actions(invoice_id) == ["create", "close"]
            invoice = db.session.get(Invoice, invoice_id)
            text = pdf_text(invoice)
            assert invoice.number in text
            # Only the number in the record, never a burned one.
            assert set(re.findall(re.escape(seed.prefix) + r"\d{5}", text)) == {invoice.number}


def test_simultaneous_closes_of_different_drafts_chain_every_document(committed_app):
    """Each close links its document to the one numbered before it, inside the transaction
    that took the number: closes of different drafts at once still make one unbroken chain."""
    seed = Seed(committed_app, drafts=2 * WIDTH)
    statuses = fire(committed_app, [api(seed, "POST", i, "close") for i in seed.drafts])
    assert statuses == [200] * len(seed.drafts)
    with committed_app.app_context():
        numbers_are_gapless(seed, len(seed.drafts))
        chain = db.session.scalars(select(Invoice).where(Invoice.event_id == seed.event_id)
                                   .order_by(Invoice.sequence_value)).all()
        previous = None
        for invoice in chain:
            assert invoice.chain_hash == ledger.link_hash(previous, invoice)
            previous = invoice.chain_hash


def test_simultaneous_cancels_make_one_credit_note(committed_app):
    seed = Seed(committed_app, closed=TRIALS)
    for invoice_id in seed.closed:
        statuses = fire(committed_app, [api(seed, "POST", invoice_id, "cancel")] * WIDTH)
        assert sorted(statuses) == [200] + [409] * (WIDTH - 1), statuses
    with committed_app.app_context():
        numbers_are_gapless(seed, 2 * TRIALS)
        for invoice_id in seed.closed:
            invoice = db.session.get(Invoice, invoice_id)
            assert invoice.status == "cancelled"
            credits = credit_notes_of(invoice_id)
            assert len(credits) == 1
            assert invoice.gross_total == Decimal("23.80")  # 20.00 + 19 %
            assert credits[0].gross_total == Decimal("-23.80")
            assert audit_actions(invoice_id).count("cancel") == 1


def test_close_racing_edits_never_edits_a_closed_invoice(committed_app):
    seed = Seed(committed_app, drafts=TRIALS)
    big = {"lines": [line("Ticket", "100", "19.99")]}
    edits_won = 0
    for invoice_id in seed.drafts:
        statuses = fire(committed_app, [api(seed, "POST", invoice_id, "close"),
                                        api(seed, "PATCH", invoice_id, json=big),
                                        api(seed, "POST", invoice_id, "close"),
                                        api(seed, "PATCH", invoice_id, json=big)])
        closes, edits = statuses[0::2], statuses[1::2]
        assert sorted(closes) == [200, 409], statuses
        assert set(edits) <= {200, 409}, statuses
        edits_won += edits.count(200)
    with committed_app.app_context():
        numbers_are_gapless(seed, TRIALS)
        for invoice_id in seed.drafts:
            actions = audit_actions(invoice_id)
            # Every accepted edit came before the close; nothing after it.
            assert actions[-1] == "close", actions
            invoice = db.session.get(Invoice, invoice_id)
            expected = Decimal("2378.81") if "edit" in actions else Decimal("23.80")
            assert invoice.gross_total == expected  # 100 × 19.99 = 1999.00 + 19 % = 2378.81
            assert sum(li.gross_amount for li in invoice.lines) == invoice.gross_total
            shown = format_money(invoice.gross_total, invoice.currency, invoice.locale)
            assert shown in pdf_text(invoice)
    assert edits_won <= 2 * TRIALS


def test_close_racing_delete_never_deletes_a_numbered_invoice(committed_app):
    seed = Seed(committed_app, drafts=TRIALS)
    survivors = 0
    for invoice_id in seed.drafts:
        statuses = fire(committed_app, [api(seed, "POST", invoice_id, "close"),
                                        api(seed, "DELETE", invoice_id),
                                        api(seed, "POST", invoice_id, "close"),
                                        api(seed, "DELETE", invoice_id)])
        closes, deletes = statuses[0::2], statuses[1::2]
        with committed_app.app_context():
            invoice = db.session.get(Invoice, invoice_id)
            if invoice is None:
                # The delete won: no close got through, and nothing was numbered.
                assert sorted(deletes) in ([204, 404], [204, 409]), statuses
                assert set(closes) <= {404}, statuses
                assert audit_actions(invoice_id) == ["create", "delete"]
            else:
                survivors += 1
                assert invoice.status == "open" and invoice.number
                assert sorted(closes) == [200, 409], statuses
                assert deletes == [409, 409], statuses
                assert audit_actions(invoice_id) == ["create", "close"]
    with committed_app.app_context():
        numbers_are_gapless(seed, survivors)


def test_pay_racing_cancel_never_leaves_a_paid_invoice_with_a_credit_note(committed_app):
    seed = Seed(committed_app, closed=TRIALS)
    for invoice_id in seed.closed:
        statuses = fire(committed_app, [api(seed, "POST", invoice_id, "pay"),
                                        api(seed, "POST", invoice_id, "cancel"),
                                        api(seed, "POST", invoice_id, "pay"),
                                        api(seed, "POST", invoice_id, "cancel")])
        pays, cancels = statuses[0::2], statuses[1::2]
        assert sorted(cancels) == [200, 409], statuses
        assert sorted(pays) in ([409, 409], [200, 409]), statuses
        with committed_app.app_context():
            invoice = db.session.get(Invoice, invoice_id)
            # Serialized, either order ends cancelled: paid → cancelled, or cancelled → no pay.
            assert invoice.status == "cancelled"
            assert len(credit_notes_of(invoice_id)) == 1
            actions = audit_actions(invoice_id)
            assert actions.count("cancel") == 1 and actions.count("pay") == pays.count(200)
            if "pay" in actions:
                assert actions.index("pay") < actions.index("cancel")
    with committed_app.app_context():
        numbers_are_gapless(seed, 2 * TRIALS)


# ---------------------------------------------------------------- every step, one at a time

STEP_TRIALS = 3


def _to_status(app, seed: Seed, invoice_id: int, *steps: str) -> None:
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        for step in steps:
            {"dispute": lambda i: invoices.dispute_invoice(i, actor=ACTOR, reason="Seat"),
             "pay": lambda i: invoices.pay_invoice(i, actor=ACTOR)}[step](invoice)
        jobs.commit()


@pytest.mark.parametrize(("step", "before", "after"), [
    ("pay", (), "paid"),
    ("dispute", (), "disputed"),
    ("resolve", ("dispute",), "sent"),
    ("archive", ("pay",), "archived"),
])
def test_each_step_wins_once(committed_app, step, before, after):
    seed = Seed(committed_app, closed=STEP_TRIALS)
    body = {"json": {"reason": "Wrong seat"}} if step == "dispute" else {}
    for invoice_id in seed.closed:
        _to_status(committed_app, seed, invoice_id, *before)
        statuses = fire(committed_app,
                        [api(seed, "POST", invoice_id, step, **dict(body))] * WIDTH)
        assert sorted(statuses) == [200] + [409] * (WIDTH - 1), statuses
        with committed_app.app_context():
            assert db.session.get(Invoice, invoice_id).status == after
            assert audit_actions(invoice_id).count(step) == 1


def test_simultaneous_deletes_delete_once(committed_app):
    seed = Seed(committed_app, drafts=STEP_TRIALS)
    for invoice_id in seed.drafts:
        statuses = fire(committed_app, [api(seed, "DELETE", invoice_id)] * WIDTH)
        # The losers find the draft gone (404) or, having read it first, refused (409).
        assert statuses.count(204) == 1, statuses
        assert set(statuses) <= {204, 404, 409}, statuses
        with committed_app.app_context():
            assert db.session.get(Invoice, invoice_id) is None
            assert audit_actions(invoice_id) == ["create", "delete"]


# ---------------------------------------------------------------- the back office's double submit


CSRF_FIELD = 'name="csrf_token" value="'


def _signed_in_clients(app, seed: Seed, count: int):
    """`count` clients sharing one signed-in session and its CSRF token (a double submit)."""
    first = app.test_client()
    with first.session_transaction() as session:
        session["_user_id"] = seed.owner_id
        session["_fresh"] = True
    html = first.get(f"{seed.org_url}/invoices/new").get_data(as_text=True)
    token = html.split(CSRF_FIELD, 1)[1].split('"', 1)[0]
    cookie = first.get_cookie("session")
    clients = [first]
    for _ in range(count - 1):
        other = app.test_client()
        other.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
        clients.append(other)
    return clients, token


@pytest.mark.parametrize("action", ["close", "cancel"])
def test_back_office_double_submit_does_the_step_once(committed_app, action):
    seed = Seed(committed_app, drafts=TRIALS if action == "close" else 0,
                closed=TRIALS if action == "cancel" else 0)
    ids = seed.drafts or seed.closed
    for invoice_id in ids:
        clients, token = _signed_in_clients(committed_app, seed, WIDTH)
        url = f"{seed.org_url}/invoices/{invoice_id}/{action}"
        statuses = fire(committed_app, [("POST", url, {"client": client,
                                                       "data": {"csrf_token": token}})
                                        for client in clients])
        assert statuses == [303] * WIDTH
        with committed_app.app_context():
            assert audit_actions(invoice_id).count(action) == 1
            if action == "cancel":
                assert len(credit_notes_of(invoice_id)) == 1
    with committed_app.app_context():
        numbers_are_gapless(seed, 2 * TRIALS if action == "cancel" else TRIALS)


def _settle(app, start, sending_id: int) -> str:
    with app.app_context():
        start.wait()
        jobs.run_now("portal.deliver_sending", sending_id)
        db.session.remove()
    return "settled"


def _send_plain(app, seed: Seed, start, invoice_id: int) -> tuple[int, str | None]:
    client = app.test_client()
    start.wait()
    response = client.post(f"{seed.base}/invoices/{invoice_id}/send/", headers=seed.auth,
                           json={"to": "buyer@example.com"})
    return response.status_code, (response.get_json() or {}).get("error", {}).get("code")


def test_a_send_racing_an_unknown_delivery_outcome_never_skips_the_confirmation(
        committed_app, monkeypatch):
    """The delivery job settles a cut-off sending as `unknown` while sends without `confirm`
    arrive. Both take the invoice's lock, so every send either came before the outcome was
    known (200) or saw it and was refused (409 delivery_unknown): none after it got through."""
    from portal.models import Sending
    from tests.services.test_mail import free_port

    # SMTP that cannot be asked what it got (an interrupted sending settles as unknown), on
    # a port where nothing listens (the racing sends' own deliveries fail, quickly).
    monkeypatch.setitem(committed_app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(committed_app.config, "MAIL_PORT", free_port())
    monkeypatch.setitem(committed_app.config, "JOBS_RAISE", False)
    seed = Seed(committed_app, closed=STEP_TRIALS)
    for invoice_id in seed.closed:
        with committed_app.app_context():
            invoice = db.session.get(Invoice, invoice_id)
            sending = invoices.send_invoice(invoice, actor=ACTOR, to="buyer@example.com")
            jobs.discard_pending()
            sending.claimed_at = utcnow()  # claimed by a worker that died mid-delivery
            jobs.commit()
            sending_id = sending.id
        start = threading.Barrier(WIDTH)
        with ThreadPoolExecutor(max_workers=WIDTH) as pool:
            futures = [pool.submit(_settle, committed_app, start, sending_id)] + [
                pool.submit(_send_plain, committed_app, seed, start, invoice_id)
                for _ in range(WIDTH - 1)]
            results = [future.result(timeout=60) for future in futures]
        answers = results[1:]
        assert all(a in ((200, None), (409, "delivery_unknown")) for a in answers), answers
        with committed_app.app_context():
            assert db.session.get(Sending, sending_id).outcome == "unknown"
            actions = audit_actions(invoice_id)
            known_at = actions.index("delivery_unknown")
            # Sends that got through were recorded before the outcome was known; none after.
            assert actions[known_at + 1:].count("send") == 0
            assert actions.count("send") == 1 + sum(1 for a in answers if a[0] == 200)
