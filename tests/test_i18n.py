"""Every page in the reader's language (SPEC §14): complete catalogs, the locale order,
`<html lang>` saying the language shown, babel's formats, event texts per language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal import jobs
from portal.i18n import SUPPORTED_LOCALES, TRANSLATIONS
from portal.services import invoices, organizers
from tests.conftest import make_app
from tests.factories import ACTOR

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None,
            "lazy_gettext": None, "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%|\{[a-z_]*\}")


def _extracted() -> dict[str, str]:
    """Every msgid of the templates and the code, read as `make translations` reads them."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, str] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=lambda path: not Path(path).name.startswith(".")
            and Path(path).name not in ("node_modules", "__pycache__")):
        for msgid in (message if isinstance(message, tuple) else (message,)):
            if msgid:
                found.setdefault(msgid, filename)
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[str, str]:
    return _extracted()


def _catalog(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def test_extraction_finds_the_code_and_the_templates(extracted):
    # One of each kind: a label (N_), a form label (_l), a flash (_), a template, a macro.
    for msgid in ("Bill to", "Customer key", "You are signed out.", "Download PDF",
                  "Page %(page)s of %(pages)s"):
        assert msgid in extracted, msgid


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_catalog_has_every_text_translated_with_its_placeholders(extracted, locale):
    catalog = _catalog(locale)
    missing = [m for m in extracted if m not in catalog]
    assert not missing, f"{locale}: not in the catalog (run `make translations`): {missing}"
    problems = []
    for msgid in extracted:
        message = catalog[msgid]
        text = message.string
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if not text:
            if locale != "en":  # English is the source language: "" means "as written"
                problems.append(f"untranslated: {msgid!r}")
            continue
        if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(msgid)):
            problems.append(f"placeholders differ: {msgid!r} -> {text!r}")
    assert not problems, f"{locale}: " + "; ".join(problems)


def test_a_broken_placeholder_would_be_caught():
    msgid, good, bad = "Issued %(date)s", "Ausgestellt am %(date)s", "Ausgestellt am %(datum)s"
    assert sorted(PLACEHOLDER.findall(good)) == sorted(PLACEHOLDER.findall(msgid))
    assert sorted(PLACEHOLDER.findall(bad)) != sorted(PLACEHOLDER.findall(msgid))


def test_no_css_upper_cases_text():
    # Upper-casing under lang="tr" turns "i" into "İ" (BİLL TO); and translated text is not
    # ours to re-case.
    for sheet in (ROOT / "static").glob("*.css"):
        assert "uppercase" not in sheet.read_text(), sheet.name


# ---------------------------------------------------------------- which language a page is in


def _lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_accept_language_picks_the_page_language(client):
    german = client.get("/", headers={"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"})
    html = german.get_data(as_text=True)
    assert _lang(html) == "de" and "Meine Rechnungen öffnen" in html
    turkish = client.get("/", headers={"Accept-Language": "tr"}).get_data(as_text=True)
    assert _lang(turkish) == "tr" and "Faturalarımı aç" in turkish
    unknown = client.get("/", headers={"Accept-Language": "pt-BR"}).get_data(as_text=True)
    assert _lang(unknown) == "en" and "Open my invoices" in unknown


def test_the_customers_locale_comes_before_accept_language(client, make):
    customer = make.customer(make.organizer(), locale="it")
    jobs.commit()
    client.get(f"/my/access/{customer.plain_key}")
    page = client.get("/my/invoices", headers={"Accept-Language": "tr"}).get_data(as_text=True)
    assert _lang(page) == "it" and "Le mie fatture" in page


def test_the_events_locale_comes_last(client, make):
    organizer = make.organizer()
    event = make.event(organizer, locale="es")
    customer = make.customer(organizer, locale="pt")  # a language we do not speak
    invoice = make.closed(event, customer, locale="pt")
    jobs.commit()
    client.get(f"/my/access/{customer.plain_key}")
    page = client.get(f"/my/invoices/{invoice.id}").get_data(as_text=True)
    assert _lang(page) == "es" and "Descargar PDF" in page
    # Accept-Language comes before the event's.
    page = client.get(f"/my/invoices/{invoice.id}", headers={"Accept-Language": "fr"})
    assert _lang(page.get_data(as_text=True)) == "fr"


