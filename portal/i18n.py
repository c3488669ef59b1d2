"""Gettext for every text a person reads: `_()` in Python, `{% trans %}`/`_()` in templates.

Flask-Babel finds catalogs under `portal/translations` (none yet: English is the source
language). The locale is the user's choice when the request has one, else the best match of
`Accept-Language` among the locales we speak, else `BABEL_DEFAULT_LOCALE`.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel, gettext, lazy_gettext, ngettext

SUPPORTED_LOCALES = ("en", "de", "it", "tr")

_ = gettext
_l = lazy_gettext

__all__ = ["SUPPORTED_LOCALES", "_", "_l", "init_i18n", "ngettext"]


def _select_locale() -> str | None:
    return request.accept_languages.best_match(SUPPORTED_LOCALES) if request else None


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    Babel(app, locale_selector=_select_locale)
