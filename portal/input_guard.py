"""Text that no field may hold, refused once for every request before any view runs.

Two kinds of character are refused everywhere, whatever the field:

- NUL (U+0000): PostgreSQL cannot store it (psycopg refuses the whole statement, a 500),
  SQLite would store it silently, and nobody means one;
- a lone surrogate (U+D800–U+DFFF): not a character at all, and not encodable as UTF-8, so
  the database driver (or the page that would show it) fails. Only a JSON escape such as
  `"\\udc80"` makes one: werkzeug decodes paths, query strings and forms with
  `errors="replace"`.

**This module owns that rule**, and `refuse_unusable_text` is the one place that applies it:
an app-wide `before_request` hook (registered by `create_app`), so it covers every route of
every audience (back office, customer area, JSON API, static files) and runs before any view
reads, writes or renders anything. A refused request therefore cannot have written a row, and
neither the field cleaners (`services/invoice_input.py`) nor the API schemas
(`api/schemas.py`) check for these characters again. It walks:

- the path parameters: a bad one names nothing, so 404, like any unknown id or slug;
- the query string, the form fields and the names of uploaded files, names and values: 400;
- a JSON body (whatever the route: Flask-WTF reads JSON as form data too), keys and values
  at any depth: 400. A JSON body that is not an object (`[1]`, `"text"`, `null`) is refused
  here too, for every route: nothing of ours reads any other, and Flask-WTF fails on one. A
  body that is not valid JSON is left to the view's parser, which answers 400 itself
  (`api.schemas.json_body`, Flask's `get_json`).

The 400 is a `ValidationError` naming every offending field by its dotted path
(`lines.0.description`); a name that itself holds a bad character is shown with U+FFFD in its
place. The API thus answers its usual `{"error": {"code": "invalid", "fields": {…}}}`, and an
HTML page lists the fields (`errors/error.html`).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from flask import Flask, request

from .errors import NotFoundError, ValidationError
from .i18n import _

# The API's own limit on a JSON body: a larger one is refused by the view without parsing.
MAX_JSON_BYTES = 2 * 1024 * 1024
UNUSABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def shown(name: str) -> str:
    """A field name fit to show and to send back as JSON: bad characters become U+FFFD."""
    return UNUSABLE.sub(REPLACEMENT, name)


def _problem(text: str, *, in_name: bool) -> str:
    if "\x00" in text:
        return _("NUL characters are not allowed in names.") if in_name \
            else _("NUL characters are not allowed.")
    return _("Unpaired surrogates (U+D800 to U+DFFF) are not allowed in names.") if in_name \
        else _("Unpaired surrogates (U+D800 to U+DFFF) are not allowed: send valid Unicode.")


def unusable_fields(value, path: str = "") -> dict[str, list[str]]:
    """Every bad key or string in `value` (dicts, lists, strings), by dotted path.

    Iterative, so a deeply nested body cannot exhaust the stack here.
    """
    problems: dict[str, list[str]] = {}
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if UNUSABLE.search(item):
                problems.setdefault(where or "body", []).append(_problem(item, in_name=False))
        elif isinstance(item, dict):
            for key, child in item.items():
                key = str(key)
                name = f"{where}.{shown(key)}" if where else shown(key)
                if UNUSABLE.search(key):
                    problems.setdefault(name, []).append(_problem(key, in_name=True))
                stack.append((name, child))
        elif isinstance(item, list):
            stack.extend((f"{where}.{i}", child) for i, child in enumerate(item))
    return problems


def _pairs(multidict):
    return [(name, value) for name, value in multidict.items(multi=True)]


_NO_BODY = object()


def _json_body():
    """The parsed JSON body, or `_NO_BODY` when there is none or it does not parse."""
    if not request.is_json:
        return _NO_BODY
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        return _NO_BODY
    raw = request.get_data(cache=True)
    if not raw.strip():
        return _NO_BODY
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return _NO_BODY


def refuse_unusable_text() -> None:
    """The `before_request` hook: 404 for a bad path segment, 400 naming each bad field."""
    view_args = request.view_args or {}
    if any(isinstance(v, str) and UNUSABLE.search(v) for v in view_args.values()):
        raise NotFoundError()
    problems: dict[str, list[str]] = {}

    def merge(found: dict[str, list[str]]) -> None:
        # The query and the form share one namespace of names: say each thing once per name.
        for name, messages in found.items():
            known = problems.setdefault(name, [])
            known.extend(message for message in messages if message not in known)

    for name, value in _pairs(request.args):
        merge(unusable_fields({name: value}))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # Read the body into the cache first: form parsing would otherwise consume the stream
        # and leave `get_data()` empty for a view that reads the raw body (the API's).
        request.get_data(cache=True, parse_form_data=False)
        for name, value in _pairs(request.form):
            merge(unusable_fields({name: value}))
        for name, upload in _pairs(request.files):
            merge(unusable_fields({name: upload.filename or ""}))
    body = _json_body()
    if body is not _NO_BODY and not isinstance(body, dict):
        # Every JSON body we read is an object; Flask-WTF would choke on any other (a 500).
        raise ValidationError({"body": [_("Send a JSON object.")]})
    if body is not _NO_BODY:
        merge(unusable_fields(body))
    if problems:
        raise ValidationError(problems, _("Some fields hold characters that are not allowed."))


def init_input_guard(app: Flask) -> None:
    app.before_request(refuse_unusable_text)
