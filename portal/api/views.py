"""The JSON API (SPEC §6): organizer endpoints with API tokens, customer endpoints with keys.

Every view is thin: it loads through the owner (`auth` scopes, `permissions`), checks the
token's right to write, calls one service, and answers through `respond`, which keeps the answer
for an `Idempotency-Key` retry; the unit of work commits the answer and the work together.
Every POST is wrapped in
`idempotent`. Errors are raised, never built here: `errors.py` renders them as JSON under /api/.
"""

from __future__ import annotations

import json

import orjson
from flask import Response, request, url_for
from sqlalchemy import bindparam
from sqlalchemy.orm import selectinload

from ..config import ROOT
from ..domain.money import minor_units
from ..downloads import (
    DOWNLOAD_LOAD,
    pdf_content,
    pdf_response,
    statement_pdf_response,
    xml_response,
)
from ..errors import NotFoundError
from ..models import Invoice
from ..services import (
    customers,
    frozen,
    invoice_queries,
    invoices,
    ledger,
    listings,
    orders,
    payments,
    permissions,
    statements,
)
from ..services.invoice_queries import INVOICE_LOAD, InvoiceFilter, PastEnd
from ..services.representation import fixed, invoice_to_dict, payment_to_dict, sending_to_dict
from . import auth, bp, schemas
from .idempotency import idempotent, remember
from .openapi import openapi_document

ORGANIZER = "/organizers/<organizer>"
EVENT = f"{ORGANIZER}/events/<event>"
INVOICE = f"{EVENT}/invoices/<id>"
CUSTOMER = f"{EVENT}/customers/<id>"
DOCS_FOLDER = ROOT / "static" / "api-docs"


# ---------------------------------------------------------------- responses


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    # Our own dumps keeps the invoice object's key order (Flask's provider sorts keys);
    # orjson writes the same compact UTF-8 JSON several times faster than json (issue 16).
    try:
        body = orjson.dumps(payload)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits echoed from a JSON column
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, headers=headers or {}, mimetype="application/json")


def _json_text(body: str | bytes) -> Response:
    """An answer whose JSON is written already (services.frozen)."""
    return Response(body, mimetype="application/json")


def _projected(text: str, fields: frozenset | None) -> Response:
    """One invoice object's text as the answer, or only its `fields` when asked."""
    if fields is None:
        return _json_text(text)
    return json_response(schemas.project(orjson.loads(text), fields))


def respond(payload, status: int = 200, headers: dict | None = None) -> Response:
    """Answer a write, keeping the answer for an idempotent retry in the same unit of work
    (which commits both at once)."""
    response = json_response(payload, status, headers)
    remember(response)
    return response


def _page_link(page: int, page_size: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(page), page_size=str(page_size))
    return url_for(request.endpoint, _external=True, **request.view_args, **args)


def _cursor_link(name: str, invoice_id: int, page_size: int) -> str:
    args = {key: value for key, value in request.args.items()
            if key not in ("page", *schemas.CURSORS)}
    args.update({name: str(invoice_id), "page_size": str(page_size)})
    return url_for(request.endpoint, _external=True, **request.view_args, **args)


def _page_body(page, query: dict, results: list) -> dict:
    """The list envelope; the page was read with `PastEnd.NOT_FOUND` (SPEC §6). A keyset page
    (issue 16) adds `has_more`; its links carry the cursors and `count` may be null."""
    if isinstance(page, invoice_queries.KeysetPage):
        size = page.page_size
        return {
            "count": page.count,
            "next": (_cursor_link("starting_after", page.next_after, size)
                     if page.next_after is not None else None),
            "previous": (_cursor_link("ending_before", page.previous_before, size)
                         if page.previous_before is not None else None),
            "has_more": page.has_more,
            "results": results,
        }
    number, size = query["page"], query["page_size"]
    has_next = number * size < page.count
    return {
        "count": page.count,
        "next": _page_link(number + 1, size) if has_next else None,
        "previous": _page_link(number - 1, size) if number > 1 else None,
        "results": results,
    }


