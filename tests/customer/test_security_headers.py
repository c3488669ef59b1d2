"""Security headers on every page of the customer area, and keys kept out of server logs."""

from __future__ import annotations

import logging
import re

import pytest

from portal.customer.redaction import RedactCustomerKeys, install_log_redaction, redact

from .helpers import captured, csrf_token, sign_in


def pages(world) -> list[str]:
    return ["/", "/my/invoices", "/my/invoices?type=invoice",
            f"/my/invoices/{world.a_second.id}", f"/my/invoices/{world.b_invoice.id}"]


def assert_strict(response, url: str) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'", url
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert directives["frame-ancestors"] == "'none'", url
    assert directives["object-src"] == "'none'", url
    assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert response.headers["X-Frame-Options"] == "DENY", url


def test_every_page_sends_the_security_headers_and_no_inline_script(client, world):
    sign_in(client, world.a)
    for url in pages(world):
        response = client.get(url)
        assert_strict(response, url)
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url   # no inline scripts
        assert not re.search(r"\son[a-z]+\s*=", html), url            # no inline handlers
        assert ' style="' not in html, url                             # style-src 'self'


def test_customer_pages_are_not_cached_and_send_no_referrer(client, world):
    sign_in(client, world.a)
    for url in pages(world)[1:]:
        response = client.get(url)
        assert response.headers["Referrer-Policy"] == "no-referrer", url
        assert response.headers["Cache-Control"] == "no-store", url


def test_the_access_answers_carry_no_referrer(client, world):
    for response in (client.get(f"/my/access/{world.a.plain_key}"),
                     client.get("/my/access/ck_wrong"),
                     client.post("/my/access", data={"key": "ck_wrong",
                                                     "csrf_token": csrf_token(client)})):
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert_strict(response, "/my/access")


def test_the_session_cookie_is_http_only_and_same_site(client, world):
    response = client.get(f"/my/access/{world.a.plain_key}")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize("logger_name", ["werkzeug", "gunicorn.access"])
def test_server_request_lines_lose_the_key(logger_name):
    install_log_redaction()
    key = "ck_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4"
    logger = logging.getLogger(logger_name)
    with captured(logger_name) as messages:
        # werkzeug's dev server logs exactly this shape (serving.py, log_request).
        logger.info('%s - - [%s] "%s" %s %s', "127.0.0.1", "21/Nov/2026 10:00:00",
                    f"GET /my/access/{key} HTTP/1.1", "303", "-")
        logger.info("GET /my/invoices HTTP/1.1 200")
    assert messages == ['127.0.0.1 - - [21/Nov/2026 10:00:00] '
                        '"GET /my/access/[redacted] HTTP/1.1" 303 -',
                        "GET /my/invoices HTTP/1.1 200"]


def test_the_filter_is_installed_once_and_keeps_query_and_quotes():
    install_log_redaction()
    install_log_redaction()
    assert sum(isinstance(f, RedactCustomerKeys)
               for f in logging.getLogger("werkzeug").filters) == 1
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '"GET /my/access/ck_abc?x=1 HTTP/1.1"', None, None)
    RedactCustomerKeys().filter(record)
    assert record.getMessage() == '"GET /my/access/[redacted]?x=1 HTTP/1.1"'


KEY = "ck_Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4"


@pytest.mark.parametrize("line, expected", [
    # gunicorn's default access format: the request line, and the referer, in any spelling.
    (f'1.2.3.4 - - [t] "GET /my/%61ccess/{KEY} HTTP/1.1" 303 0 "https://x/my/access/{KEY}" "ua"',
     '1.2.3.4 - - [t] "GET /my/access/[redacted] HTTP/1.1" 303 0 '
     '"https://x/my/access/[redacted]" "ua"'),
    (f'"GET /My/Access/{KEY}?lang=de HTTP/1.1" 404', '"GET /my/access/[redacted]?lang=de HTTP/1.1" 404'),
    (f'"GET /my/access%252F{KEY} HTTP/1.1" 404', '"GET /my/access/[redacted] HTTP/1.1" 404'),
    (f'"GET /my/x/../access/{KEY} HTTP/1.1" 404', '"GET /my/access/[redacted] HTTP/1.1" 404'),
    (f'"GET /my/%EF%BD%81ccess/{KEY} HTTP/1.1" 404', '"GET /my/access/[redacted] HTTP/1.1" 404'),
    (f'"GET /login?next=%2Fmy%2Faccess%2F{KEY} HTTP/1.1" 302', '"GET /login?[redacted] HTTP/1.1" 302'),
    # gunicorn's error log quotes a request line it could not parse, spaces and all.
    (f"Invalid request line: 'GET /my/access/a b {KEY} HTTP/1.1'",
     "Invalid request line: 'GET /my/access/[redacted] HTTP/1.1'"),
    # Lines without a magic link stay as they are.
    ('"GET /my/invoices?q=access%20denied HTTP/1.1" 200',
     '"GET /my/invoices?q=access%20denied HTTP/1.1" 200'),
    ('"GET /static/css/app.css HTTP/1.1" 200', '"GET /static/css/app.css HTTP/1.1" 200'),
])
def test_every_spelling_of_the_magic_link_is_redacted(line, expected):
    assert redact(line) == expected


def test_a_wide_spelling_decoded_by_the_dev_server_is_redacted():
    # werkzeug logs the path as an IRI: %EF%BD%81 arrives in the line as "ａ".
    assert redact(f'"GET /my/\uff41ccess/{KEY} HTTP/1.1" 404') == \
        '"GET /my/access/[redacted] HTTP/1.1" 404'
