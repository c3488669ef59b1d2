"""The start page: enter a customer key, or sign in as an organizer."""

from flask import Blueprint, render_template

from .customer.forms import KeyForm
from .customer.session import current_customer

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return render_template("main/index.html", form=KeyForm(), customer=current_customer())


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
