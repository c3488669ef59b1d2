"""The webhook endpoints of the API (SPEC §13), under /api/v1/organizers/{organizer}/webhooks/.

Webhooks reach across every event of the organizer and carry a signing secret, so they are
an owner's business: like API tokens and members in the back office (owners who see every
event), here they need a read-write token for every event. Any other token of the organizer
is 403; another organizer's endpoint is the same 404 as a missing one.
"""

from __future__ import annotations

from flask import Response, request, url_for

from ..errors import ForbiddenError
from ..services import webhooks
from . import auth, bp, schemas
from .idempotency import idempotent
from .views import ORGANIZER, json_response, respond

WEBHOOKS = f"{ORGANIZER}/webhooks"
WEBHOOK = f"{WEBHOOKS}/<id>"


def _owner_scope(organizer: str) -> auth.Scope:
    scope = auth.organizer_scope(organizer)
    if scope.token.read_only or not scope.token.all_events:
        raise ForbiddenError("Webhooks are managed with a read-write token for every event.",
                             code="owner_only")
    return scope


def _endpoint(organizer: str, id: str):
    scope = _owner_scope(organizer)
    return scope, webhooks.endpoint_of_organizer(scope.organizer, schemas.object_id(id))


@bp.get(f"{WEBHOOKS}/")
def webhook_list(organizer):
    scope = _owner_scope(organizer)
    schemas.no_query(request.args)
    results = [webhooks.endpoint_to_dict(e) for e in webhooks.organizer_endpoints(scope.organizer)]
    return json_response({"count": len(results), "next": None, "previous": None,
                          "results": results})


@bp.post(f"{WEBHOOKS}/")
@idempotent
def webhook_create(organizer):
    scope = _owner_scope(organizer)
    schemas.no_query(request.args)
    endpoint, secret = webhooks.create_endpoint(scope.organizer, schemas.json_body(request),
                                                actor=scope.actor)
    location = url_for("api.webhook_detail", organizer=organizer, id=endpoint.id,
                       _external=True)
    # The secret is in this answer and in no other (rotate it to get a new one).
    return respond(webhooks.endpoint_to_dict(endpoint, secret=secret), 201,
                   {"Location": location, "Cache-Control": "no-store"})


@bp.get(f"{WEBHOOK}/")
def webhook_detail(organizer, id):
    _, endpoint = _endpoint(organizer, id)
    schemas.no_query(request.args)
    return json_response(webhooks.endpoint_to_dict(endpoint))


@bp.patch(f"{WEBHOOK}/")
def webhook_update(organizer, id):
    scope, endpoint = _endpoint(organizer, id)
    schemas.no_query(request.args)
    webhooks.update_endpoint(endpoint, schemas.json_body(request), actor=scope.actor)
    return respond(webhooks.endpoint_to_dict(endpoint))


@bp.delete(f"{WEBHOOK}/")
def webhook_delete(organizer, id):
    scope, endpoint = _endpoint(organizer, id)
    schemas.no_query(request.args)
    webhooks.delete_endpoint(endpoint, actor=scope.actor)
    return Response(status=204)


@bp.post(f"{WEBHOOK}/rotate-secret/")
@idempotent
def webhook_rotate_secret(organizer, id):
    scope, endpoint = _endpoint(organizer, id)
    schemas.no_query(request.args)
    schemas.action_body(request)
    secret = webhooks.rotate_secret(endpoint, actor=scope.actor)
    return respond(webhooks.endpoint_to_dict(endpoint, secret=secret), 200,
                   {"Cache-Control": "no-store"})


@bp.get(f"{WEBHOOK}/deliveries/")
def webhook_deliveries(organizer, id):
    _, endpoint = _endpoint(organizer, id)
    query = schemas.simple_list_query(request.args, filters=())
    number, size = query["page"], query["page_size"]
    page = webhooks.endpoint_deliveries(endpoint, page=number, page_size=size)

    def link(to: int) -> str:
        return url_for("api.webhook_deliveries", organizer=organizer, id=endpoint.id,
                       page=to, page_size=size, _external=True)

    return json_response({
        "count": page.count,
        "next": link(number + 1) if number * size < page.count else None,
        "previous": link(number - 1) if number > 1 else None,
        "results": [webhooks.delivery_to_dict(d) for d in page.items],
    })


@bp.post(f"{WEBHOOK}/deliveries/<delivery_id>/redeliver/")
@idempotent
def webhook_redeliver(organizer, id, delivery_id):
    scope, endpoint = _endpoint(organizer, id)
    schemas.no_query(request.args)
    schemas.action_body(request)
    delivery = webhooks.delivery_of_endpoint(endpoint, schemas.object_id(delivery_id))
    webhooks.redeliver(delivery, actor=scope.actor)
    # Accepted: the try runs after this answer is committed; its outcome is in deliveries/.
    return respond(webhooks.delivery_to_dict(delivery), 202)
