"""The customer area: a customer key opens the customer's own closed invoices, nothing else.

Every invoice is loaded through the signed-in customer (`permissions.invoice_of_customer`), so
another customer's invoice, another organizer's, a draft and a missing id are the same 404.
"""

from __future__ import annotations

from flask import (
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from .. import ratelimits
from ..domain.lifecycle import Action, allowed_actions
from ..downloads import pdf_response, statement_pdf_response, xml_response
from ..errors import ConflictError, ValidationError
from ..i18n import _
from ..models import Invoice
from ..services import invoice_queries, invoices, statements
from ..services.audit import Actor
from ..services.customers import customer_for_key, end_sessions
from ..services.documents import PENDING_RETRY_AFTER, DocumentPendingError
from ..services.invoice_queries import INVOICE_LOAD
from ..services.permissions import invoice_of_customer
from ..services.representation import invoice_to_dict
from ..sessions import renew_session_id
from ..unit_of_work import RefusedError
from . import bp
from .archive import build_invoices_zip, zip_filename
from .forms import TYPE_LABELS, WRONG_KEY, DisputeForm, InvoiceFilterForm, KeyForm
from .redaction import install_log_redaction
from .session import ENDED_EVERYWHERE, current_customer, sign_in, sign_out

DEFAULT_ACCESS_LIMIT = ratelimits.DEFAULT_LIMITS["CUSTOMER_ACCESS_RATE_LIMIT"]
OPEN_ENDPOINTS = {"customer.access_form", "customer.access_link", "customer.sign_out"}


@bp.record_once
def _redact_server_logs(state) -> None:
    install_log_redaction()


def _access_limit():
    return ratelimits.limit("CUSTOMER_ACCESS_RATE_LIMIT", DEFAULT_ACCESS_LIMIT)


def _wrong_key() -> None:
    """Count a wrong key against this address (the form and the magic link share one budget);
    past the budget the answer is 429. A right key is never refused: keys carry at least 128
    random bits, so the budget only makes scanning visible, and refusing right keys would
    let anyone behind the same address lock its customers out (portal/ratelimits)."""
    g.wrong_key = True
    item, key = _access_limit(), ("customer-access", request.remote_addr or "unknown")
    ratelimits.refuse([(item, key)])
    ratelimits.count_failure(item, *key)


@bp.before_request
def _require_customer():
    customer = current_customer()
    g.html_lang = customer.locale if customer else "en"
    if customer is None and request.endpoint not in OPEN_ENDPOINTS:
        if g.get("session_ended") == ENDED_EVERYWHERE:
            flash(_("You were signed out on every device. Enter your key to sign in again."),
                  "info")
        elif g.get("session_ended"):
            flash("Your access has ended because your customer key was changed. "
                  "Enter your new key.", "error")
        else:
            flash("Enter your customer key to see your invoices.", "info")
        return redirect(url_for("main.index"), 303)
    return None


@bp.after_request
def _private(response):
    # The magic link's key must not leave in a Referer header, and pages with a customer's
    # invoices must not stay in shared caches or the browser's back/forward cache.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = response.headers.get("Cache-Control") or "no-store"
    return response


@bp.context_processor
def _customer_context() -> dict:
    customer = g.get("customer")
    return {"customer": customer, "locale": customer.locale if customer else "en",
            "type_labels": TYPE_LABELS}


# ---------------------------------------------------------------- signing in and out


@bp.post("/access")
def access_form():
    form = KeyForm()
    if form.validate_on_submit():
        customer = customer_for_key(form.key.data.strip())
        if customer is not None:
            sign_in(customer)
            return redirect(url_for(".invoice_list"), 303)
        form.key.errors = [WRONG_KEY]
    if form.key.data:
        _wrong_key()
    status = 401 if g.get("wrong_key") else 400
    return render_template("main/index.html", form=form), status


@bp.get("/access/<key>")
def access_link(key: str):
    """The magic link: sign in, then redirect so the key leaves the address bar."""
    customer = customer_for_key(key)
    if customer is None:
        _wrong_key()
        flash(WRONG_KEY, "error")
        return redirect(url_for("main.index"), 303)
    sign_in(customer)
    return redirect(url_for(".invoice_list"), 303)


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_view():
    """Sign out this browser; with `everywhere`, every session of the customer ends too (the
    key keeps working)."""
    customer = g.get("customer")
    everywhere = bool(request.form.get("everywhere")) and customer is not None
    if everywhere:
        end_sessions(customer)
    sign_out()
    flash(_("You are signed out everywhere.") if everywhere else _("You are signed out."),
          "success")
    # The old id is deleted from the store: a copy of the cookie opens nothing afterwards. An
    # organizer signed in in the same browser carries on under the new id.
    renew_session_id()
    return redirect(url_for("main.index"), 303)


# ---------------------------------------------------------------- invoices


@bp.get("/")
def home():
    return redirect(url_for(".invoice_list"))


@bp.get("/invoices")
def invoice_list():
    form = InvoiceFilterForm(formdata=request.args)
    if not form.validate():
        raise ValidationError(form.errors, "These filters are not valid.")
    filters = form.filters()
    page = invoice_queries.customer_invoice_page(g.customer, **filters)
    kept = {k: v for k, v in filters.items() if v and k != "page"}

    def url_with(**changes) -> str:
        return url_for(".invoice_list", **{**kept, **changes})

    return render_template("customer/invoice_list.html", form=form, page=page,
                           filtered=bool(kept), url_with=url_with)


@bp.get("/invoices/<int:invoice_id>")
def invoice_detail(invoice_id: int):
    invoice = invoice_of_customer(g.customer, invoice_id, *INVOICE_LOAD)
    return _render_detail(invoice, DisputeForm())


@bp.post("/invoices/<int:invoice_id>/dispute")
def invoice_dispute(invoice_id: int):
    invoice = invoice_of_customer(g.customer, invoice_id, *INVOICE_LOAD)
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            invoices.dispute_invoice(invoice, actor=Actor.customer(g.customer),
                                     reason=form.reason.data)
        except ConflictError as exc:
            raise RefusedError(f"{exc.message} Nothing was changed.",
                          to=url_for(".invoice_detail", invoice_id=invoice.id)) from None
        except ValidationError as exc:
            form.reason.errors = [m for msgs in exc.fields.values() for m in msgs]
        else:
            flash("Thank you. The invoice is now marked as disputed and the organizer has been "
                  "told why.", "success")
            return redirect(url_for(".invoice_detail", invoice_id=invoice.id), 303)
    return _render_detail(invoice, form), 400


def _render_detail(invoice: Invoice, form: DisputeForm):
    return render_template(
        "customer/invoice_detail.html", invoice=invoice, data=invoice_to_dict(invoice), form=form,
        can_dispute=Action.DISPUTE in allowed_actions(invoice.status, invoice.type),
        credit_notes=invoice_queries.credit_notes_of(g.customer, invoice))


@bp.get("/invoices/<int:invoice_id>/pdf")
def invoice_pdf(invoice_id: int):
    invoice = invoice_of_customer(g.customer, invoice_id)
    try:
        return pdf_response(invoice)
    except DocumentPendingError as exc:
        retry_after = exc.retry_after or PENDING_RETRY_AFTER
        response = make_response(render_template("customer/document_pending.html",
                                                 invoice=invoice, retry_after=retry_after), 409)
        response.headers["Retry-After"] = str(retry_after)
        return response


@bp.get("/statement")
def statement():
    """The customer's statement of account over all events of its organizer; `format=pdf`
    gives the PDF. A bad date is a 400 with the problem next to its field."""
    customer = g.customer
    try:
        start, end = statements.clean_period(request.args)
    except ValidationError as error:
        return render_template("customer/statement.html", statement=None,
                               errors=error.fields, labels={}), 400
    built = statements.build_statement(customer, start, end)
    if request.args.get("format") == "pdf":
        return statement_pdf_response(built, locale=customer.locale or "en",
                                      seller=customer.organizer.seller or {})
    return render_template("customer/statement.html", statement=built, errors={},
                           labels=statements.statement_labels())


@bp.get("/invoices/<int:invoice_id>/xml")
def invoice_xml(invoice_id: int):
    """The stored CII (default) or UBL of one of the customer's invoices (SPEC §11)."""
    invoice = invoice_of_customer(g.customer, invoice_id)
    syntax = request.args.get("syntax", "cii")
    if syntax not in ("cii", "ubl"):
        raise ValidationError({"syntax": ["Choose cii or ubl."]})
    return xml_response(invoice, syntax)


@bp.get("/invoices.zip")
def invoices_zip():
    archive = build_invoices_zip(g.customer)
    if archive is None:
        flash("None of your PDFs is ready yet. Please try again in a moment.", "info")
        return redirect(url_for(".invoice_list"), 303)
    return send_file(archive, mimetype="application/zip", as_attachment=True,
                     download_name=zip_filename(g.customer), max_age=0)
