"""Back-office pages: the dashboard, an event's invoices and its orders.

Every view goes through `@scoped(role)` (access.py), loads what it shows through the event it
belongs to and calls one service; the unit of work (portal/unit_of_work.py) commits the
request when it answers below 400. Refused steps raise `RefusedError`, which rolls back,
flashes the reason and redirects, so they change nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from ..domain.lifecycle import InvoiceStatus, allowed_actions
from ..domain.money import minor_units
from ..downloads import pdf_response, xml_response
from ..errors import ConflictError, ValidationError
from ..i18n import _
from ..models import Invoice, Order, Role
from ..models.invoice import OVERDUE_STATUSES
from ..services import (
    documents,
    invoice_queries,
    invoices,
    ledger,
    listings,
    orders,
    organizers,
    payments,
    permissions,
    preview,
)
from ..services.documents import DocumentPendingError
from ..services.input import delocalize_decimal
from ..services.invoice_queries import INVOICE_LOAD, PastEnd
from ..services.payments import PAYMENT_FIELDS
from ..services.representation import invoice_to_dict
from ..unit_of_work import RefusedError, rollback
from . import bp
from .access import Scope, scoped
from .forms import (
    PAYMENT_METHOD_LABELS,
    DiscountForm,
    FromOrderForm,
    InvoiceForm,
    LineForm,
    OrderForm,
    OrderLineForm,
    PaymentForm,
    options,
)
from .helpers import (
    attach_errors,
    editor_command,
    invoice_form_data,
    invoice_input,
    plain,
    rows_input,
)

# The document types whose amounts add up to what was invoiced (page totals).
TOTAL_TYPES = (*invoice_queries.CLAIM_TYPES, "credit_note")
ORG = "/org/<organizer>"
EVENT = ORG + "/events/<event>"
PAGE_SIZES = (10, 25, 50, 100, 200)


def _event_url(endpoint: str, scope: Scope, **values) -> str:
    return url_for(endpoint, organizer=scope.organizer.slug, event=scope.event.slug, **values)


def _invoice_url(scope: Scope, invoice: Invoice, endpoint="organizer.invoice_detail") -> str:
    return _event_url(endpoint, scope, invoice_id=invoice.id)


def refusal_message(error: ConflictError | ValidationError) -> str:
    """One sentence for a flash: the reason, then each field problem."""
    parts = [] if isinstance(error, ValidationError) and error.fields and \
        error.message == ValidationError.message else [error.message]
    for key, messages in getattr(error, "fields", {}).items():
        if isinstance(messages, str):  # e-invoice findings: rule id -> message
            parts.append(f"{key}: {messages}")
        else:
            parts.extend(messages)
    return " ".join(parts)


# ---------------------------------------------------------------- dashboard


@bp.get("/org/")
@login_required
def dashboard():
    memberships = organizers.memberships_of(current_user)
    archived = request.args.get("archived") == "1"  # archived events only on request
    visible = [event.id for m in memberships
               for event in (m.organizer.events if m.all_events else m.events)
               if event.archived == archived]
    return render_template("organizer/dashboard_index.html", memberships=memberships,
                           figures=invoice_queries.dashboard_figures(visible),
                           show_archived=archived)


# ---------------------------------------------------------------- invoices


@bp.get(EVENT + "/")
@scoped()
def event_home(scope: Scope):
    return redirect(_event_url("organizer.invoice_list", scope))


@bp.get(EVENT + "/ledger")
@scoped()
def event_ledger(scope: Scope):
    """The verdict of the event's ledger (SPEC §9) and every finding."""
    return render_template("organizer/ledger.html", report=ledger.verify_event(scope.event))


@bp.get(EVENT + "/invoices")
@scoped()
def invoice_list(scope: Scope):
    query = invoice_queries.clean_invoice_query(
        request.args, ordering_default=invoice_queries.BACK_OFFICE_DEFAULT_ORDERING)
    page = invoice_queries.invoice_page(
        invoice_queries.event_invoices(scope.event), query.filters, ordering=query.ordering,
        page=query.page, page_size=query.page_size, past_end=PastEnd.LAST,
        options=invoice_queries.ROW_LOAD)
    totals: dict[str, Decimal] = {}
    balances: dict[str, Decimal] = {}  # what is open on this page: claims still to be paid
    for invoice in page.items:
        # Only what adds up: closed invoices, shipping invoices and credit notes (negative),
        # so a cancelled invoice and its credit note make 0; never drafts or proformas.
        if invoice.status != InvoiceStatus.DRAFT and invoice.type in TOTAL_TYPES:
            totals[invoice.currency] = (totals.get(invoice.currency, Decimal(0))
                                        + invoice.gross_total)
        owed = (invoice.balance if invoice.status in OVERDUE_STATUSES
                and invoice.type in invoice_queries.CLAIM_TYPES else Decimal(0))
        balances[invoice.currency] = balances.get(invoice.currency, Decimal(0)) + owed
    return render_template(
        "organizer/invoice_list.html", page=page, query=query, totals=totals, balances=balances,
        counts=invoice_queries.status_counts(scope.event), page_sizes=PAGE_SIZES,
        orderings=invoice_queries.BACK_OFFICE_ORDERINGS)


