"""Keep customer keys out of the server's request logs.

A magic link carries the key in its path (`/my/access/<key>`). Our own code never logs a path,
but the HTTP server in front of the app writes one line per request with the request line in
it: werkzeug's development server (`flask run`) logs `"GET /my/access/ck_… HTTP/1.1" 302 -`
to the `werkzeug` logger, and gunicorn's access log (off unless `--access-logfile` is given)
logs the same to `gunicorn.access` (gunicorn's error log may quote a malformed request line).
All run in the process that imports this app, so a filter on those loggers rewrites the line
to `/my/access/[redacted]` before any handler sees it.

The server logs the path as the client sent it (werkzeug decodes some escapes first), while
routing sees it decoded: `/my/%61ccess/<key>` and `/my/access%2F<key>` reach the magic link,
`//my//access//<key>` is redirected to it, and `/MY/ACCESS/<key>` or `/my/./access/<key>`
still carry a key into a 404 line. So the check does not look for the literal text: every
word of a log line that could be a path or URL is percent-decoded (repeatedly, for double
encodings), its empty, `.` and `..` segments dropped or resolved, and compared regardless of
case and width (`ａｃｃｅｓｓ`). A word that names `my/access/<anything>` in any such spelling
is rewritten to `/my/access/[redacted]` (its query kept); a query that names one
(`?next=%2Fmy%2Faccess%2F…`) is redacted whole.

A reverse proxy in front (nginx, a load balancer) keeps its own logs: redact there as well.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from urllib.parse import unquote

SERVER_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")
REDACTED_PATH = "/my/access/[redacted]"
MAX_DECODINGS = 4  # `%25` nests; four rounds undo any encoding a client would bother with

_WORDS = re.compile(r"(\s+)")
_URL_PREFIX = re.compile(r"^[\"'(\[<]*(?:[A-Za-z][A-Za-z0-9+.-]*://[^/\s?]*)?")
_TRAILING = re.compile(r"[\"')\]>,;]*$")
_REQUEST_VERSION = re.compile(r"^HTTP/\d", re.IGNORECASE)


def _spellings(text: str):
    """`text` and its successive percent-decodings, until they stop changing."""
    yield text
    for _ in range(MAX_DECODINGS):
        decoded = unquote(text, errors="replace")
        if decoded == text:
            return
        text = decoded
        yield text


def _segments(spelling: str, *, resolve: bool) -> list[str]:
    segments: list[str] = []
    for segment in spelling.replace("\\", "/").split("/"):
        if segment in ("", "."):
            continue
        if resolve and segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(unicodedata.normalize("NFKC", segment).casefold())
    return segments


def _names_magic_link(text: str) -> bool:
    """Whether some spelling of `text` has the path segments `my/access/<something>`.

    Loose on purpose (`…my…/…access…/x`, `..` taken both literally and resolved): a 404
    line redacted for nothing costs nothing, a key left in a log line costs the key.
    """
    for spelling in _spellings(text):
        for resolve in (False, True):
            segments = _segments(spelling, resolve=resolve)
            for i in range(len(segments) - 2):
                if "my" in segments[i] and "access" in segments[i + 1]:
                    return True
    return False


def _worth_a_look(word: str) -> bool:
    return "%" in word or "access" in unicodedata.normalize("NFKC", word).casefold()


def _redact_word(word: str) -> str | None:
    """The word rewritten when it names a magic link, else None."""
    if not _worth_a_look(word):
        return None
    tail = _TRAILING.search(word).group()
    path, mark, query = word[: len(word) - len(tail)].partition("?")
    path_hit = _worth_a_look(path) and _names_magic_link(path)
    query_hit = bool(mark) and _worth_a_look(query) and _names_magic_link(query)
    if not (path_hit or query_hit):
        return None
    if path_hit:
        path = _URL_PREFIX.match(path).group() + REDACTED_PATH
    if query_hit:
        query = "[redacted]"
    return f"{path}{mark}{query}{tail}"


def redact(text: str) -> str:
    """`text` with every spelling of a magic-link path (and what follows it) redacted.

    A key has no spaces, but a raw request line may: after a redacted word, the words up to
    the request's `HTTP/x.y` go too, so no fragment of a split key survives.
    """
    parts = _WORDS.split(text)
    out: list[str] = []
    i = 0
    while i < len(parts):
        word = parts[i]
        redacted = _redact_word(word) if word and not word.isspace() else None
        if redacted is None:
            out.append(word)
            i += 1
            continue
        out.append(redacted)
        i += 1
        # Drop the words after it up to the request version, if one follows.
        rest = parts[i:]
        versions = [k for k in range(1, len(rest), 2) if _REQUEST_VERSION.match(rest[k])]
        if versions and versions[0] > 1:
            i += versions[0] - 1
    return "".join(out)


class RedactCustomerKeys(logging.Filter):
    """Rewrites any spelling of `/my/access/<key>` in a record's message; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to break: leave it as it is
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction() -> None:
    """Add the filter to the server loggers once per process."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCustomerKeys) for f in logger.filters):
            logger.addFilter(RedactCustomerKeys())