@bp.after_request
def _challenge(response: Response) -> Response:
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Token realm="api"')
    return response


# ---------------------------------------------------------------- invoices


def _invoice_list(scope_query, query: dict) -> Response:
    fields = query["fields"]
    if query["cursor"] is not None:
        page = frozen.invoice_keyset_page(
            scope_query, query["filters"], ordering=query["ordering"], cursor=query["cursor"],
            cursor_id=query["cursor_id"], page_size=query["page_size"], as_text=fields is None)
    else:
        page = frozen.invoice_page(
            scope_query, query["filters"], ordering=query["ordering"], page=query["page"],
            page_size=query["page_size"], past_end=PastEnd.NOT_FOUND, as_text=fields is None)
    if fields is None:  # the stored texts as they are, never parsed (services.frozen)
        return _json_text(frozen.page_text(_page_body(page, query, []), page.items))
    results = [schemas.project(body, fields) for body in page.items]
    return json_response(_page_body(page, query, results))


@bp.get(f"{ORGANIZER}/invoices/")
def organizer_invoice_list(organizer):
    scope = auth.organizer_scope(organizer)
    query = schemas.invoice_list_query(request.args, organizer_wide=True)
    return _invoice_list(invoice_queries.organizer_invoices(scope.token), query)


@bp.get(f"{EVENT}/invoices/")
def invoice_list(organizer, event):
    scope = auth.event_scope(organizer, event)
    query = schemas.invoice_list_query(request.args)
    return _invoice_list(invoice_queries.event_invoices(scope.event), query)


@bp.post(f"{EVENT}/invoices/")
@idempotent
def invoice_create(organizer, event):
    scope = auth.event_scope(organizer, event, write=True)
    schemas.no_query(request.args)
    invoice = invoices.create_draft(scope.event, schemas.json_body(request), actor=scope.actor)
    location = url_for("api.invoice_detail", organizer=organizer, event=event, id=invoice.id,
                       _external=True)
    return respond(invoice_to_dict(invoice), 201, {"Location": location})


def _invoice(organizer, event, id, *, write=False, options=()):
    scope = auth.event_scope(organizer, event, write=write)
    invoice = permissions.invoice_in_event(scope.event, schemas.object_id(id), *options)
    return scope, invoice


@bp.get(f"{INVOICE}/")
def invoice_detail(organizer, event, id):
    scope = auth.event_scope(organizer, event)
    body = frozen.one_invoice(invoice_queries.event_invoices(scope.event),
                              InvoiceFilter(ids=(schemas.object_id(id),)), as_text=True)
    return _projected(body, schemas.detail_query(request.args))


@bp.patch(f"{INVOICE}/")
def invoice_update(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id, write=True)
    schemas.no_query(request.args)
    invoices.update_draft(invoice, schemas.json_body(request), actor=scope.actor)
    return respond(invoice_to_dict(invoice))


@bp.delete(f"{INVOICE}/")
def invoice_delete(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id, write=True)
    schemas.no_query(request.args)
    invoices.delete_draft(invoice, actor=scope.actor)
    return Response(status=204)


def _lifecycle(organizer, event, id, step, *, allowed: tuple[str, ...] = (),
               flags: tuple[str, ...] = (), status=200):
    """Run one lifecycle service on a writable invoice, with the action's (small) body.

    The body's fields are the service's keyword arguments (`to` for send, `reason` for
    dispute). The answer is the invoice, or the credit note a cancellation made.
    """
    scope, invoice = _invoice(organizer, event, id, write=True)
    schemas.no_query(request.args)
    body = schemas.action_body(request, allowed=allowed, flags=flags)
    made = step(invoice, actor=scope.actor, **body)
    return respond(invoice_to_dict(made if isinstance(made, Invoice) else invoice), status)


@bp.post(f"{INVOICE}/close/")
@idempotent
def invoice_close(organizer, event, id):
    return _lifecycle(organizer, event, id, invoices.close_invoice)