def _customer_choices(scope: Scope, blank: str = "— no customer —") -> list:
    rows = listings.customer_choices(scope.organizer)
    return options([("", blank)] + [
        (reference, f"{name} ({reference})" if name else reference) for reference, name in rows])


def _order_choices(scope: Scope) -> list:
    rows = listings.order_choices(scope.event)
    return options((code, f"{code} · {name}") for code, name in rows)


def _line_defaults(event) -> dict:
    """What a new line starts with: real values, not placeholders (quantity 1, the event's
    default tax rate)."""
    return {"tax_code": "VAT", "quantity": "1", "tax_rate": plain(event.default_tax_rate)}


def _render_invoice_form(scope: Scope, form: InvoiceForm, invoice: Invoice | None = None,
                         status: int = 200):
    from_order = None
    if invoice is None:
        from_order = FromOrderForm()
        from_order.order.choices = _order_choices(scope)
    return render_template(
        "organizer/invoice_form.html", form=form, invoice=invoice, from_order=from_order,
        line_template=LineForm(prefix="lines-__index__-", data=_line_defaults(scope.event)),
        discount_template=DiscountForm(prefix="discounts-__index__-"),
        preview_url=_event_url("organizer.invoice_preview", scope)), status


def _new_invoice_form(scope: Scope, formdata=None) -> InvoiceForm:
    event = scope.event
    defaults = {"type": "invoice", "currency": event.currency, "locale": "",
                "rounding": {"mode": "half_up", "rule": "per_line"},
                "texts": event.texts(), "lines": [_line_defaults(event)]}
    form = InvoiceForm(formdata=formdata, data=defaults)
    form.customer.choices = _customer_choices(scope)
    return form


