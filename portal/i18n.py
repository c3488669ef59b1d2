"""Gettext for every text a person reads: `_()` in Python, `{% trans %}`/`_()` in templates.

The catalogs are `translations/<locale>/LC_MESSAGES/messages.po` at the repository's root
(English is the source language); `make setup`/`make run` compile them to `.mo` files
(`pybabel compile -d translations`), which are not committed. Refresh them after changing
texts: `make translations` (extract with babel.cfg, then update every catalog).

The locale of a page (SPEC §14), first that we speak of:

1. the signed-in customer's (customer area) or user's (back office) preferred locale;
2. the best match of `Accept-Language`;
3. the event's locale, when the page belongs to one event (`g.event_locale`);
4. `BABEL_DEFAULT_LOCALE` (English).

`<html lang>` says the language actually shown (`html_lang()`): a locale without a compiled
catalog is shown in English, so the page says `en` then, never a language it is not in.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import (
    Babel,
    force_locale,
    get_locale,
    get_translations,
    gettext,
    lazy_gettext,
    ngettext,
    refresh,
)

from .config import ROOT

SUPPORTED_LOCALES = ("en", "de", "it", "tr", "fr", "es")
DEFAULT_LOCALE = "en"
TRANSLATIONS = ROOT / "translations"

_ = gettext
_l = lazy_gettext

# An invoice's status as a person reads it.
STATUS_WORDS = {"draft": _l("Draft"), "open": _l("Open"), "sent": _l("Sent"), "paid": _l("Paid"),
                "disputed": _l("Disputed"), "cancelled": _l("Cancelled"),
                "archived": _l("Archived")}

__all__ = ["N_", "SUPPORTED_LOCALES", "_", "_l", "html_lang", "in_locale", "init_i18n",
           "ngettext", "shown_locale", "supported", "translate"]


def supported(locale: str | None) -> str | None:
    """The supported language of a locale string (`de_AT`, `de-AT` -> `de`), or None."""
    language = (locale or "").replace("-", "_").split("_")[0].lower()
    return language if language in SUPPORTED_LOCALES else None


def _preferred() -> str | None:
    customer = g.get("customer")
    if customer is not None:
        return supported(getattr(customer, "locale", None))
    try:
        from flask_login import current_user
        if current_user and current_user.is_authenticated:
            return supported(getattr(current_user, "locale", None))
    except Exception:  # noqa: BLE001 - no login manager on this app: no user
        return None
    return None


def select_locale() -> str:
    """SPEC §14's order: preferred, Accept-Language, the event's, the default."""
    if not has_request_context():
        return DEFAULT_LOCALE
    return (_preferred()
            or request.accept_languages.best_match(SUPPORTED_LOCALES)
            or supported(g.get("event_locale"))
            or DEFAULT_LOCALE)


def _page_translations():
    """flask_babel's translations of this context, kept beside the locale they were found
    for: a `force_locale` (a mail in its reader's language) or a `refresh` changes that
    locale object, and then they are looked up again."""
    state = g.get("_flask_babel") if g else None
    if state is not None:
        kept = getattr(state, "portal_translations", None)
        if kept is not None and kept[0] is getattr(state, "babel_locale", None):
            return kept[1]
    translations = get_translations()
    state = g.get("_flask_babel") if g else None
    if state is not None:
        state.portal_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def use_event_locale(locale: str | None) -> None:
    """This page belongs to one event: its locale is the last choice (SPEC §14)."""
    g.event_locale = locale
    refresh()  # a locale chosen before this was known is chosen again


def has_catalog(language: str) -> bool:
    if language == DEFAULT_LOCALE:
        return True
    directory = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")[0])
    return (directory / language / "LC_MESSAGES" / "messages.mo").is_file()


def shown_locale() -> str:
    """The language this request's texts are actually in (English without a catalog)."""
    language = supported(str(get_locale() or DEFAULT_LOCALE)) or DEFAULT_LOCALE
    return language if has_catalog(language) else DEFAULT_LOCALE


def status_label(status: str) -> str:
    word = STATUS_WORDS.get(status)
    return str(word) if word is not None else (status or "").capitalize()


def html_lang() -> str:
    return shown_locale()


@contextmanager
def in_locale(locale: str | None):
    """Texts for someone else than the request's reader (a mail, a PDF) in their language:
    their locale when we speak it, else English."""
    language = supported(locale) or DEFAULT_LOCALE
    if not has_catalog(language):
        language = DEFAULT_LOCALE
    with force_locale(language):
        yield language


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "extract, translate later"
    """Mark a msgid for extraction where it is translated later (`translate`)."""
    return message


@lru_cache(maxsize=16)
def _catalog(language: str):
    from babel.support import NullTranslations, Translations

    if language == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [language], domain="messages")


def translate(locale: str | None, message: str, **values) -> str:
    """`message` in `locale`'s language (English when we have no catalog for it), without
    needing an app: documents of record and mails are made by workers and tests too."""
    text = _catalog(supported(locale) or DEFAULT_LOCALE).gettext(message)
    return text % values if values else text


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[Path]:
    """Compile every `messages.po` under `directory` whose `.mo` is missing or older (what
    `pybabel compile` does; used by tests and `flask i18n-compile`)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        # Written aside and renamed: a reader (another test worker) never sees half a file.
        temp = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
        with temp.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(temp, mo_path)
        written.append(mo_path)
    if written:
        _catalog.cache_clear()
    return written


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=select_locale)
    # `{% trans %}` blocks are trimmed, as babel.cfg extracts them (one msgid per text,
    # whatever the template's line breaks).
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # Templates translate through the request's catalog looked up once, not once per text
    # (issue 16: flask_babel's lookup went through the locals four times and formatted the
    # locale each time, a third of the customer's list page).
    app.jinja_env.install_gettext_callables(
        gettext=lambda message: _page_translations().ugettext(message),
        ngettext=lambda singular, plural, n: _page_translations().ungettext(singular,
                                                                            plural, n),
        newstyle=True)
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["shown_locale"] = shown_locale
