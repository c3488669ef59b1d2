"""The real development server's request log never shows a customer key.

werkzeug's server (what `flask run` uses) writes one line per request with the request line in
it, to the `werkzeug` logger; the customer blueprint installs a filter that rewrites
`/my/access/<key>` (in any spelling that reaches it, or any other) to `/my/access/[redacted]`
before any handler sees the line.
"""

from __future__ import annotations

import http.client
import re
import socket
import time
from urllib.parse import quote, unquote, urlsplit

from portal import jobs
from tests.customer.helpers import captured
from tests.factories import Factory
from tests.servers import WAIT, Gunicorn

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_the_dev_server_request_line_has_the_key_redacted(live_server):
    app, base = live_server
    with app.app_context():
        customer = Factory().customer(Factory().organizer())
        key = customer.plain_key
        jobs.commit()

    address = urlsplit(base)
    with captured("werkzeug") as messages:
        for path in (f"/my/access/{key}", "/my/access/ck_a-wrong-key"):
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 303
            response.read()
            connection.close()

    plain = [ANSI.sub("", m) for m in messages]  # the dev server colours the line
    lines = [m for m in plain if "/my/access/" in m]
    assert len(lines) == 2, messages
    assert all('"GET /my/access/[redacted] HTTP/1.1" 303' in line for line in lines), lines
    assert all(key not in m and "ck_a-wrong-key" not in m for m in messages)


def spellings(text: str) -> list[str]:
    """`text` and its percent-decodings: a key escaped in a log line is still a key."""
    out = [text]
    for _ in range(4):
        out.append(unquote(out[-1]))
    return out


def raw_request(host: str, port: int, request_line: str) -> int:
    """Send a request line as it is (no client normalising it); the status code back."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\nHost: {host}:{port}\r\n"
                     "Connection: close\r\n\r\n".encode("latin-1"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def variants(base: str, key: str) -> list[tuple[str, int]]:
    """(request target, the status it gets): 303 means the magic link itself answered, so
    the server decoded that spelling to /my/access/<key>; the others carry the key elsewhere."""
    escaped_key = "".join(f"%{ord(c):02X}" for c in key)
    return [
        (f"/my/%61ccess/{key}", 303),
        (f"/my/access%2F{key}", 303),
        (f"/my/access/{escaped_key}", 303),
        (f"/%6D%79/%61%63%63%65%73%73/{key}", 303),
        (f"{base}/my/access/{key}", 303),                  # absolute form
        (f"//my//access//{key}", 308),                     # merge_slashes redirect
        (f"/MY/ACCESS/{key}", 404),
        (f"/my/./access/{key}", 404),
        (f"/my/%2561ccess/{key}", 404),                    # double encoded
        (f"/my/%EF%BD%81ccess/{key}", 404),                # fullwidth a
        (f"/my/access/{key}/..", 404),
        (f"/my/access/{key}?x=1", 303),
        (f"/?next={quote(f'/my/access/{key}', safe='')}", 200),
    ]


def assert_no_key(lines: list[str], key: str, requests: int) -> None:
    assert len(lines) >= requests, lines
    for line in lines:
        for spelling in spellings(line):
            assert key not in spelling, line
            assert key[3:] not in spelling, line
    redacted = [line for line in lines if "/my/access/[redacted]" in line]
    assert len(redacted) >= requests - 1, lines   # all but the ?next= one
    assert any('"GET /?[redacted] HTTP/1.1" 200' in line for line in lines), lines


def new_customer_key(app) -> str:
    with app.app_context():
        customer = Factory().customer(Factory().organizer())
        key = customer.plain_key
        jobs.commit()
    return key


def test_no_spelling_of_the_magic_link_puts_the_key_in_the_log(live_server):
    app, base = live_server
    key = new_customer_key(app)
    address = urlsplit(base)
    host, port = address.hostname, address.port
    tried = variants(base, key)
    with captured("werkzeug") as messages:
        for target, status in tried:
            assert raw_request(host, port, f"GET {target} HTTP/1.1") == status, target
        # A request line with a space in the path: the server refuses it and logs it whole.
        assert raw_request(host, port, f"GET /my/access/ab {key} HTTP/1.1") == 400

    assert_no_key([ANSI.sub("", m) for m in messages], key, len(tried) + 1)


def test_gunicorns_access_log_has_no_key_in_any_spelling(committed_app, tmp_path):
    """The production server: gunicorn's access log writes the request line as sent."""
    key = new_customer_key(committed_app)
    url = committed_app.config["SQLALCHEMY_DATABASE_URI"]
    with Gunicorn(url, tmp_path) as server:
        tried = variants(server.base, key)
        for target, status in tried:
            assert raw_request("127.0.0.1", server.port, f"GET {target} HTTP/1.1") == status, \
                target
        deadline = time.monotonic() + WAIT
        while len(server.access_lines()) < len(tried) and time.monotonic() < deadline:
            time.sleep(0.1)
        lines = server.access_lines()
        errors = server.errors()
    assert_no_key(lines, key, len(tried))
    assert key not in errors and key[3:] not in errors
