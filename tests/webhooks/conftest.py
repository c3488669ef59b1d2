"""A real HTTP receiver on loopback for the webhook tests, and the documented verifier.

`Receiver` is an http.server in a thread: it answers each POST with the next scripted reply
(a status code, or "hang" to say nothing until the test ends) and keeps what it received.
"""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)


class Receiver:
    def __init__(self, replies=(), default: int | str = 200, delay: float = 0.0):
        self.replies = list(replies)
        self.delay = delay
        self.default = default
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    reply = receiver.replies.pop(0) if receiver.replies else receiver.default
                if receiver.delay:
                    time.sleep(receiver.delay)  # a slow receiver widens every race window
                if reply == "hang":
                    receiver.release.wait(10)
                    return
                if reply == "redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                answer = (b"x" * 5000) if reply == 500 else b"ok"
                self.send_response(int(reply))
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    started = []

    def build(replies=(), default=200, delay=0.0) -> Receiver:
        made = Receiver(replies, default, delay).start()
        started.append(made)
        return made

    yield build
    for made in started:
        made.stop()


def documented_verify():
    """The `verify` function exactly as the API docs page shows it."""
    from portal.config import ROOT

    page = (ROOT / "static" / "api-docs" / "index.html").read_text(encoding="utf-8")
    match = re.search(r'<pre id="webhook-verify"><code>(.*?)</code></pre>', page, re.S)
    assert match, "the docs page shows no signature snippet"
    namespace: dict = {}
    exec(html.unescape(match.group(1)), namespace)  # noqa: S102 - our own docs
    return namespace["verify"]
