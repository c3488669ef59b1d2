"""The customer's way in that never dead-ends (SPEC §14): the mail's signed one-invoice link,
key recovery by e-mail, dispute and resolution mails, expired sessions, a wrong key kept."""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

import pytest

from portal import jobs
from portal.customer.views import WAS_SIGNED_IN
from portal.extensions import db
from portal.models import Invoice
from portal.services import customer_links, customers, invoices, mail
from tests.conftest import make_app
from tests.factories import ACTOR

from .helpers import csrf_token, sign_in

DAY = 24 * 3600
LINK = re.compile(r"http://[^\s\"<>]+/my/(?:open|recover)/[A-Za-z0-9_.\-]+")


def _mails(folder: str, to: str | None = None) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(Path(folder).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if to is None or message["To"] == to:
            found.append(message)
    return found


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


# ---------------------------------------------------------------- the signed invoice link


def test_the_mail_link_opens_that_invoice_and_only_that_one(client, world):
    message = mail.compose_invoice_mail(world.a_second, "alice@example.com", b"%PDF-",
                                        "<id@localhost>")
    link = LINK.search(message.body).group(0)
    assert "/my/open/" in link and str(world.a_second.id) not in _path(link).split("/")[-1][:3]

    response = client.get(_path(link))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/my/invoices/{world.a_second.id}"
    page = client.get(f"/my/invoices/{world.a_second.id}")
    assert page.status_code == 200 and world.a_second.number in page.get_data(as_text=True)
    assert client.get(f"/my/invoices/{world.a_second.id}/pdf").status_code in (200, 409)
    # Another of Alice's invoices needs the key: the link opens one invoice.
    other = client.get(f"/my/invoices/{world.a_first.id}")
    assert other.status_code == 303 and other.headers["Location"].startswith("/?next=")
    assert "opens that one invoice" in client.get("/").get_data(as_text=True)
    # With the key the whole area opens, and the list is back.
    sign_in(client, world.a)
    assert client.get(f"/my/invoices/{world.a_first.id}").status_code == 200


def test_the_link_holds_30_days_then_expires(app, world):
    issued = time.time()
    token = customer_links.invoice_token(world.a_second, now=issued)
    found = customer_links.read_invoice_token(token, now=issued + 30 * DAY - 1)
    assert found == (world.a, world.a_second.id)
    assert customer_links.read_invoice_token(token, now=issued + 30 * DAY + 1) is None


def test_an_expired_link_leads_to_the_key_form_and_recovery_not_a_dead_end(client, world):
    token = customer_links.invoice_token(world.a_second, now=time.time() - 31 * DAY)
    response = client.get(f"/my/open/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    start = client.get("/").get_data(as_text=True)
    assert "This link has expired or is no longer valid." in start
    assert 'action="/my/access"' in start and 'action="/my/recover"' in start
    assert client.get(f"/my/invoices/{world.a_second.id}").status_code == 303


def test_rotating_the_key_voids_the_links_handed_out(client, world):
    link = customer_links.invoice_link(world.a_second)
    customers.rotate_key(world.a, actor=ACTOR)
    jobs.commit()
    response = client.get(_path(link))
    assert response.headers["Location"] == "/"
    assert customer_links.read_invoice_token(link.rsplit("/", 1)[1]) is None
    # A link made after the rotation works.
    fresh = client.get(_path(customer_links.invoice_link(world.a_second)))
    assert fresh.headers["Location"] == f"/my/invoices/{world.a_second.id}"


def test_a_tampered_link_is_refused(client, world):
    token = customer_links.invoice_token(world.a_second)
    payload, _, signature = token.rpartition(".")
    # Another invoice id under the old signature, and a flipped signature character.
    forged = customer_links._serializer("portal.customer-invoice-link").dumps(
        {"i": world.b_invoice.id, "c": world.b.id, "k": world.b.key_version,
         "t": int(time.time())})
    other_secret = forged.rpartition(".")[0] + "." + signature
    flipped = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (other_secret, flipped, token + "x", "garbage"):
        assert customer_links.read_invoice_token(bad) is None, bad
        response = client.get(f"/my/open/{bad}")
        assert response.status_code == 303 and response.headers["Location"] == "/", bad
    # A recovery token is no invoice link (another salt), and the reverse.
    recovery = customer_links.recovery_token(world.a)
    assert customer_links.read_invoice_token(recovery) is None
    assert customer_links.read_recovery_token(token) is None
    assert client.get(f"/my/invoices/{world.b_invoice.id}").status_code == 303


def test_a_customer_signed_in_with_the_key_keeps_the_whole_area(client, world):
    sign_in(client, world.a)
    link = customer_links.invoice_link(world.a_second)
    assert client.get(_path(link)).headers["Location"] == f"/my/invoices/{world.a_second.id}"
    assert client.get(f"/my/invoices/{world.a_first.id}").status_code == 200


# ---------------------------------------------------------------- key recovery


def _ask(client, address: str, **environ):
    return client.post("/my/recover", data={"email": address, "csrf_token": csrf_token(client)},
                       environ_base=environ)


def test_recovery_answers_the_same_and_mails_only_a_known_address(app, client, make):
    folder = app.config["MAIL_FOLDER"]
    organizer = make.organizer(name="Big Events")
    customer = make.customer(organizer, name="Ayşe", email="ayse@example.com", locale="tr")
    jobs.commit()
    before = len(_mails(folder, "ayse@example.com"))

    known = _ask(client, "Ayse@Example.com")
    known_page = client.get("/").get_data(as_text=True)
    unknown = _ask(client, "nobody@example.com")
    unknown_page = client.get("/").get_data(as_text=True)

    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/"
    strip = re.compile(r'value="[^"]*"')  # CSRF tokens differ per page, nothing else may
    assert strip.sub("", known_page) == strip.sub("", unknown_page)
    assert "If a customer with this e-mail address exists" in known_page

    written = _mails(folder, "ayse@example.com")
    assert len(written) == before + 1
    assert not _mails(folder, "nobody@example.com")
    message = written[-1]
    # Turkish; a long encoded subject is folded, hence the strip
    assert message["Subject"].strip() == "Big Events faturalarınıza erişim bağlantınız"
    body = _text(message)
    assert "60 dakika" in body
    link = LINK.search(body).group(0)
    assert "/my/recover/" in link and customer.plain_key not in body

    fresh = app.test_client()
    response = fresh.get(_path(link))
    assert response.status_code == 303 and response.headers["Location"] == "/my/invoices"
    assert fresh.get("/my/invoices").status_code == 200


def test_the_recovery_link_expires_and_dies_with_sign_out_everywhere(app, make):
    customer = make.customer(make.organizer(), email="c@example.com")
    issued = time.time()
    token = customer_links.recovery_token(customer, now=issued)
    assert customer_links.read_recovery_token(token, now=issued + 3599) == customer
    assert customer_links.read_recovery_token(token, now=issued + 3601) is None
    customers.end_sessions(customer)
    assert customer_links.read_recovery_token(token, now=issued + 10) is None


def test_a_bad_address_is_a_field_error(client):
    response = _ask(client, "")
    assert response.status_code == 400
    assert "Enter your e-mail address." in response.get_data(as_text=True)


@pytest.fixture
def limited(app, database_url, tmp_path):
    limited = make_app(database_url, RATELIMIT_ENABLED=True, MAIL_FOLDER=str(tmp_path))
    with limited.app_context():
        yield limited


def test_recovery_is_rate_limited_per_address_and_per_e_mail(limited, make):
    make.customer(make.organizer(), email="known@example.com")
    jobs.commit()
    client = limited.test_client()
    # 5 per hour from one client address: the 6th is refused, known address or not.
    for attempt in range(5):
        address = "known@example.com" if attempt % 2 else f"x{attempt}@example.com"
        assert _ask(client, address, REMOTE_ADDR="203.0.113.9").status_code == 303, attempt
    refused = _ask(client, "known@example.com", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    # The known address got 2 mails, no more (the refused ask sent nothing).
    assert len(_mails(limited.config["MAIL_FOLDER"], "known@example.com")) == 2
    # Per e-mail address too: many client addresses cannot flood one mailbox.
    for attempt in range(3):
        _ask(client, "known@example.com", REMOTE_ADDR=f"198.51.100.{attempt + 1}")
    assert _ask(client, "known@example.com", REMOTE_ADDR="198.51.100.99").status_code == 429
    assert len(_mails(limited.config["MAIL_FOLDER"], "known@example.com")) == 5


# ---------------------------------------------------------------- dispute and resolution


def test_a_dispute_is_mailed_to_the_organizer_and_the_resolution_to_the_customer(
        app, client, make):
    folder = app.config["MAIL_FOLDER"]
    organizer = make.organizer(name="Big Events")
    owner = make.member(organizer, role="owner", email="owner.d@example.com")
    owner.locale = "de"
    make.member(organizer, role="viewer", email="viewer.d@example.com")
    event = make.event(organizer)
    customer = make.customer(organizer, name="Ayşe", email="ayse.d@example.com", locale="tr")
    invoice = make.closed(event, customer)
    jobs.commit()

    sign_in(client, customer)
    token = csrf_token(client, f"/my/invoices/{invoice.id}")
    response = client.post(f"/my/invoices/{invoice.id}/dispute",
                           data={"reason": "Zwei Tickets statt einem", "csrf_token": token})
    assert response.status_code == 303

    to_owner = _mails(folder, "owner.d@example.com")
    assert len(to_owner) == 1
    assert to_owner[0]["Subject"].strip() == f"Beanstandet: Rechnung {invoice.number}"  # German
    body = _text(to_owner[0])
    assert "Ayşe beanstandet" in body and "Zwei Tickets statt einem" in body
    assert not _mails(folder, "viewer.d@example.com")  # viewers cannot resolve it

    invoices.resolve_invoice(db.session.get(Invoice, invoice.id), actor=ACTOR)
    jobs.commit()
    to_customer = _mails(folder, "ayse.d@example.com")
    assert len(to_customer) == 1
    assert to_customer[0]["Subject"].strip() == f"Fatura {invoice.number} hakkındaki itirazınız çözüldü"
    link = LINK.search(_text(to_customer[0])).group(0)
    assert client.get(_path(link)).headers["Location"] == f"/my/invoices/{invoice.id}"


# ---------------------------------------------------------------- sessions and the key form


def test_an_expired_session_is_explained_and_returns_to_the_page(client, world):
    sign_in(client, world.a)
    assert client.get_cookie(WAS_SIGNED_IN) is not None
    with client.session_transaction() as session:
        session.clear()  # the store let the session expire
    response = client.get(f"/my/invoices/{world.a_second.id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/?next=/my/invoices/{world.a_second.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session has expired. Sign in again" in page
    assert f'value="/my/invoices/{world.a_second.id}"' in page
    response = client.post("/my/access", data={
        "key": world.a.plain_key, "next": f"/my/invoices/{world.a_second.id}",
        "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == f"/my/invoices/{world.a_second.id}"


def test_next_never_leaves_the_customer_area(client, world):
    for bad in ("https://evil.example/", "//evil.example/my/", "/org/x", "/my/\\evil"):
        response = client.post("/my/access", data={
            "key": world.a.plain_key, "next": bad, "csrf_token": csrf_token(client)})
        assert response.headers["Location"] == "/my/invoices", bad


def test_a_first_visit_is_not_told_about_an_expired_session(client, world):
    client.get("/my/invoices")
    page = client.get("/").get_data(as_text=True)
    assert "expired" not in page and "Enter your customer key to see your invoices." in page
