"""Invoice mail: the embedded mail folder, a real SMTP server (aiosmtpd), failures, and the
claim that keeps a redelivered job from sending twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from portal import jobs
from portal.errors import ConflictError
from portal.extensions import db
from portal.models import Invoice, Sending
from portal.models.types import utcnow
from portal.services import documents, mail
from portal.services import invoices as svc
from portal.services.mail_transports import FolderTransport

from ..factories import ACTOR, line

GERMAN_BUYER = {"first_name": "Jürgen", "last_name": "Müller", "street1": "Hauptstraße 1",
                "city": "München", "postal_code": "80331", "country": "DE",
                "email": "juergen@example.com"}
TURKISH_BUYER = {"first_name": "Ayşe", "last_name": "Yılmaz", "street1": "Çiçek Sokağı 5",
                 "city": "İstanbul", "postal_code": "34000", "country": "TR",
                 "email": "ayse@example.com"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 that records what it receives.

    `refuse` makes it refuse every recipient with that reply; `refuse_data` refuses the
    message after it arrived whole (a definite answer); `hold` (a threading.Event that is
    set) makes it keep the client waiting for the reply to DATA after the message arrived,
    as a server would while a worker is killed mid-send; `drop` makes it close the
    connection after the message arrived, before answering.
    """

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: str | None = None
        self.refuse_data: str | None = None
        self.drop = False
        self.hold = threading.Event()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        if self.refuse_data:
            return self.refuse_data
        if self.drop:
            server.transport.close()  # the message is here; the client never hears so
            return "250 never heard"
        deadline = time.monotonic() + 60
        while self.hold.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"

    def parsed(self, index: int = -1) -> email.message.EmailMessage:
        return email.message_from_bytes(self.messages[index][1], policy=email.policy.default)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.hold.clear()
        self.controller.stop()


@pytest.fixture
def smtp(app, monkeypatch):
    with SmtpServer() as server:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
        yield server


def closed_invoice(make, locale: str, buyer: dict, **data) -> Invoice:
    event = make.event(currency="EUR", locale=locale)
    customer = make.customer(event.organizer, billing_address=buyer, email=buyer["email"],
                             locale=locale)
    invoice = make.invoice(event, customer, lines=[line("Ticket", "1", "100.00")], **data)
    svc.close_invoice(invoice, actor=ACTOR)
    jobs.commit()  # the in-process job stores the document of record
    return invoice


def send_confirmed(invoice: Invoice) -> Sending:
    sending = svc.send_invoice(invoice, actor=ACTOR, confirm=True)
    jobs.commit()
    return db.session.get(Sending, sending.id)


def svc_history(invoice: Invoice):
    from portal.services import invoice_queries
    return invoice_queries.invoice_history(invoice)


def send(invoice: Invoice, to: str | None = None) -> Sending:
    sending = svc.send_invoice(invoice, actor=ACTOR, to=to)
    jobs.commit()  # ... and delivers the mail
    return db.session.get(Sending, sending.id)


def parts(message) -> dict[str, object]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "multipart":
            continue
        if part.get_filename():
            found["attachment"] = part
        else:
            found[part.get_content_type()] = part.get_content()
    return found


def test_the_embedded_default_writes_the_mail_to_the_folder_in_the_invoice_locale(app, make):
    invoice = closed_invoice(make, "de", GERMAN_BUYER,
                             texts={"payment": "IBAN DE02 & <Verwendungszweck>"})
    sending = send(invoice)

    assert sending.outcome == "sent" and sending.error is None
    assert sending.to == "juergen@example.com" and sending.delivered_at is not None
    assert invoice.status == "sent"
    path = FolderTransport(app.config["MAIL_FOLDER"]).path_for(sending.message_id)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] == sending.message_id
    assert message["To"] == "juergen@example.com"
    assert message["Subject"] == f"Rechnung {invoice.number} von Org GmbH"
    found = parts(message)
    text, html = found["text/plain"], found["text/html"]
    assert "Guten Tag Jürgen Müller," in text
    assert f"Im Anhang finden Sie: Rechnung {invoice.number} vom " in text
    # 100.00 net + 19 % = 119.00 gross, in German.
    assert "Gesamtbetrag: 119,00\xa0€" in text
    assert "Mit freundlichen Grüßen" in text
    assert "<p>Guten Tag Jürgen Müller,</p>" in html
    # Free text is as written in the plain part and escaped in the HTML part.
    assert "IBAN DE02 & <Verwendungszweck>" in text
    assert "IBAN DE02 &amp; &lt;Verwendungszweck&gt;" in html
    attachment = found["attachment"]
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == documents.stored_document(invoice).content

    # A redelivered job finds the sending delivered and does nothing.
    written = path.stat().st_mtime_ns
    jobs.run_now("portal.deliver_sending", sending.id)
    assert path.stat().st_mtime_ns == written
    assert db.session.get(Sending, sending.id).message_id == sending.message_id


