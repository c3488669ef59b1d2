"""The start page: enter a customer key, or sign in as an organizer."""

from flask import Blueprint, render_template, request

from .customer.forms import KeyForm, RecoveryForm
from .customer.session import current_customer, invoice_scope

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    customer = current_customer()
    form = KeyForm()
    form.next.data = request.args.get("next", "")
    # A session from an invoice link opens one invoice: the key form stays on offer.
    return render_template("main/index.html", form=form, recovery_form=RecoveryForm(),
                           customer=customer if invoice_scope() is None else None)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