@bp.route(EVENT + "/invoices/new", methods=["GET", "POST"])
@scoped(Role.MANAGER)
def invoice_new(scope: Scope):
    if request.method == "GET":
        return _render_invoice_form(scope, _new_invoice_form(scope))
    form = _new_invoice_form(scope, request.form)
    if editor_command(form):
        return _render_invoice_form(scope, form)
    data, positions = invoice_input(form, creating=True, locale=current_user.locale)
    try:
        invoice = invoices.create_draft(scope.event, data, actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored, not on the failed attempt
        attach_errors(form, error.fields, positions)
        return _render_invoice_form(scope, form, status=400)
    flash(_("The draft is saved. Check it, then close it to give it a number."), "success")
    return redirect(_invoice_url(scope, invoice), code=303)


@bp.post(EVENT + "/invoices/preview")
@scoped(Role.MANAGER)
def invoice_preview(scope: Scope):
    """The totals of the invoice form as posted, computed by the money engine and shown as
    the invoice page shows them; nothing is stored. 400 with the field problems otherwise."""
    form = _new_invoice_form(scope, request.form)
    data, positions = invoice_input(form, creating=True, locale=current_user.locale)
    try:
        invoice = preview.preview_invoice(scope.event, data)
    except ValidationError as error:
        rollback()
        attach_errors(form, error.fields, positions)
        problems = {field.id: list(field.errors) for field in _walk(form) if field.errors}
        return {"errors": problems, "count": len(error.fields)}, 400
    html = render_template("organizer/_preview_totals.html", invoice=invoice,
                           locale=current_user.locale or "en")
    return {"html": html, "gross_total": str(invoice.gross_total),
            "net_total": str(invoice.net_total), "tax_total": str(invoice.tax_total),
            "currency": invoice.currency}


def _walk(form):
    """Every leaf field of a (nested) form."""
    for field in form:
        if hasattr(field, "entries"):
            for entry in field.entries:
                yield from _walk(entry.form) if hasattr(entry, "form") else [entry]
        elif hasattr(field, "form"):
            yield from _walk(field.form)
        else:
            yield field


@bp.post(EVENT + "/invoices/from-order")
@scoped(Role.MANAGER)
def invoice_from_order(scope: Scope):
    code = (request.form.get("order") or "").strip()
    try:
        invoice = invoices.create_draft(scope.event, {"order": code}, actor=scope.actor)
    except ValidationError as error:
        raise RefusedError(refusal_message(error),
                      to=_event_url("organizer.invoice_new", scope)) from None
    flash(_("A draft with the lines and buyer of order %(code)s is ready.", code=code),
          "success")
    return redirect(_invoice_url(scope, invoice, "organizer.invoice_edit"), code=303)


@bp.route(EVENT + "/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@scoped(Role.MANAGER)
def invoice_edit(scope: Scope, invoice_id: int):
    invoice = permissions.invoice_in_event(scope.event, invoice_id, *INVOICE_LOAD)
    if not invoice.is_draft:
        flash(_("Only drafts can be edited; this invoice is closed."), "error")
        return redirect(_invoice_url(scope, invoice), code=303)
    form = InvoiceForm(formdata=request.form if request.method == "POST" else None,
                       data=invoice_form_data(invoice_to_dict(invoice), invoice))
    form.customer.choices = _customer_choices(scope)
    if request.method == "GET" or editor_command(form):
        return _render_invoice_form(scope, form, invoice)
    data, positions = invoice_input(form, creating=False, locale=current_user.locale)
    try:
        invoices.update_draft(invoice, data, actor=scope.actor)
    except ConflictError as error:
        raise RefusedError(refusal_message(error), to=_invoice_url(scope, invoice)) from None
    except ValidationError as error:
        rollback()  # show the form again on what is stored, not on the failed attempt
        attach_errors(form, error.fields, positions)
        invoice = permissions.invoice_in_event(scope.event, invoice_id)
        return _render_invoice_form(scope, form, invoice, status=400)
    flash(_("The draft is saved."), "success")
    return redirect(_invoice_url(scope, invoice), code=303)


@bp.get(EVENT + "/invoices/<int:invoice_id>")
@scoped()
def invoice_detail(scope: Scope, invoice_id: int):
    return _render_detail(scope, invoice_id)


def _render_detail(scope: Scope, invoice_id: int, payment_form: PaymentForm | None = None,
                   status: int = 200):
    invoice = permissions.invoice_in_event(scope.event, invoice_id, *INVOICE_LOAD,
                                           selectinload(Invoice.sendings))
    history = invoice_queries.invoice_history(invoice)
    credit_notes = invoice_queries.credit_notes_in_event(scope.event, invoice)
    allowed = {a.value for a in allowed_actions(invoice.status, invoice.type)}
    actions = [name for name in LIFECYCLE if name in allowed]
    can_record = "pay" in allowed and invoice.balance > 0
    if payment_form is None and can_record:
        # Prefilled with the balance, as a person types it (JPY 1190, EUR 8.99).
        payment_form = PaymentForm(formdata=None, data={
            "amount": plain(invoice.balance, minor_units(invoice.currency)),
            "date": dt.date.today().isoformat()})
    return render_template(
        "organizer/invoice_detail.html", invoice=invoice, data=invoice_to_dict(invoice),
        history=history, credit_notes=credit_notes, actions=actions,
        can_edit=invoice.is_draft, payment_form=payment_form if can_record else None,
        einvoice=documents.einvoice_enabled(invoice),
        payment_labels=PAYMENT_METHOD_LABELS,
        can_delete_payments=invoice.status != InvoiceStatus.ARCHIVED,
        # A send must be confirmed over a mail that may have arrived (outcome unknown).
        unknown_sending=invoices.unconfirmed_unknown_sending(invoice)), status


@bp.post(EVENT + "/invoices/<int:invoice_id>/payments")
@scoped(Role.MANAGER)
def invoice_payment_new(scope: Scope, invoice_id: int):
    """Record a payment (a refund on a credit note); problems show next to the fields."""
    invoice = permissions.invoice_in_event(scope.event, invoice_id)
    form = PaymentForm()
    data = {name: (form[name].data or "").strip() for name in PAYMENT_FIELDS}
    data["amount"] = delocalize_decimal(data.get("amount"), current_user.locale)
    try:
        payment = payments.record_payment(invoice, data, actor=scope.actor)
    except ConflictError as error:
        raise RefusedError(refusal_message(error), to=_invoice_url(scope, invoice)) from None
    except ValidationError as error:
        rollback()  # show the page again on what is stored, not on the failed attempt
        attach_errors(form, error.fields)
        return _render_detail(scope, invoice_id, payment_form=form, status=400)
    places = minor_units(invoice.currency)
    message = _("A payment of %(amount)s %(currency)s is recorded.",
                amount=plain(payment.amount, places), currency=invoice.currency)
    if invoice.status == InvoiceStatus.PAID:
        message += " " + _("The invoice is paid.")
    flash(message, "success")
    return redirect(_invoice_url(scope, invoice) + "#payments", code=303)


@bp.post(EVENT + "/invoices/<int:invoice_id>/payments/<int:payment_id>/delete")
@scoped(Role.MANAGER)
def invoice_payment_delete(scope: Scope, invoice_id: int, payment_id: int):
    invoice = permissions.invoice_in_event(scope.event, invoice_id)
    try:
        payments.delete_payment(invoice, payment_id, actor=scope.actor)
    except ConflictError as error:
        raise RefusedError(refusal_message(error), to=_invoice_url(scope, invoice)) from None
    flash(_("The payment is deleted."), "success")
    return redirect(_invoice_url(scope, invoice) + "#payments", code=303)


def _close(invoice, scope):
    invoices.close_invoice(invoice, actor=scope.actor)
    return _("Invoice %(number)s is closed; its PDF is being made.", number=invoice.number)


def _send(invoice, scope):
    to = (request.form.get("to") or "").strip() or None
    # After a delivery of unknown outcome the form asks to confirm (invoice_detail.html).
    sending = invoices.send_invoice(invoice, actor=scope.actor, to=to,
                                    confirm=request.form.get("confirm") == "1")
    return _("Invoice %(number)s is on its way to %(to)s.", number=invoice.number,
             to=sending.to)


def _pay(invoice, scope):
    invoices.pay_invoice(invoice, actor=scope.actor)
    if invoice.type == "credit_note":
        return _("Credit note %(number)s is marked as refunded.", number=invoice.number)
    return _("Invoice %(number)s is marked as paid.", number=invoice.number)


def _dispute(invoice, scope):
    invoices.dispute_invoice(invoice, actor=scope.actor, reason=request.form.get("reason", ""))
    return _("Invoice %(number)s is marked as disputed.", number=invoice.number)


def _resolve(invoice, scope):
    invoices.resolve_invoice(invoice, actor=scope.actor)
    return _("The dispute about invoice %(number)s is resolved.", number=invoice.number)


def _cancel(invoice, scope):
    credit = invoices.cancel_invoice(invoice, actor=scope.actor)
    if credit is None:
        return _("%(number)s is cancelled.", number=invoice.number)
    return _("Invoice %(number)s is cancelled; credit note %(credit)s was issued.",
             number=invoice.number, credit=credit.number)


def _archive(invoice, scope):
    invoices.archive_invoice(invoice, actor=scope.actor)
    return _("Invoice %(number)s is archived.", number=invoice.number)


def _delete(invoice, scope):
    invoices.delete_draft(invoice, actor=scope.actor)
    return _("The draft is deleted.")


# In the order the buttons are shown: the usual next step first, destruction last.
LIFECYCLE = {"close": _close, "send": _send, "pay": _pay, "dispute": _dispute,
             "resolve": _resolve, "cancel": _cancel, "archive": _archive, "delete": _delete}


@bp.post(EVENT + "/invoices/<int:invoice_id>/<any(" + ",".join(LIFECYCLE) + "):action>")
@scoped(Role.MANAGER)
def invoice_action(scope: Scope, invoice_id: int, action: str):
    """One lifecycle step per button; a refusal flashes why and changes nothing."""
    invoice = permissions.invoice_in_event(scope.event, invoice_id)
    try:
        message = LIFECYCLE[action](invoice, scope)
    except (ConflictError, ValidationError) as error:
        raise RefusedError(refusal_message(error), to=_event_url(
            "organizer.invoice_detail", scope, invoice_id=invoice_id)) from None
    flash(message, "success")
    if action == "delete":
        return redirect(_event_url("organizer.invoice_list", scope), code=303)
    return redirect(_event_url("organizer.invoice_detail", scope, invoice_id=invoice_id),
                    code=303)


@bp.get(EVENT + "/invoices/<int:invoice_id>/pdf")
@scoped()
def invoice_pdf(scope: Scope, invoice_id: int):
    """The document of record (a draft: a fresh preview stamped DRAFT)."""
    invoice = permissions.invoice_in_event(scope.event, invoice_id, *INVOICE_LOAD)
    try:
        return pdf_response(invoice, as_attachment=request.args.get("download") == "1")
    except DocumentPendingError as pending:
        # 409 like the API: not an error of the request, a state that passes on its own.
        response = make_response(render_template(
            "organizer/invoice_pending.html", invoice=invoice, retry_after=pending.retry_after),
            409)
        response.headers["Retry-After"] = str(pending.retry_after)
        response.headers["Cache-Control"] = "no-store"
        return response


@bp.post(EVENT + "/invoices/<int:invoice_id>/einvoice-check")
@scoped()
def invoice_check(scope: Scope, invoice_id: int):
    """Run the e-invoice rules on a draft (SPEC §11 "check"); nothing changes."""
    invoice = permissions.invoice_in_event(scope.event, invoice_id, *INVOICE_LOAD)
    back = _event_url("organizer.invoice_detail", scope, invoice_id=invoice_id)
    try:
        answer = invoices.check_invoice(invoice)
    except ConflictError as error:
        raise RefusedError(refusal_message(error), to=back) from None
    if not answer["einvoice"]:
        flash(_("This document gets no e-invoice (a proforma, e-invoicing off for the event, or "
                "a currency with three decimals)."), "info")
    elif answer["valid"]:
        flash(_("The e-invoice passes XSD and the EN 16931 rules (CII and UBL)."), "success")
    else:
        flash(_("The e-invoice does not pass the EN 16931 rules; closing would be refused.") + " "
              + " ".join(f"{rule}: {message}" for rule, message in answer["fields"].items()),
              "error")
    return redirect(back, code=303)


@bp.get(EVENT + "/invoices/<int:invoice_id>/xml")
@scoped()
def invoice_xml(scope: Scope, invoice_id: int):
    """The stored CII (`?syntax=cii`, the default) or UBL of a closed invoice."""
    invoice = permissions.invoice_in_event(scope.event, invoice_id)
    syntax = request.args.get("syntax", "cii")
    if syntax not in ("cii", "ubl"):
        raise ValidationError({"syntax": [_("Choose cii or ubl.")]})
    return xml_response(invoice, syntax)


# ---------------------------------------------------------------- orders


@bp.get(EVENT + "/orders")
@scoped()
def order_list(scope: Scope):
    search = (request.args.get("q") or "").strip()
    page = listings.back_office_orders(scope.event, search=search,
                                       page=invoice_queries.page_number(request.args))
    invoiced = invoice_queries.invoices_by_order(scope.event, [o.id for o in page.items])
    return render_template("organizer/order_list.html", page=page, invoiced=invoiced,
                           search=search)


def _order_form(scope: Scope, formdata=None) -> OrderForm:
    form = OrderForm(formdata=formdata, data={"lines": [_line_defaults(scope.event)]})
    form.customer.choices = _customer_choices(scope, blank="— choose —")
    return form


def _render_order_form(scope: Scope, form: OrderForm, status: int = 200):
    return render_template(
        "organizer/order_form.html", form=form,
        line_template=OrderLineForm(prefix="lines-__index__-",
                                    data=_line_defaults(scope.event))), status


@bp.route(EVENT + "/orders/new", methods=["GET", "POST"])
@scoped(Role.MANAGER)
def order_new(scope: Scope):
    form = _order_form(scope, request.form if request.method == "POST" else None)
    if request.method == "GET" or editor_command(form):
        return _render_order_form(scope, form)
    lines, rows = rows_input(form.lines, ignore=("tax_code", "tax_rate"),
                             prefilled={"quantity": "1"})
    for item in lines:
        for key in ("quantity", "unit_price", "tax_rate"):
            item[key] = delocalize_decimal(item.get(key), current_user.locale)
    data = {"code": (form.code.data or "").strip(), "customer": form.customer.data,
            "placed_at": form.placed_at.data or None, "lines": lines}
    try:
        order = orders.create_order(scope.event, data, actor=scope.actor)
    except ValidationError as error:
        rollback()  # show the form again on what is stored, not on the failed attempt
        attach_errors(form, error.fields, {"lines": rows})
        return _render_order_form(scope, form, 400)
    flash(_("Order %(code)s is saved.", code=order.code), "success")
    return redirect(_event_url("organizer.order_detail", scope, order_id=order.id), code=303)


def _order_in_event(scope: Scope, order_id: int) -> Order:
    return listings.order_of_event(scope.event, order_id)


@bp.get(EVENT + "/orders/<int:order_id>")
@scoped()
def order_detail(scope: Scope, order_id: int):
    order = _order_in_event(scope, order_id)
    made = invoice_queries.invoices_of_order(scope.event, order.id)
    return render_template("organizer/order_detail.html", order=order, invoices=made)
