"""The organizer back office (`/login`, `/logout`, `/org/…`)."""

import datetime as dt
from urllib.parse import urlencode

from flask import Blueprint, g, request
from flask_login import current_user

bp = Blueprint("organizer", __name__)


@bp.context_processor
def _template_context() -> dict:
    from ..domain.lifecycle import InvoiceStatus
    from ..i18n import shown_locale
    from .forms import ROLE_LABELS, TYPE_LABELS

    # Amounts and dates in the language the page is shown in (the user's, SPEC §14).
    locale = shown_locale()
    return {
        "scope": g.get("scope"),
        "ui_locale": locale,
        "TYPE_LABELS": TYPE_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "STATUSES": [s.value for s in InvoiceStatus],
        "url_with": url_with,
    }


def url_with(**changes) -> str:
    """This page's address with some query arguments changed (None or "" drops one)."""
    args = request.args.to_dict()
    args.update(changes)
    args = {key: value for key, value in args.items() if value not in (None, "")}
    return request.path + ("?" + urlencode(args) if args else "")


from . import admin, auth, expired, views, webhooks  # noqa: E402,F401 - routes register on import


@bp.app_template_filter("timestamp")
def timestamp(value, locale: str | None = "en") -> str:
    """A moment as date and time in the user's time zone (UTC unless they chose one),
    written for `locale`: 24-hour where the locale writes it so (babel's formats)."""
    from babel.dates import format_datetime, get_timezone

    from ..formatting import babel_locale

    if value is None:
        return ""
    zone = ""
    if current_user and current_user.is_authenticated:
        zone = getattr(current_user, "timezone", "") or ""
    where = babel_locale(locale)
    if not zone:
        return format_datetime(value, "medium", tzinfo=dt.UTC, locale=where) + " UTC"
    tz = get_timezone(zone)
    return (format_datetime(value, "medium", tzinfo=tz, locale=where) + " "
            + format_datetime(value, "z", tzinfo=tz, locale=where))
