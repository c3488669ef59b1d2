"""Bad characters never give a 500 and never write anything, on any route (issue 10).

The walk goes over `app.url_map` itself, so a route added later is walked too. Every path
parameter is filled with the id or slug of a real object, the client is signed in three ways
at once (organizer session with a real CSRF token, API token, customer session), and each
(route, method) gets every kind of bad input:

- `json-values`: a JSON body whose strings hold a lone surrogate (`"\\udc80"` in the JSON
  text), shaped like what the endpoint reads, so the text would reach the database;
- `json-keys`: a JSON body whose *keys* hold one;
- `form`: form fields (the ones the view reads, plus a bad name) holding a NUL;
- `query`: query arguments holding `%00` (in values and in a name);
- `path-<name>`: one string path segment holding `%00`;
- `json-broken`: a body that is not JSON, or JSON but not an object (the API's writes must
  answer 400; a route that never reads a body may ignore it).

Every answer must be a 4xx (400 for the body and query, 404 for a path segment, which names
nothing), name the offending fields, and leave every table exactly as it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.routing.converters import AnyConverter, IntegerConverter, PathConverter

from portal.extensions import db
from portal.jobs import discard_pending
from portal.models import Membership
from portal.services import customer_links, invoices
from tests.factories import ACTOR, line
from tests.organizer.conftest import (
    csrf_token,
    invoice_form,
    line_row,
    sign_in,
)

SURROGATE = "\udc80"
NUL = "\x00"
BAD = (SURROGATE, NUL)
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE")
BROKEN_JSON = ('{"customer": ', "[1, 2]", '"\\udc80"', "null")


# ---------------------------------------------------------------- the seeded world


@dataclass
class Seeded:
    organizer: object
    event: object
    owner: object
    manager_membership: object
    customer: object
    order: object
    draft: object
    open: object
    token: object
    revocable: object
    webhook: object = None
    delivery: object = None


@pytest.fixture
def seeded(make, monkeypatch, app) -> Seeded:
    from werkzeug.security import generate_password_hash

    from portal.services import organizers
    monkeypatch.setattr(organizers, "hash_password",
                        lambda password: generate_password_hash(password, "pbkdf2:sha256:1"))
    # Show what an unexpected exception would be (a 500), instead of re-raising it.
    monkeypatch.setitem(app.config, "RENDER_UNEXPECTED_ERRORS", True)
    organizer = make.organizer(slug="acme", name="Acme Events")
    # A logo, so that its route is reached too (a PNG signature is enough to store one).
    organizers.update_profile(organizer, {}, actor=ACTOR, logo=b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    event = make.event(organizer, slug="conf")
    owner = make.member(organizer, "owner", email="owner@acme.example")
    manager = make.member(organizer, "manager", email="manager@acme.example")
    customer = make.customer(organizer, "C-1", name="Jane Buyer")
    order = make.order(event, customer, code="ORD1")
    draft = make.invoice(event, customer, lines=[line("Draft ticket", "1", "10.00")])
    open_ = make.invoice(event, customer)
    invoices.close_invoice(open_, actor=ACTOR)
    token = make.token(organizer)
    revocable = make.token(organizer)
    # A webhook endpoint (port 9 refuses at once) with one delivery, for the webhook routes.
    from portal.models import WebhookDelivery
    from portal.services import webhooks
    webhook, _secret = webhooks.create_endpoint(organizer, {
        "url": "http://127.0.0.1:9/hook", "events": ["customer.created"]}, actor=ACTOR)
    make.customer(organizer, "C-2")
    delivery = db.session.scalar(select(WebhookDelivery))
    db.session.commit()
    discard_pending()
    membership = db.session.scalar(select(Membership).where(
        Membership.user_id == manager.id, Membership.organizer_id == organizer.id))
    return Seeded(organizer=organizer, event=event, owner=owner, manager_membership=membership,
                  customer=customer, order=order, draft=draft, open=open_, token=token,
                  revocable=revocable, webhook=webhook, delivery=delivery)


def _path_values(endpoint: str, s: Seeded) -> dict:
    """Real values for every path parameter a rule may have."""
    api_id = s.customer.id if ".customer_" in endpoint and "invoice" not in endpoint \
        else s.draft.id
    if endpoint.startswith("api.customer_invoice") or endpoint.startswith("customer."):
        api_id = s.open.id
    if ".webhook" in endpoint:
        api_id = s.webhook.id
    invoice_id = s.open.id if endpoint.startswith("customer.") else s.draft.id
    return {
        "organizer": s.organizer.slug, "event": s.event.slug, "id": str(api_id),
        "code": s.order.code, "invoice_id": invoice_id, "customer_id": s.customer.id,
        "order_id": s.order.id, "membership_id": s.manager_membership.id,
        "token_id": s.revocable.id, "key": s.customer.plain_key, "filename": "portal.css",
        "invoice_no": s.open.number,
        # The customer's signed links (SPEC §14): a recovery link, or the mail's invoice link.
        # A password reset link's token (a wrong one: the page must still answer cleanly).
        "token": (customer_links.recovery_token(s.customer)
                  if endpoint.startswith("customer.recovery")
                  else customer_links.invoice_token(s.open) if endpoint.startswith("customer.")
                  else "not-a-reset-token"),
        "payment_id": "1",
        "webhook_id": s.webhook.id, "delivery_id": s.delivery.id,
    }


# ---------------------------------------------------------------- bad inputs per endpoint


def _json_values(endpoint: str, s: Seeded) -> dict:
    """A body the endpoint would accept but for the surrogates in its text."""
    bad = SURROGATE
    invoice = {"customer": s.customer.reference,
               "lines": [{"description": f"Ticket {bad}", "quantity": "1",
                          "unit_price": "10.00", "sku": bad}],
               "texts": {"footer": f"Thanks{bad}"}}
    bodies = {
        "api.invoice_create": invoice,
        "api.invoice_update": invoice,
        "api.order_create": {"code": f"O{bad}", "customer": s.customer.reference,
                             "lines": [{"name": bad, "quantity": "1", "unit_price": "1.00",
                                        "tax_rate": "19.00"}]},
        "api.customer_create": {"reference": f"R{bad}", "name": f"N{bad}",
                                "email": "new@example.com",
                                "billing_address": {"company": bad}},
        "api.customer_update": {"name": f"N{bad}", "billing_address": {"city": bad}},
        "api.invoice_send": {"to": f"a{bad}@example.com"},
        "api.invoice_dispute": {"reason": f"Wrong {bad}"},
    }
    return bodies.get(endpoint, {"reason": bad, "to": bad, "name": bad, "items": [bad]})


def _json_keys(endpoint: str, s: Seeded) -> dict:
    return {f"x{SURROGATE}": "1", "billing_address": {f"c{SURROGATE}": "Acme"}}


def _form(endpoint: str, s: Seeded) -> dict:
    """The fields the view reads, NUL in their text, plus a field whose name holds one."""
    bad = NUL
    forms = {
        "organizer.login": {"email": f"owner{bad}@acme.example", "password": bad},
        "organizer.account": {"current_password": bad, "new_password": f"new{bad}password",
                              "confirm_password": f"new{bad}password"},
        "organizer.invoice_new": invoice_form(
            s.customer.reference, lines=[line_row(description=f"Ticket{bad}")],
            **{"texts-footer": bad}),
        "organizer.invoice_edit": invoice_form(
            s.customer.reference, lines=[line_row(description=f"Ticket{bad}")],
            **{"texts-footer": bad}),
        "organizer.invoice_from_order": {"order": f"ORD1{bad}"},
        "organizer.invoice_action": {"to": f"a{bad}@example.com", "reason": f"Wrong{bad}"},
        "organizer.order_new": {"code": f"O{bad}", "customer": s.customer.reference,
                                "lines-0-name": bad, "lines-0-quantity": "1",
                                "lines-0-unit_price": "1.00"},
        "organizer.customer_new": {"reference": f"R{bad}", "name": f"N{bad}",
                                   "email": "new@example.com"},
        "organizer.customer_detail": {"reference": "C-1", "name": f"N{bad}",
                                      "email": "jane@example.com"},
        "organizer.event_settings": {"name": f"Conf{bad}", "currency": "EUR", "due_days": "14",
                                     "invoice_prefix": f"X{bad}-", "proforma_prefix": "P-",
                                     "shipping_prefix": "S-"},
        "organizer.token_list": {"name": f"t{bad}", "access": "read_write"},
        "organizer.member_list": {"email": f"new{bad}@example.com", "name": bad,
                                  "role": "viewer"},
        "organizer.member_edit": {"role": f"viewer{bad}"},
        "customer.access_form": {"key": f"{s.customer.plain_key}{bad}"},
        "customer.invoice_dispute": {"reason": f"Wrong{bad}"},
    }
    return {**forms.get(endpoint, {"q": bad}), f"x{bad}": bad}


def _query(endpoint: str, s: Seeded) -> dict:
    bad = NUL
    return {"q": f"a{bad}", "number": f"1{bad}", "customer": f"C{bad}", "page": f"1{bad}",
            "fields": f"id{bad}", f"x{bad}": "1"}


def _offending(value, path: str = "") -> set[str]:
    """The dotted names of every bad key or value in `value` (bad characters shown as U+FFFD)."""
    found = set()
    if isinstance(value, str):
        if any(ch in value for ch in BAD):
            found.add(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            shown = key.translate({ord(SURROGATE): "\ufffd", 0: "\ufffd"})
            name = f"{path}.{shown}" if path else shown
            if any(ch in key for ch in BAD):
                found.add(name)
            found |= _offending(item, name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found |= _offending(item, f"{path}.{i}")
    return found


# ---------------------------------------------------------------- the walk


def _cases(app, s: Seeded, kinds: tuple[str, ...]):
    """(label, method, url, request kwargs, expected status, expected field names)."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (
        # Steps that end a session or revoke access go last (they matter before the fix).
        any(w in r.rule for w in ("logout", "sign-out", "revoke", "remove", "rotate")), r.rule))
    for rule in rules:
        values = _path_values(rule.endpoint, s)
        choices = [dict()]
        action = rule._converters.get("action")
        if isinstance(action, AnyConverter):
            choices = [{"action": item} for item in sorted(action.items)]
        for choice in choices:
            args = {name: {**values, **choice}[name] for name in rule.arguments}
            url = _build(rule, args)
            for method in sorted((rule.methods or set()) & set(METHODS)):
                label = f"{method} {rule.rule} {choice.get('action', '')}".strip()
                if "json-values" in kinds:
                    body = _json_values(rule.endpoint, s)
                    yield (label, "json-values", method, url, _json_kwargs(body), 400,
                           _offending(body))
                if "json-keys" in kinds:
                    body = _json_keys(rule.endpoint, s)
                    yield (label, "json-keys", method, url, _json_kwargs(body), 400,
                           _offending(body))
                if "form" in kinds:
                    form = _form(rule.endpoint, s)
                    yield (label, "form", method, url, {"data": form}, 400, _offending(form))
                if "query" in kinds:
                    query = _query(rule.endpoint, s)
                    yield (label, "query", method, url, {"query_string": query}, 400,
                           _offending(query))
                if "json-broken" in kinds:
                    # Not an object, or not JSON at all: the API's writes answer 400; a route
                    # that never reads a body may ignore it, but nothing answers 5xx.
                    reads_body = rule.rule.startswith("/api/") and method in ("POST", "PATCH")
                    for raw in BROKEN_JSON:
                        yield (label, f"json-broken {raw}", method, url,
                               {"data": raw.encode(), "content_type": "application/json"},
                               400 if reads_body else None, set())
                if "path" in kinds:
                    for name in sorted(rule.arguments):
                        converter = rule._converters[name]
                        if isinstance(converter, IntegerConverter | AnyConverter):
                            continue  # a NUL cannot even match: routing answers 404
                        bad_args = {**args, name: f"{args[name]}%00x"}
                        if isinstance(converter, PathConverter):
                            bad_args[name] = f"a%00{args[name]}"
                        yield (label, f"path-{name}", method, _build(rule, bad_args), {}, 404,
                               set())


