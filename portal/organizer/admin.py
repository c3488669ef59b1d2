"""Back-office pages around the invoices: customers, event settings, API tokens, members.

Secrets (a customer's key, an API token, a new member's first password) are shown once, in
the answer to the POST that made them, with `Cache-Control: no-store`; they never pass
through a redirect, a flash message or the session cookie.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..downloads import statement_pdf_response
from ..errors import ConflictError, NotFoundError, ValidationError
from ..i18n import _
from ..jobs import overview
from ..models import Customer, Membership, Role
from ..services import (
    customers,
    invoice_queries,
    listings,
    organizers,
    permissions,
    statements,
    tokens,
)
from ..services.customers import magic_link
from ..services.input import delocalize_decimal
from ..services.invoice_input import ADDRESS_FIELDS
from ..unit_of_work import RefusedError, rollback
from . import bp
from .access import Scope, scoped
from .forms import (
    SELLER_FORM_FIELDS,
    CustomerForm,
    EventCreateForm,
    EventSettingsForm,
    MemberForm,
    MembershipForm,
    ProfileForm,
    TokenForm,
    currency_choices,
)
from .helpers import attach_errors, chosen_events, event_choices, plain
from .views import EVENT, ORG

SETTING_FIELDS = ("name", "currency", "locale", "due_days", "invoice_prefix", "proforma_prefix",
                  "shipping_prefix", "introductory_text", "additional_text", "payment_text",
                  "footer_text", "terms_text", "start_date", "end_date")


def _secret_page(template: str, **context):
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


def _org_url(endpoint: str, scope: Scope, **values) -> str:
    return url_for(endpoint, organizer=scope.organizer.slug, **values)


# ---------------------------------------------------------------- customers


@bp.get(ORG + "/customers")
@scoped()
def customer_list(scope: Scope):
    search = (request.args.get("q") or "").strip()[:100]
    page = listings.back_office_customers(scope.organizer, search=search,
                                          page=invoice_queries.page_number(request.args))
    return render_template("organizer/customer_list.html", page=page, search=search)


def _customer_data(form: CustomerForm) -> dict:
    return {"reference": (form.reference.data or "").strip(), "name": form.name.data or "",
            "email": form.email.data or "", "locale": form.locale.data or "",
            "billing_address": dict(form.billing_address.data)}


@bp.route(ORG + "/customers/new", methods=["GET", "POST"])
@scoped(Role.MANAGER)
def customer_new(scope: Scope):
    form = CustomerForm()
    if request.method == "GET":
        return render_template("organizer/customer_form.html", form=form, customer=None)
    try:
        customer, key = customers.create_customer(scope.organizer, _customer_data(form),
                                                  actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        attach_errors(form, error.fields)
        return render_template("organizer/customer_form.html", form=form, customer=None), 400
    return _secret_page("organizer/customer_key.html", customer=customer, key=key,
                        link=magic_link(key), fresh=True)


def _customer(scope: Scope, customer_id: int) -> Customer:
    return permissions.customer_in_organizer(scope.organizer.id, customer_id)


def _visible_event_ids(scope: Scope) -> list[int]:
    return [e.id for e in scope.organizer.events if scope.membership.can_see_event(e)]


@bp.route(ORG + "/customers/<int:customer_id>", methods=["GET", "POST"])
@scoped()
def customer_detail(scope: Scope, customer_id: int):
    customer = _customer(scope, customer_id)
    address = {key: (customer.billing_address or {}).get(key) or "" for key in ADDRESS_FIELDS}
    address["is_corporate"] = bool((customer.billing_address or {}).get("is_corporate"))
    form = CustomerForm(data={"reference": customer.reference, "name": customer.name,
                              "email": customer.email, "locale": customer.locale,
                              "billing_address": address})
    status = 200
    if request.method == "POST":
        permissions.require_role(scope.membership, Role.MANAGER)
        try:
            customers.update_customer(customer, _customer_data(form), actor=scope.actor)
        except ValidationError as error:
            rollback()  # show the form again on what is stored
            customer = _customer(scope, customer_id)
            attach_errors(form, error.fields)
            status = 400
        else:
            flash(_("The customer is saved."), "success")
            return redirect(_org_url("organizer.customer_detail", scope,
                                     customer_id=customer.id), code=303)
    recent = invoice_queries.recent_invoices_of_customer(customer, _visible_event_ids(scope))
    return render_template("organizer/customer_form.html", form=form, customer=customer,
                           invoices=recent), status


@bp.get(ORG + "/customers/<int:customer_id>/statement")
@scoped()
def customer_statement(scope: Scope, customer_id: int):
    """The customer's statement of account over the events this member may see; `format=pdf`
    gives it as PDF. A bad date is a 400 with the problem next to its field."""
    customer = _customer(scope, customer_id)
    locale = current_user.locale or "en"
    try:
        start, end = statements.clean_period(request.args)
    except ValidationError as error:
        return render_template("organizer/customer_statement.html", customer=customer,
                               statement=None, errors=error.fields, labels={}), 400
    statement = statements.build_statement(customer, start, end,
                                           event_ids=_visible_event_ids(scope))
    if request.args.get("format") == "pdf":
        return statement_pdf_response(statement, locale=locale,
                                      seller=scope.organizer.seller or {})
    return render_template("organizer/customer_statement.html", customer=customer,
                           statement=statement, errors={},
                           labels=statements.statement_labels())


@bp.post(ORG + "/customers/<int:customer_id>/rotate-key")
@scoped(Role.MANAGER)
def customer_rotate_key(scope: Scope, customer_id: int):
    customer = _customer(scope, customer_id)
    key = customers.rotate_key(customer, actor=scope.actor)
    return _secret_page("organizer/customer_key.html", customer=customer, key=key,
                        link=magic_link(key), fresh=False)


# ---------------------------------------------------------------- event settings


def _settings_changes(form) -> dict:
    changes = {key: form[key].data or "" for key in SETTING_FIELDS}
    changes["seller_override"] = dict(form.seller_override.data)
    changes["einvoicing"] = bool(form.einvoicing.data)
    changes["default_tax_rate"] = delocalize_decimal(
        (form.default_tax_rate.data or "").strip() or None, current_user.locale)
    return changes


@bp.route(EVENT + "/settings", methods=["GET", "POST"])
@scoped(Role.OWNER)
def event_settings(scope: Scope):
    event = scope.event
    data = {key: getattr(event, key) for key in SETTING_FIELDS}
    data["due_days"] = str(event.due_days)
    data["einvoicing"] = event.einvoicing
    for key in ("start_date", "end_date"):
        data[key] = data[key].isoformat() if data[key] else ""
    data["seller_override"] = {key: (event.seller_override or {}).get(key) or ""
                               for key in SELLER_FORM_FIELDS}
    data["default_tax_rate"] = plain(event.default_tax_rate)
    form = EventSettingsForm(data=data)
    form.currency.choices = currency_choices(current_user.locale)
    status = 200
    if request.method == "POST":
        try:
            organizers.update_event(event, _settings_changes(form), actor=scope.actor)
        except ValidationError as error:
            rollback()  # show the form again on what is stored
            attach_errors(form, error.fields)
            status = 400
        else:
            flash(_("The event settings are saved."), "success")
            return redirect(url_for("organizer.event_settings", organizer=scope.organizer.slug,
                                    event=event.slug), code=303)
    return render_template("organizer/event_settings.html", form=form,
                           seller=scope.organizer.seller or {}), status


@bp.route(ORG + "/events/new", methods=["GET", "POST"])
@scoped(Role.OWNER, administer=True)
def event_new(scope: Scope):
    """A new event from the back office: every field problem shows next to its field."""
    form = EventCreateForm(data={"currency": "EUR", "locale": current_user.locale or "en",
                                 "due_days": "14", "einvoicing": True})
    form.currency.choices = currency_choices(current_user.locale)
    if request.method == "GET":
        return render_template("organizer/event_new.html", form=form)
    changes = _settings_changes(form)
    for key in ("invoice_prefix", "proforma_prefix", "shipping_prefix"):
        if not changes[key].strip():  # blank: the service derives it (slug, invoice prefix)
            del changes[key]
    name = changes.pop("name")
    try:
        event = organizers.create_event(scope.organizer, (form.slug.data or "").strip(), name,
                                        actor=scope.actor, **changes)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        attach_errors(form, error.fields)
        return render_template("organizer/event_new.html", form=form), 400
    flash(_("The event “%(name)s” is created.", name=event.name), "success")
    return redirect(url_for("organizer.event_settings", organizer=scope.organizer.slug,
                            event=event.slug), code=303)


@bp.post(EVENT + "/archive")
@scoped(Role.OWNER)
def event_archive(scope: Scope):
    try:
        organizers.archive_event(scope.event, actor=scope.actor)
    except ConflictError as error:
        raise RefusedError(error.message, to=url_for("organizer.dashboard")) from None
    flash(_("The event “%(name)s” is archived: read-only and no longer listed.",
            name=scope.event.name), "success")
    return redirect(url_for("organizer.dashboard"), code=303)


@bp.post(EVENT + "/restore")
@scoped(Role.OWNER)
def event_restore(scope: Scope):
    try:
        organizers.restore_event(scope.event, actor=scope.actor)
    except ConflictError as error:
        raise RefusedError(error.message, to=url_for("organizer.dashboard")) from None
    flash(_("The event “%(name)s” is restored.", name=scope.event.name), "success")
    return redirect(url_for("organizer.event_settings", organizer=scope.organizer.slug,
                            event=scope.event.slug), code=303)


# ---------------------------------------------------------------- background jobs


@bp.get(ORG + "/jobs")
@scoped(Role.OWNER, administer=True)
def job_list(scope: Scope):
    """The organizer's background jobs: pending, running, failed, re-driven (jobs.py)."""
    return render_template("organizer/job_list.html",
                           found=overview(organizer_id=scope.organizer.id, limit=100))