@bp.post(f"{INVOICE}/send/")
@idempotent
def invoice_send(organizer, event, id):
    # An open invoice is `sent` at once; the mail goes out after the commit, and a failed
    # delivery moves it back to open (see services.invoices.fail_sending). After a delivery
    # of unknown outcome it answers 409 `delivery_unknown` unless the body says confirm: true.
    return _lifecycle(organizer, event, id, invoices.send_invoice, allowed=("to",),
                      flags=("confirm",))


@bp.post(f"{INVOICE}/pay/")
@idempotent
def invoice_pay(organizer, event, id):
    return _lifecycle(organizer, event, id, invoices.pay_invoice)


@bp.post(f"{INVOICE}/dispute/")
@idempotent
def invoice_dispute(organizer, event, id):
    return _lifecycle(organizer, event, id, invoices.dispute_invoice, allowed=("reason",))


@bp.post(f"{INVOICE}/resolve/")
@idempotent
def invoice_resolve(organizer, event, id):
    return _lifecycle(organizer, event, id, invoices.resolve_invoice)


@bp.post(f"{INVOICE}/cancel/")
@idempotent
def invoice_cancel(organizer, event, id):
    # Answers with the credit note when one was made; a cancelled proforma with itself.
    return _lifecycle(organizer, event, id, invoices.cancel_invoice)


@bp.post(f"{INVOICE}/archive/")
@idempotent
def invoice_archive(organizer, event, id):
    return _lifecycle(organizer, event, id, invoices.archive_invoice)


@bp.get(f"{INVOICE}/sendings/")
def invoice_sendings(organizer, event, id):
    _, invoice = _invoice(organizer, event, id)
    schemas.no_query(request.args)
    results = [sending_to_dict(sending) for sending in invoice.sendings]
    return json_response({"count": len(results), "results": results})


# ---------------------------------------------------------------- payments (SPEC §10)


def _payments_body(invoice: Invoice) -> dict:
    places = minor_units(invoice.currency)
    return {"count": len(invoice.payments), "currency": invoice.currency,
            "amount_paid": fixed(invoice.amount_paid, places),
            "balance": fixed(invoice.balance, places),
            "results": [payment_to_dict(p, places) for p in invoice.payments]}


@bp.get(f"{INVOICE}/payments/")
def invoice_payment_list(organizer, event, id):
    _, invoice = _invoice(organizer, event, id, options=(selectinload(Invoice.payments),))
    schemas.no_query(request.args)
    return json_response(_payments_body(invoice))


@bp.post(f"{INVOICE}/payments/")
@idempotent
def invoice_payment_create(organizer, event, id):
    scope, invoice = _invoice(organizer, event, id, write=True)
    schemas.no_query(request.args)
    payment = payments.record_payment(invoice, schemas.json_body(request), actor=scope.actor)
    location = url_for("api.invoice_payment_list", organizer=organizer, event=event,
                       id=invoice.id, _external=True)
    return respond(payment_to_dict(payment, minor_units(invoice.currency)), 201,
                   {"Location": location})


@bp.delete(f"{INVOICE}/payments/<payment_id>/")
def invoice_payment_delete(organizer, event, id, payment_id):
    scope, invoice = _invoice(organizer, event, id, write=True)
    schemas.no_query(request.args)
    payments.delete_payment(invoice, schemas.object_id(payment_id), actor=scope.actor)
    return Response(status=204)


@bp.post(f"{INVOICE}/check/")
@idempotent
def invoice_check(organizer, event, id):
    """Run the e-invoice rules on a draft without closing it (SPEC §11)."""
    _, invoice = _invoice(organizer, event, id, write=True, options=INVOICE_LOAD)
    schemas.no_query(request.args)
    schemas.action_body(request)
    return respond(invoices.check_invoice(invoice))


@bp.get(f"{INVOICE}/xml/")
def invoice_xml(organizer, event, id):
    _, invoice = _invoice(organizer, event, id)
    return xml_response(invoice, schemas.xml_query(request.args))