def test_an_interrupted_folder_delivery_is_settled_by_what_is_in_the_folder(app, make):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    folder = FolderTransport(app.config["MAIL_FOLDER"])

    # Claimed (committed), then the worker died before writing: it is written now, once.
    lost = svc.send_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    lost.message_id = "<20260101T000000.lost.0001@localhost>"
    lost.claimed_at = utcnow()
    jobs.commit()
    jobs.run_now("portal.deliver_sending", lost.id)
    lost = db.session.get(Sending, lost.id)
    assert lost.outcome == "sent" and lost.message_id == "<20260101T000000.lost.0001@localhost>"
    assert folder.path_for(lost.message_id).read_bytes().startswith(b"Content-Type")

    # Claimed, written, and the worker died before recording it: recorded, not rewritten.
    done = svc.send_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    done.message_id = "<20260101T000000.done.0002@localhost>"
    done.claimed_at = utcnow()
    jobs.commit()
    folder.path_for(done.message_id).write_bytes(b"as the first attempt left it")
    jobs.run_now("portal.deliver_sending", done.id)
    assert db.session.get(Sending, done.id).outcome == "sent"
    assert folder.path_for(done.message_id).read_bytes() == b"as the first attempt left it"


def test_a_real_smtp_server_receives_the_mail_with_the_stored_pdf(app, make, smtp):
    invoice = closed_invoice(make, "tr", TURKISH_BUYER)
    sending = send(invoice, to="muhasebe@example.com")

    assert sending.outcome == "sent" and invoice.status == "sent"
    assert len(smtp.messages) == 1
    recipients, _ = smtp.messages[0]
    assert recipients == ["muhasebe@example.com"]
    message = smtp.parsed()
    assert message["Message-ID"] == sending.message_id
    assert message["Subject"] == f"Org GmbH: Fatura {invoice.number}"
    found = parts(message)
    assert "Sayın Ayşe Yılmaz," in found["text/plain"]
    assert "Saygılarımızla" in found["text/plain"]
    assert found["attachment"].get_content() == documents.stored_document(invoice).content


def test_a_refusing_server_leaves_the_invoice_unsent_and_a_new_send_can_succeed(
        app, make, smtp):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    smtp.refuse = "550 5.1.1 Mailbox unavailable"
    failed = send(invoice)

    assert failed.outcome == "failed"
    assert "550" in failed.error and "Mailbox unavailable" in failed.error
    assert failed.delivered_at is None
    assert db.session.get(Invoice, invoice.id).status == "open"
    assert smtp.messages == []

    # Running the failed sending's job again sends nothing: a retry is a new send.
    smtp.refuse = None
    jobs.run_now("portal.deliver_sending", failed.id)
    assert smtp.messages == [] and db.session.get(Sending, failed.id).outcome == "failed"

    retried = send(invoice)
    assert retried.outcome == "sent" and len(smtp.messages) == 1
    assert db.session.get(Invoice, invoice.id).status == "sent"
    assert db.session.get(Sending, failed.id).outcome == "failed"


def test_an_unreachable_server_is_recorded_as_a_failure(app, make, monkeypatch):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    sending = send(invoice)
    assert sending.outcome == "failed"
    assert sending.error.startswith("The mail server could not be reached")
    assert db.session.get(Invoice, invoice.id).status == "open"


def test_an_smtp_attempt_cut_off_before_the_reply_is_never_repeated(app, make, smtp):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    sending = svc.send_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    sending.message_id = "<20260101T000000.cut.0003@localhost>"
    sending.claimed_at = utcnow()  # claimed by a dead worker
    jobs.commit()

    jobs.run_now("portal.deliver_sending", sending.id)
    sending = db.session.get(Sending, sending.id)
    assert smtp.messages == []
    # Not "failed": the dead worker may have delivered it. The invoice stays sent.
    assert sending.outcome == "unknown" and sending.error == mail.INTERRUPTED
    assert sending.message_id == "<20260101T000000.cut.0003@localhost>"
    assert db.session.get(Invoice, invoice.id).status == "sent"