def _build(rule, args: dict) -> str:
    url = rule.rule
    for name, value in args.items():
        url = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?" + name + ">", lambda _m, v=value: str(v), url)
    assert "<" not in url, url
    return url


def _json_kwargs(body: dict) -> dict:
    # ensure_ascii (the default) writes the lone surrogate as the JSON escape \udc80: valid
    # UTF-8 bytes that only the JSON parser turns into the unpaired surrogate.
    return {"data": json.dumps(body).encode("ascii"), "content_type": "application/json"}


def _snapshot() -> dict:
    """Every row of every table, so any write at all shows up."""
    db.session.expire_all()
    return {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
            for table in db.metadata.sorted_tables}


class Walker:
    def __init__(self, client, s: Seeded):
        self.client = client
        self.s = s
        # The customer signs in the real way, once (the magic link); the organizer before every
        # request, so a step that signs out (before the fix) cannot hide later routes.
        client.get(f"/my/access/{s.customer.plain_key}").close()
        self.token = csrf_token(client)
        db.session.rollback()

    def _sign_in(self) -> None:
        sign_in(self.client, self.s.owner)

    def send(self, method: str, url: str, kwargs: dict):
        self._sign_in()
        kwargs = dict(kwargs)
        if isinstance(kwargs.get("data"), dict):
            kwargs["data"] = {"csrf_token": self.token, **kwargs["data"]}
        headers = {"Authorization": f"Token {self.s.token.plain}", "X-CSRFToken": self.token,
                   "X-Customer-Key": self.s.customer.plain_key}
        try:
            response = self.client.open(url, method=method, headers=headers, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an escaped exception is the 500 we count
            response = exc
        else:
            response.close()
        # A failed request may leave the session needing a rollback; after a good one there
        # is nothing left to roll back (the view committed or rolled back itself).
        db.session.rollback()
        return response


def walk(app, client, s: Seeded, kinds: tuple[str, ...]):
    walker = Walker(client, s)
    before = _snapshot()  # after signing in: what the walk's requests must leave alone
    # Deleting steps last: a body a route may ignore (json-broken) lets them do their work.
    cases = sorted(_cases(app, s, kinds),
                   key=lambda case: case[2] == "DELETE" or case[0].endswith(" delete"))
    server_errors, writes, wrong = [], [], []
    for label, kind, method, url, kwargs, expected, fields in cases:
        response = walker.send(method, url, kwargs)
        status = response.status_code if not isinstance(response, Exception) else 500
        where = f"{kind}: {label}"
        if status >= 500:
            server_errors.append(f"{where} -> {status} {response!r}"[:300])
        elif expected is None:
            before = _snapshot()  # a body the route ignores: the request may do its work
            continue
        elif status != expected:
            wrong.append(f"{where} -> {status}, expected {expected}")
        else:
            missing = _unnamed(response, fields)
            if missing:
                wrong.append(f"{where} -> does not name {sorted(missing)}")
        after = _snapshot()
        if after != before:
            changed = sorted(t for t in after if after[t] != before[t])
            writes.append(f"{where} -> wrote to {changed}")
            before = after
    return cases, server_errors, writes, wrong


DIALECTS_NAMING_FIELDS_IN_TEXT = ("/compat/pretix/", "/compat/akinon/", "/compat/open2b/")


def _unnamed(response, fields: set[str]) -> set[str]:
    if not fields:
        return set()
    page = response.get_data(as_text=True)
    if response.mimetype == "application/json":
        error = response.get_json().get("error")
        named = set(error.get("fields") or {}) if isinstance(error, dict) else set()
        if response.request.path.startswith(DIALECTS_NAMING_FIELDS_IN_TEXT):
            # These seed dialects name fields their own way (SPEC §12): pretix and Akinon as
            # top-level keys (REST framework), Open2b inside the error message.
            named |= {name for name in fields
                      if name in page or json.dumps(name)[1:-1] in page}
        return fields - named
    return {name for name in fields if name not in page}


@pytest.mark.parametrize("kind", ["json-values", "json-keys", "form", "query", "path",
                                  "json-broken"])
def test_every_route_refuses_bad_characters_without_writing(app, client, seeded, kind):
    cases, server_errors, writes, wrong = walk(app, client, seeded, (kind,))
    print(f"{kind}: {len(cases)} cases, {len(server_errors)} 5xx, {len(writes)} writes, "
          f"{len(wrong)} other")
    print("\n".join(server_errors + writes + wrong))
    assert len(cases) > 40
    assert server_errors == []
    assert writes == []
    assert wrong == []


def test_a_surrogate_pair_is_a_character_not_a_problem(client, make):
    """Only *unpaired* surrogates are refused: an emoji sent as a JSON escape pair is text."""
    from tests.api.conftest import Api

    organizer = make.organizer()
    event = make.event(organizer)
    api = Api(client, make.token(organizer).plain)
    base = f"/api/v1/organizers/{organizer.slug}/events/{event.slug}"
    body = json.dumps({"reference": "R-\U0001F600", "name": "Smile \U0001F600"})
    assert "\\ud83d\\ude00" in body
    created = api.post(f"{base}/customers/", data=body, content_type="application/json")
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["name"] == "Smile \U0001F600"
    refused = api.post(f"{base}/customers/", data=body.replace("\\ude00", ""),
                       content_type="application/json")
    assert refused.status_code == 400
    assert refused.get_json()["error"]["fields"] == {
        "reference": ["Unpaired surrogates (U+D800 to U+DFFF) are not allowed: send valid "
                      "Unicode."],
        "name": ["Unpaired surrogates (U+D800 to U+DFFF) are not allowed: send valid Unicode."]}


def test_an_html_form_with_a_nul_is_a_400_page_naming_the_field(client, make, app):
    """The back office answers a NUL in a form with a page that names the field, and keeps
    nothing of the request."""
    organizer = make.organizer(slug="nul-org")
    owner = make.member(organizer, "owner", email="nul-owner@example.com")
    db.session.commit()
    token = csrf_token(client)
    with client.session_transaction() as session:
        session["_user_id"] = owner.get_id()
        session["_fresh"] = True
    before = _snapshot()
    response = client.post(f"/org/{organizer.slug}/customers/new", data={
        "csrf_token": token, "reference": "R-1", "name": "Jane\x00Doe"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<strong>name</strong>: NUL characters are not allowed." in page
    assert _snapshot() == before


def test_the_walk_is_signed_in_everywhere(app, client, seeded):
    """A control for the walk: with clean input the same requests reach the views (no sign-in
    page, no 401/403), so the refusals above come from the input check, not from the door."""
    walker = Walker(client, seeded)
    reached = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint in (
                "customer.access_link", "customer.invoice_link", "customer.recovery_link"):
            continue  # the magic and signed links sign in anew and redirect by design
        values = _path_values(rule.endpoint, seeded)
        url = _build(rule, {name: values[name] for name in rule.arguments})
        response = walker.send("GET", url, {})
        assert not isinstance(response, Exception), (url, response)
        location = response.headers.get("Location", "")
        assert response.status_code not in (401, 403, 404), (url, response.status_code)
        assert "/login" not in location, (url, location)
        assert location not in ("/", "http://localhost/"), (url, location)  # customer door
        reached.append(response.status_code)
    assert reached.count(200) >= 25, reached