def _path_id(raw: str) -> int | None:
    """`schemas.object_id`, with a malformed id as None: a 404 the caller gives only after
    the credentials (401) and the scope (404) are checked, as for every other view."""
    try:
        return schemas.object_id(raw)
    except NotFoundError:
        return None


@bp.get(f"{INVOICE}/pdf/")
def invoice_pdf(organizer, event, id):
    # Token, scope, invoice and stored bytes in one SELECT (issue 16).
    invoice_id = _path_id(id)
    column, params, shape = pdf_content()
    _, invoice, (content,) = auth.event_invoice(
        organizer, event, None if invoice_id is None else [Invoice.id == bindparam("invoice_id")],
        options=DOWNLOAD_LOAD, columns=[column], document=True,
        params={**params, "invoice_id": invoice_id}, shape=("pdf", shape, invoice_id is None))
    if invoice is None:
        raise NotFoundError()
    schemas.no_query(request.args)
    # The stored document of record, a DRAFT preview, or 409 + Retry-After while pending.
    return pdf_response(invoice, content=content)


# ---------------------------------------------------------------- ledger


@bp.get(f"{EVENT}/ledger/")
def event_ledger(organizer, event):
    """The ledger report of the event (SPEC §9): gaps, duplicates, altered documents, broken
    links of every number sequence. 200 either way; `ok` is the verdict."""
    scope = auth.event_scope(organizer, event)
    schemas.no_query(request.args)
    return json_response(ledger.verify_event(scope.event))


# ---------------------------------------------------------------- orders


@bp.get(f"{EVENT}/orders/")
def order_list(organizer, event):
    scope = auth.event_scope(organizer, event)
    query = schemas.simple_list_query(request.args, filters=("customer",))
    page = listings.event_orders(scope.event, customer=query["filters"]["customer"],
                                    page=query["page"], page_size=query["page_size"])
    return json_response(_page_body(page, query, [schemas.order_to_dict(o) for o in page.items]))


@bp.post(f"{EVENT}/orders/")
@idempotent
def order_create(organizer, event):
    scope = auth.event_scope(organizer, event, write=True)
    schemas.no_query(request.args)
    order = orders.create_order(scope.event, schemas.json_body(request), actor=scope.actor)
    location = url_for("api.order_detail", organizer=organizer, event=event, code=order.code,
                       _external=True)
    return respond(schemas.order_to_dict(order), 201, {"Location": location})


@bp.get(f"{EVENT}/orders/<code>/")
def order_detail(organizer, event, code):
    scope = auth.event_scope(organizer, event)
    schemas.no_query(request.args)
    return json_response(schemas.order_to_dict(listings.order_in_event(scope.event, code)))


# ---------------------------------------------------------------- customers


@bp.get(f"{EVENT}/customers/")
def customer_list(organizer, event):
    scope = auth.event_scope(organizer, event)
    query = schemas.simple_list_query(request.args, filters=("reference", "email"))
    page = listings.organizer_customers(scope.organizer.id, page=query["page"],
                                           page_size=query["page_size"], **query["filters"])
    results = [schemas.customer_to_dict(c) for c in page.items]
    return json_response(_page_body(page, query, results))


@bp.post(f"{EVENT}/customers/")
@idempotent
def customer_create(organizer, event):
    scope = auth.event_scope(organizer, event, write=True)
    schemas.no_query(request.args)
    customer, key = customers.create_customer(scope.organizer, schemas.json_body(request),
                                              actor=scope.actor)
    location = url_for("api.customer_detail", organizer=organizer, event=event, id=customer.id,
                       _external=True)
    # The key is in this answer and nowhere else, ever (only its hash is stored).
    return respond(schemas.customer_to_dict(customer, key=key), 201, {"Location": location})


def _customer(organizer, event, id, *, write=False):
    scope = auth.event_scope(organizer, event, write=write)
    customer = permissions.customer_in_organizer(scope.organizer.id, schemas.object_id(id))
    return scope, customer


