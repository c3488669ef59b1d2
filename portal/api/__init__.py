"""The api blueprint: the JSON API of SPEC §6 under /api/v1 (see views.py)."""

import click
from flask import Blueprint

bp = Blueprint("api", __name__)

from .. import unit_of_work  # noqa: E402
from . import views, webhooks  # noqa: E402,F401 - routes register on import
from .idempotency import purge_expired  # noqa: E402


@bp.cli.command("purge-idempotency-keys")
@unit_of_work.command
def purge_idempotency_keys() -> None:
    """Forget Idempotency-Key answers older than 24 hours (safe to run any time, e.g. daily)."""
    removed = purge_expired()
    click.echo(f"Removed {removed} idempotency record(s) older than 24 hours.")