def test_a_server_that_drops_the_connection_after_data_leaves_the_outcome_unknown(
        app, make, smtp):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    smtp.drop = True
    sending = send(invoice)

    assert len(smtp.messages) == 1  # the server has it; we never heard its answer
    assert sending.outcome == "unknown"
    assert sending.message_id == smtp.parsed()["Message-ID"]
    assert sending.error.startswith(mail.INTERRUPTED)
    assert sending.delivered_at is None
    assert db.session.get(Invoice, invoice.id).status == "sent"  # not moved back to open
    entry = [e for e in svc_history(invoice) if e.action == "delivery_unknown"]
    assert entry and entry[0].data["message_id"] == sending.message_id

    # A new send asks for confirmation first; confirmed, it goes out (a new sending).
    smtp.drop = False
    with pytest.raises(ConflictError) as refused:
        svc.send_invoice(invoice, actor=ACTOR)
    assert refused.value.code == "delivery_unknown"
    assert sending.message_id in refused.value.message
    db.session.rollback()
    again = send_confirmed(invoice)
    assert again.outcome == "sent" and again.id != sending.id
    assert len(smtp.messages) == 2
    # Once a later sending is settled, sending again needs no confirmation.
    assert send(invoice).outcome == "sent"


def test_a_timeout_waiting_for_the_final_reply_leaves_the_outcome_unknown(
        app, make, smtp, monkeypatch):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 1)
    smtp.hold.set()  # the message arrives, the answer does not within MAIL_TIMEOUT
    sending = send(invoice)
    smtp.hold.clear()
    assert len(smtp.messages) == 1
    assert sending.outcome == "unknown" and "timed out" in sending.error


def test_a_refusal_after_data_is_an_answer_and_a_failure(app, make, smtp):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    smtp.refuse_data = "554 5.7.1 Message rejected"
    sending = send(invoice)
    assert len(smtp.messages) == 1
    assert sending.outcome == "failed" and "554" in sending.error
    assert db.session.get(Invoice, invoice.id).status == "open"


def test_only_one_job_can_claim_a_sending(app, make):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    sending = svc.send_invoice(invoice, actor=ACTOR)
    jobs.discard_pending()
    fixed = sending.message_id  # chosen when the sending was recorded
    assert fixed.startswith("<") and fixed.endswith(">") and "@" in fixed
    assert mail._claim(sending, "<first@localhost>") is True
    assert mail._claim(sending, "<second@localhost>") is False
    db.session.expire_all()
    claimed = db.session.get(Sending, sending.id)
    assert claimed.claimed_at is not None and claimed.message_id == fixed


@pytest.mark.parametrize(("locale", "subject", "greeting"), [
    ("en", "Invoice {number} from Org GmbH", "Hello Ayşe Yılmaz,"),
    ("de", "Rechnung {number} von Org GmbH", "Guten Tag Ayşe Yılmaz,"),
    ("it", "Fattura {number} da Org GmbH", "Gentile Ayşe Yılmaz,"),
    ("tr", "Org GmbH: Fatura {number}", "Sayın Ayşe Yılmaz,"),
])
def test_subject_and_greeting_follow_the_invoice_locale(app, make, locale, subject, greeting):
    event = make.event(currency="EUR")
    invoice = make.closed(event, make.customer(event.organizer, billing_address=TURKISH_BUYER),
                          locale=locale)
    jobs.discard_pending()
    message = mail.compose_invoice_mail(invoice, "x@example.com", b"%PDF-", "<id@localhost>")
    assert message.subject == subject.format(number=invoice.number)
    assert message.body.startswith(greeting)


def test_confirmation_is_asked_until_a_mail_of_the_invoice_is_delivered(app, make):
    invoice = closed_invoice(make, "en", TURKISH_BUYER)
    unknown = Sending(invoice=invoice, to="a@example.com", outcome="unknown",
                      message_id="<maybe@localhost>")
    failed_after = Sending(invoice=invoice, to="a@example.com", outcome="failed")
    db.session.add_all([unknown, failed_after])
    jobs.commit()
    # A later failure does not settle the question: the buyer may still have the first mail.
    assert svc.unconfirmed_unknown_sending(invoice) is unknown
    with pytest.raises(ConflictError):
        svc.send_invoice(invoice, actor=ACTOR)
    db.session.rollback()
    confirmed = send_confirmed(invoice)  # the folder transport delivers it
    assert confirmed.outcome == "sent"
    assert svc.unconfirmed_unknown_sending(db.session.get(Invoice, invoice.id)) is None
    assert send(db.session.get(Invoice, invoice.id)).outcome == "sent"
