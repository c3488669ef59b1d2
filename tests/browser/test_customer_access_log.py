"""The real development server's request log never shows a customer key.

werkzeug's server (what `flask run` uses) writes one line per request with the request line in
it, to the `werkzeug` logger; the customer blueprint installs a filter that rewrites
`/my/access/<key>` to `/my/access/[redacted]` before any handler sees the line.
"""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

from portal import jobs
from tests.customer.helpers import captured
from tests.factories import Factory

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
