"""The seed dialects (SPEC §12): each seed system's API, as its document shows it.

One module per dialect, each a blueprint plus one mapping table, over the same services,
permissions, read path (services/invoice_queries), token and customer-key auth
(api/auth), `Idempotency-Key` (api/idempotency) and `X-Request-ID` handling as the JSON API.
Nothing here decides anything: a dialect renames, reshapes and re-spells.

| dialect | base URL                           | module     |
|---------|------------------------------------|------------|
| pretix  | /compat/pretix                     | pretix.py  |
| Akinon  | /compat/akinon/{organizer}         | akinon.py  |
| Open2b  | /compat/open2b                     | open2b.py  |
| OM      | /compat/om/{organizer}/{event}     | om.py      |
"""

from __future__ import annotations

import json
from decimal import Decimal

import orjson
from flask import Blueprint, Flask, Response, render_template, request, url_for

from ..api.idempotency import remember
from ..errors import NotFoundError


class RawNumber(str):
    """Text written into JSON as a number, unquoted (the exact Decimal text, never a float)."""


def number(value: Decimal | None, places: int | None = None) -> RawNumber | None:
    """A Decimal as a JSON number with `places` decimals (Open2b's `decimal[p,s]`)."""
    if value is None:
        return None
    value = Decimal(value)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return RawNumber(format(value, "f"))


def _fragment(value):
    """orjson's `default`: a RawNumber or Decimal as its exact text, unquoted; any other
    subclass of str (an enum value) as the plain string."""
    if isinstance(value, RawNumber):
        return orjson.Fragment(str(value))
    if isinstance(value, Decimal):  # a figure someone forgot to spell: never via float
        return orjson.Fragment(format(value, "f"))
    if isinstance(value, str):
        return str(value)
    raise TypeError(type(value).__name__)


def dumps(payload) -> str:
    """JSON with RawNumber written as numbers; key order kept, non-ASCII kept. orjson writes
    it (issue 16: the recursive writer below was a third of a pretix dialect list page);
    what orjson refuses (a key that is not a plain str) goes through the writer below."""
    try:
        return orjson.dumps(payload, default=_fragment,
                            option=orjson.OPT_PASSTHROUGH_SUBCLASS).decode()
    except TypeError:
        return _dumps(payload)


def _dumps(payload) -> str:
    if isinstance(payload, RawNumber):
        return str(payload)
    if isinstance(payload, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + _dumps(v)
                              for k, v in payload.items()) + "}"
    if isinstance(payload, list | tuple):
        return "[" + ",".join(_dumps(item) for item in payload) + "]"
    if isinstance(payload, Decimal):  # a figure someone forgot to spell: never via float
        return format(payload, "f")
    return json.dumps(payload, ensure_ascii=False)


def answer(payload, status: int = 200, headers: dict | None = None, *,
           write: bool = False) -> Response:
    """A dialect's JSON answer; a write's answer is kept for an `Idempotency-Key` retry."""
    response = Response(dumps(payload), status=status, headers=headers or {},
                        mimetype="application/json")
    if write:
        remember(response)
    return response


def page_number(args) -> int:
    """REST framework's `page`: a positive number, else 404 "Invalid page."."""
    raw = args.get("page") or "1"
    if not raw.isdigit() or not 0 < int(raw) <= 10**7:
        raise NotFoundError("Invalid page.")
    return int(raw)


def page_body(page, number: int, page_size: int, results: list) -> dict:
    """REST framework's page: `count`, absolute `next` / `previous` links, `results`."""
    def link(to: int) -> str:
        args = {**request.args.to_dict(), "page": str(to)}
        return url_for(request.endpoint, _external=True, **request.view_args, **args)

    return {"count": page.count,
            "next": link(number + 1) if number * page_size < page.count else None,
            "previous": link(number - 1) if number > 1 else None,
            "results": results}


def challenge(response: Response) -> Response:
    """A 401 names the scheme, as the JSON API's do (the token dialects)."""
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Token realm="api"')
    return response


docs = Blueprint("compat", __name__)


@docs.get("/compat/")
def dialect_docs():
    """The dialects' reference: base URL, auth, mapping table, an example request and answer."""
    from . import akinon, om, open2b, pretix

    dialects = [
        ("pretix", "pretix", pretix), ("akinon", "Akinon OMS", akinon),
        ("open2b", "Open2b", open2b), ("om", "OM", om),
    ]
    return render_template("compat/dialects.html", dialects=[
        {"id": key, "name": name, "base": module.BASE.replace("<", "{").replace(">", "}"),
         "auth": module.AUTH, "mapping": module.MAPPING, "request": module.EXAMPLE_REQUEST,
         "answer": module.EXAMPLE_ANSWER, "paths": module.PATHS}
        for key, name, module in dialects])


def register_compat(app: Flask) -> None:
    """Register the four dialect blueprints (token / key auth: no CSRF) and their envelopes."""
    from ..errors import register_envelope
    from ..extensions import csrf
    from . import akinon, om, open2b, pretix

    for module in (pretix, akinon, open2b, om):
        app.register_blueprint(module.bp, url_prefix=module.BASE)
        csrf.exempt(module.bp)
        register_envelope(module.BASE.split("<", 1)[0], module.error_envelope)
    app.register_blueprint(docs)