def test_the_users_locale_rules_the_back_office(client, make):
    organizer = make.organizer()
    user = make.member(organizer, email="tr-user@example.com")
    user.locale = "tr"
    jobs.commit()
    from .organizer.conftest import sign_in  # noqa: PLC0415 - the back office's sign-in helper
    sign_in(client, user)
    page = client.get("/org/", headers={"Accept-Language": "de"}, follow_redirects=True)
    assert _lang(page.get_data(as_text=True)) == "tr"


def test_without_a_catalog_the_page_is_english_and_says_so(database_url, tmp_path, make):
    bare = make_app(database_url, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    html = bare.test_client().get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert _lang(html) == "en" and "Open my invoices" in html


def test_error_pages_are_translated(client):
    html = client.get("/nowhere", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert _lang(html) == "de"
    assert "Nicht gefunden" in html and "Die gewünschte Seite gibt es nicht" in html


# ---------------------------------------------------------------- formats and event texts


def test_amounts_dates_and_countries_follow_the_page_language(client, make):
    organizer = make.organizer()
    event = make.event(organizer)
    customer = make.customer(organizer, locale="de")
    invoice = make.closed(event, customer, lines=[
        {"description": "Ticket", "quantity": "1", "unit_price": "1234.50", "tax_rate": "0"}])
    jobs.commit()
    client.get(f"/my/access/{customer.plain_key}")
    html = " ".join(client.get(f"/my/invoices/{invoice.id}").get_data(as_text=True).split())
    # 1 × 1234.50 at 0 % = 1234.50, written the German way by babel: "1.234,50 €".
    assert "1.234,50\xa0€" in html or "1.234,50 €" in html
    assert "Vereinigtes Königreich" in html  # the buyer's GB, named in German
    assert "Bill to" not in html


def test_event_texts_per_language_fall_back_to_the_default(app, make):
    organizer = make.organizer()
    event = make.event(organizer, locale="en", payment_text="Pay within 14 days.",
                       footer_text="Thank you!")
    organizers.update_event(event, {"texts_by_locale": {
        "de": {"payment": "Zahlbar innerhalb von 14 Tagen."}}}, actor=ACTOR)
    assert event.texts("de")["payment"] == "Zahlbar innerhalb von 14 Tagen."
    assert event.texts("de_AT")["payment"] == "Zahlbar innerhalb von 14 Tagen."
    assert event.texts("de")["footer"] == "Thank you!"  # not given in German: the default
    assert event.texts("tr")["payment"] == "Pay within 14 days."

    # A draft whose language changes to German takes the German text, unless edited.
    customer = make.customer(organizer, locale="de")
    draft = make.invoice(event, customer)
    assert draft.locale == "de" and draft.payment_text == "Zahlbar innerhalb von 14 Tagen."
    invoices.update_draft(draft, {"locale": "en"}, actor=ACTOR)
    assert draft.payment_text == "Pay within 14 days."
    invoices.update_draft(draft, {"texts": {"payment": "Cash only."}}, actor=ACTOR)
    invoices.update_draft(draft, {"locale": "de"}, actor=ACTOR)
    assert draft.payment_text == "Cash only."  # an edited text stays


def test_event_texts_per_language_are_checked(app, make):
    event = make.event(make.organizer())
    from portal.errors import ValidationError
    with pytest.raises(ValidationError) as caught:
        organizers.update_event(event, {"texts_by_locale": {
            "xx": {"payment": "?"}, "de": {"colour": "rot", "payment": 5}}}, actor=ACTOR)
    assert set(caught.value.fields) == {"texts_by_locale.xx", "texts_by_locale.de.colour",
                                        "texts_by_locale.de.payment"}


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_catalog_passes_the_checks_of_pybabel_compile(locale):
    # `make setup` runs `pybabel compile`, which refuses a catalog that fails these checks
    # (e.g. "% off" read as a python-format with an 'o' conversion).
    problems = [(message.id, [str(error) for error in errors])
                for message, errors in _catalog(locale).check()]
    assert problems == []
