"""Keep customer keys out of the server's request logs.

A magic link carries the key in its path (`/my/access/<key>`). Our own code never logs a path,
but the HTTP server in front of the app writes one line per request with the request line in
it: werkzeug's development server (`flask run`) logs `"GET /my/access/ck_… HTTP/1.1" 302 -`
to the `werkzeug` logger, and gunicorn's access log (off unless `--access-logfile` is given)
logs the same to `gunicorn.access`. Both run in the process that imports this app, so a filter
on those loggers rewrites the line to `/my/access/[redacted]` before any handler sees it.
A reverse proxy in front (nginx, a load balancer) keeps its own logs: redact there as well.
"""

from __future__ import annotations

import logging
import re

ACCESS_PATH = re.compile(r"(/my/access/)[^\s?#\"']+")
REDACTED = r"\1[redacted]"
SERVER_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    return ACCESS_PATH.sub(REDACTED, text)


class RedactCustomerKeys(logging.Filter):
    """Rewrites any `/my/access/<key>` in a record's message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to break: leave it as it is
            return True
        if "/my/access/" in message:
            record.msg, record.args = redact(message), None
        return True


def install_log_redaction() -> None:
    """Add the filter to the server loggers once per process."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCustomerKeys) for f in logger.filters):
            logger.addFilter(RedactCustomerKeys())
