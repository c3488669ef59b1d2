"""Back-office pages for webhooks (SPEC §13): owners who see every event register endpoints,
see each one's deliveries with every try, send one again, and rotate the signing secret.

The secret is shown once, in the answer to the POST that made it (creation, rotation), with
`Cache-Control: no-store`, like API tokens (admin.py).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from ..errors import ValidationError
from ..i18n import _, _l
from ..models import Role
from ..services import invoice_queries, webhooks
from ..services.webhook_events import EVENT_TYPES
from ..unit_of_work import rollback
from . import bp
from .access import Scope, scoped
from .admin import _secret_page
from .forms import MultiCheckboxField, options
from .helpers import attach_errors
from .views import ORG

WEBHOOKS = ORG + "/webhooks"
WEBHOOK = WEBHOOKS + "/<int:webhook_id>"


class WebhookForm(FlaskForm):
    url = StringField(_l("URL"), render_kw={"placeholder": "https://example.com/hooks"})
    events = MultiCheckboxField(_l("Event types"), choices=options((t, t) for t in EVENT_TYPES))
    active = BooleanField(_l("Active"), default=True)


def _data(form: WebhookForm) -> dict:
    return {"url": form.url.data or "", "events": list(form.events.data or []),
            "active": bool(form.active.data)}


def _attach(form: WebhookForm, error: ValidationError) -> None:
    fields: dict[str, list[str]] = {}
    for path, messages in error.fields.items():
        fields.setdefault(path.split(".")[0], []).extend(messages)
    attach_errors(form, fields)


def _list_page(scope: Scope, form: WebhookForm, status: int = 200):
    return render_template("organizer/webhook_list.html", form=form,
                           endpoints=webhooks.organizer_endpoints(scope.organizer)), status


@bp.route(WEBHOOKS, methods=["GET", "POST"])
@scoped(Role.OWNER, administer=True)
def webhook_list(scope: Scope):
    form = WebhookForm()
    if request.method == "GET":
        return _list_page(scope, form)
    try:
        endpoint, secret = webhooks.create_endpoint(scope.organizer, _data(form),
                                                    actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        _attach(form, error)
        return _list_page(scope, form, 400)
    return _secret_page("organizer/webhook_secret.html", endpoint=endpoint, secret=secret,
                        fresh=True)


def _detail_page(scope: Scope, endpoint, form: WebhookForm, status: int = 200):
    page = webhooks.endpoint_deliveries(endpoint, page=invoice_queries.page_number(request.args),
                                        page_size=20)
    return render_template("organizer/webhook_detail.html", endpoint=endpoint, form=form,
                           deliveries=page), status


@bp.route(WEBHOOK, methods=["GET", "POST"])
@scoped(Role.OWNER, administer=True)
def webhook_detail(scope: Scope, webhook_id: int):
    endpoint = webhooks.endpoint_of_organizer(scope.organizer, webhook_id)
    if request.method == "GET":
        form = WebhookForm(formdata=None, data={"url": endpoint.url,
                                                "events": list(endpoint.events),
                                                "active": endpoint.active})
        return _detail_page(scope, endpoint, form)
    form = WebhookForm()
    try:
        webhooks.update_endpoint(endpoint, _data(form), actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        endpoint = webhooks.endpoint_of_organizer(scope.organizer, webhook_id)
        _attach(form, error)
        return _detail_page(scope, endpoint, form, 400)
    flash(_("The webhook endpoint is saved."), "success")
    return redirect(url_for("organizer.webhook_detail", organizer=scope.organizer.slug,
                            webhook_id=endpoint.id), code=303)


@bp.post(WEBHOOK + "/rotate")
@scoped(Role.OWNER, administer=True)
def webhook_rotate(scope: Scope, webhook_id: int):
    endpoint = webhooks.endpoint_of_organizer(scope.organizer, webhook_id)
    secret = webhooks.rotate_secret(endpoint, actor=scope.actor)
    return _secret_page("organizer/webhook_secret.html", endpoint=endpoint, secret=secret,
                        fresh=False)


@bp.post(WEBHOOK + "/delete")
@scoped(Role.OWNER, administer=True)
def webhook_delete(scope: Scope, webhook_id: int):
    endpoint = webhooks.endpoint_of_organizer(scope.organizer, webhook_id)
    webhooks.delete_endpoint(endpoint, actor=scope.actor)
    flash(_("The webhook endpoint is deleted; nothing more is sent to it."), "success")
    return redirect(url_for("organizer.webhook_list", organizer=scope.organizer.slug),
                    code=303)


@bp.post(WEBHOOK + "/deliveries/<int:delivery_id>/redeliver")
@scoped(Role.OWNER, administer=True)
def webhook_redeliver(scope: Scope, webhook_id: int, delivery_id: int):
    endpoint = webhooks.endpoint_of_organizer(scope.organizer, webhook_id)
    delivery = webhooks.delivery_of_endpoint(endpoint, delivery_id)
    webhooks.redeliver(delivery, actor=scope.actor)
    flash(_("The event is sent again; its try is listed below."), "success")
    return redirect(url_for("organizer.webhook_detail", organizer=scope.organizer.slug,
                            webhook_id=endpoint.id), code=303)