@bp.get(f"{CUSTOMER}/")
def customer_detail(organizer, event, id):
    _, customer = _customer(organizer, event, id)
    schemas.no_query(request.args)
    return json_response(schemas.customer_to_dict(customer))


@bp.patch(f"{CUSTOMER}/")
def customer_update(organizer, event, id):
    scope, customer = _customer(organizer, event, id, write=True)
    schemas.no_query(request.args)
    customers.update_customer(customer, schemas.json_body(request), actor=scope.actor)
    return respond(schemas.customer_to_dict(customer))


@bp.post(f"{CUSTOMER}/rotate-key/")
@idempotent
def customer_rotate_key(organizer, event, id):
    scope, customer = _customer(organizer, event, id, write=True)
    schemas.no_query(request.args)
    schemas.action_body(request)
    key = customers.rotate_key(customer, actor=scope.actor)
    return respond(schemas.customer_to_dict(customer, key=key))


@bp.get(f"{CUSTOMER}/statement/")
def customer_statement(organizer, event, id):
    """The statement of account over the events the token may see: JSON, or the PDF when the
    client asks for `Accept: application/pdf`."""
    scope, customer = _customer(organizer, event, id)
    query = schemas.statement_query(request.args)
    start, end = statements.period(query["start"], query["end"])
    visible = [e.id for e in scope.organizer.events if scope.token.can_see_event(e)]
    statement = statements.build_statement(customer, start, end, event_ids=visible)
    best = request.accept_mimetypes.best_match(["application/json", "application/pdf"])
    if best == "application/pdf":
        return statement_pdf_response(statement, locale=customer.locale or "en",
                                      seller=scope.organizer.seller or {})
    return json_response(statements.statement_to_dict(statement))


# ---------------------------------------------------------------- the customer's own API


@bp.get("/customer/invoices")
def customer_invoice_list():
    customer = auth.current_customer()
    query = schemas.customer_list_query(request.args)
    fields = query["fields"]
    page = frozen.customer_slice(customer, ids=query["ids"], type=query["type"],
                                 after=query["after"], first=query["first"], limit=query["limit"],
                                 as_text=fields is None)
    if fields is None:
        return _json_text(frozen.page_text({"count": page.count}, page.items, key="invoices"))
    return json_response({"count": page.count, "invoices": [
        schemas.project(body, fields) for body in page.items]})


@bp.get("/customer/invoices/<id>")
def customer_invoice_detail(id):
    customer = auth.current_customer()
    fields = schemas.detail_query(request.args)
    return _projected(frozen.customer_invoice(customer, schemas.object_id(id), as_text=True),
                      fields)


@bp.get("/customer/invoices/<id>/pdf")
def customer_invoice_pdf(id):
    # Key, invoice and stored bytes in one SELECT (issue 16).
    column, params, shape = pdf_content()
    _, invoice, (content,) = auth.customer_invoice(
        _path_id(id), options=DOWNLOAD_LOAD, columns=[column], document=True, params=params,
        shape=("pdf", shape))
    schemas.no_query(request.args)
    if invoice is None:
        raise NotFoundError()
    return pdf_response(invoice, content=content)


@bp.get("/customer/invoices/<id>/xml")
def customer_invoice_xml(id):
    customer = auth.current_customer()
    syntax = schemas.xml_query(request.args)
    return xml_response(permissions.invoice_of_customer(customer, schemas.object_id(id)), syntax)


# ---------------------------------------------------------------- the reference


@bp.get("/openapi.json")
def openapi_json():
    document = openapi_document(server_url=request.host_url.rstrip("/") + "/api/v1")
    response = json_response(document)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/docs")
def api_docs():
    # A static page whose script (same origin, CSP script-src 'self') renders openapi.json.
    page = Response((DOCS_FOLDER / "index.html").read_bytes(), mimetype="text/html")
    page.cache_control.public = True
    page.cache_control.max_age = 300
    return page