# ---------------------------------------------------------------- organizer profile


# Service field names -> profile form fields, where they differ.
_PROFILE_FIELDS = {"payment_means.code": "means_code", "payment_means.iban": "iban",
                   "payment_means.bic": "bic", "payment_means.account_name": "account_name",
                   "seller.electronic_address.id": "electronic_address_id",
                   "seller.electronic_address.scheme": "electronic_address_scheme"}


@bp.route(ORG + "/profile", methods=["GET", "POST"])
@scoped(Role.OWNER, administer=True)
def organizer_profile(scope: Scope):
    """The seller's legal data, payment means and logo, printed on every invoice."""
    organizer = scope.organizer
    seller = organizer.seller or {}
    means = organizer.payment_means or {}
    endpoint = seller.get("electronic_address") or {}
    form = ProfileForm(data={
        "name": organizer.name,
        "seller": {key: seller.get(key) or "" for key in SELLER_FORM_FIELDS},
        "electronic_address_id": endpoint.get("id") or "",
        "electronic_address_scheme": endpoint.get("scheme") or "",
        "means_code": means.get("code") or "58", "iban": means.get("iban") or "",
        "bic": means.get("bic") or "", "account_name": means.get("account_name") or ""})
    status = 200
    if request.method == "POST":
        upload = request.files.get("logo")
        logo = upload.read(organizers.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
        ids = ((form.electronic_address_id.data or "").strip(),
               (form.electronic_address_scheme.data or "").strip())
        changes = {
            "name": form.name.data or "",
            "seller": {**dict(form.seller.data),
                       "electronic_address": {"id": ids[0], "scheme": ids[1]}
                       if any(ids) else None},
            "payment_means": {"code": form.means_code.data or "58", "iban": form.iban.data,
                              "bic": form.bic.data, "account_name": form.account_name.data},
        }
        try:
            organizers.update_profile(organizer, changes, actor=scope.actor, logo=logo,
                                      remove_logo=bool(form.remove_logo.data))
        except ValidationError as error:
            rollback()  # show the form again on what is stored
            attach_errors(form, {_PROFILE_FIELDS.get(key, key): messages
                                 for key, messages in error.fields.items()})
            status = 400
        else:
            flash(_("The organizer profile is saved."), "success")
            return redirect(_org_url("organizer.organizer_profile", scope), code=303)
    return render_template("organizer/profile.html", form=form, organizer=organizer), status


@bp.get(ORG + "/profile/logo")
@scoped()
def organizer_logo(scope: Scope):
    organizer = scope.organizer
    if not organizer.logo_type:
        raise NotFoundError()
    response = make_response(organizer.logo)
    response.headers["Content-Type"] = organizer.logo_type
    response.headers["Cache-Control"] = "private, no-cache"
    return response


# ---------------------------------------------------------------- API tokens


def _token_page(scope: Scope, form: TokenForm, status: int = 200):
    listed = tokens.organizer_tokens(scope.organizer)
    return render_template("organizer/token_list.html", form=form, tokens=listed), status


@bp.route(ORG + "/tokens", methods=["GET", "POST"])
@scoped(Role.OWNER, administer=True)
def token_list(scope: Scope):
    form = TokenForm()
    form.events.choices = event_choices(scope.organizer)
    if request.method == "GET":
        return _token_page(scope, form)
    try:
        token, secret = tokens.create_token(
            scope.organizer, name=form.name.data or "", read_only=form.access.data == "read_only",
            events=chosen_events(scope.organizer, form.events.data), actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        attach_errors(form, error.fields)
        return _token_page(scope, form, 400)
    return _secret_page("organizer/token_created.html", token=token, secret=secret)


@bp.post(ORG + "/tokens/<int:token_id>/revoke")
@scoped(Role.OWNER, administer=True)
def token_revoke(scope: Scope, token_id: int):
    token = tokens.token_of_organizer(scope.organizer, token_id)
    if token.active:
        tokens.revoke_token(token, actor=scope.actor)
        flash(_("The token “%(name)s” is revoked; it no longer works.", name=token.name), "success")
    return redirect(_org_url("organizer.token_list", scope), code=303)


# ---------------------------------------------------------------- members


def _membership(scope: Scope, membership_id: int) -> Membership:
    return organizers.membership_of_organizer(scope.organizer, membership_id)


def _member_page(scope: Scope, form: MemberForm, status: int = 200, edits=None):
    members = organizers.organizer_memberships(scope.organizer)
    edits = edits or {}
    forms = {}
    for membership in members:
        edit = edits.get(membership.id) or MembershipForm(
            prefix=f"m{membership.id}", formdata=None,
            data={"role": membership.role,
                  "events": [str(e.id) for e in membership.events]})
        edit.events.choices = event_choices(scope.organizer)
        forms[membership.id] = edit
    return render_template("organizer/member_list.html", form=form, members=members,
                           forms=forms), status


@bp.route(ORG + "/members", methods=["GET", "POST"])
@scoped(Role.OWNER, administer=True)
def member_list(scope: Scope):
    form = MemberForm()
    form.events.choices = event_choices(scope.organizer)
    if request.method == "GET":
        return _member_page(scope, form)
    try:
        membership, password = organizers.invite_member(
            scope.organizer, form.email.data or "", form.role.data, name=form.name.data or "",
            events=chosen_events(scope.organizer, form.events.data), actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        attach_errors(form, error.fields)
        return _member_page(scope, form, 400)
    if password:
        return _secret_page("organizer/member_created.html", membership=membership,
                            password=password)
    flash(_("%(email)s is now a member.", email=membership.user.email), "success")
    return redirect(_org_url("organizer.member_list", scope), code=303)


@bp.post(ORG + "/members/<int:membership_id>")
@scoped(Role.OWNER, administer=True)
def member_edit(scope: Scope, membership_id: int):
    membership = _membership(scope, membership_id)
    form = MembershipForm(prefix=f"m{membership.id}")
    form.events.choices = event_choices(scope.organizer)
    try:
        organizers.update_membership(membership, role=form.role.data,
                                     events=chosen_events(scope.organizer, form.events.data),
                                     actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored
        attach_errors(form, error.fields)
        new = MemberForm(formdata=None)
        new.events.choices = event_choices(scope.organizer)
        return _member_page(scope, new, 400, edits={membership_id: form})
    flash(_("%(email)s: the membership is changed.", email=membership.user.email), "success")
    return redirect(_org_url("organizer.member_list", scope), code=303)


@bp.post(ORG + "/members/<int:membership_id>/remove")
@scoped(Role.OWNER, administer=True)
def member_remove(scope: Scope, membership_id: int):
    membership = _membership(scope, membership_id)
    email = membership.user.email
    try:
        organizers.remove_membership(membership, actor=scope.actor)
    except ValidationError as error:
        raise RefusedError(" ".join(m for msgs in error.fields.values() for m in msgs),
                      to=_org_url("organizer.member_list", scope)) from None
    flash(_("%(email)s is no longer a member.", email=email), "success")
    return redirect(_org_url("organizer.member_list", scope), code=303)
