"""Step 1b and 2: the PDF bytes from a context (xhtml2pdf), then post-processing.

Pure: no database access. The link callback and xhtml2pdf's resource policy confine every
fetch to the files under static/, with the network switched off. engine.py runs xhtml2pdf
with the fonts and static style sheets built once per process (issue 16).
"""

from __future__ import annotations

import io
import re

import pikepdf
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ...config import ROOT
from . import engine
from .engine import FONT_DIR

TEMPLATE_DIR = ROOT / "templates"


def _nl2br(value: str) -> Markup:
    """Free text with its line breaks kept: escaped first, then joined with <br/>."""
    return Markup("<br/>").join(escape(part) for part in str(value).splitlines())


_templates = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    # Escaped everywhere but in the plain-text part of a mail.
    autoescape=select_autoescape(["html", "xml"], disabled_extensions=["txt"],
                                 default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_templates.filters["nl2br"] = _nl2br


def render_template_file(name: str, **context) -> str:
    """Render a file under templates/ without needing an app (workers, benchmarks)."""
    return _templates.get_template(name).render(**context)


def _link_callback(uri: str, _rel) -> str:
    """Serve only files under static/ (fonts); anything else is left to be refused."""
    if uri.startswith(("fonts/", "static/fonts/")):
        candidate = (FONT_DIR / uri.rsplit("/", 1)[-1]).resolve()
        if candidate.parent == FONT_DIR and candidate.is_file():
            return str(candidate)
    # The resource policy below refuses this (no network, no reads outside static/).
    return uri


#: Whitespace from one tag to the next across a line break: the template's own indentation
#: (free text is escaped, so it has no "<" or ">"). Each such run is a DOM text node that
#: xhtml2pdf walks and styles for nothing: ~3 % of a one-page render. A space written
#: between two inline tags on one line is kept.
_INDENTATION = re.compile(r">[ \t]*\n\s*<")


def render_pdf(template: str, context: dict) -> bytes:
    """Any PDF template under templates/pdf/ with the same fonts, confinement and escaping."""
    html = _INDENTATION.sub("><", render_template_file(template, **context))
    pdf, errors = engine.convert(html, link_callback=_link_callback)
    if errors:
        raise RuntimeError(f"the PDF {template} could not be rendered ({errors} errors)")
    return pdf


#: Lines the first page and each further page hold, about: measured with bench/pdf.py's lines
#: (a description and a SKU each), which match the page counts from 1 to 300 lines. Only the
#: first guess at the page count comes from it; a wrong guess costs one more layout.
_FIRST_PAGE_LINES, _PAGE_LINES = 15, 25


def _page_guess(context: dict) -> int:
    extra = len(context.get("lines") or ()) - _FIRST_PAGE_LINES
    return 1 if extra <= 0 else 2 + (extra - 1) // _PAGE_LINES


def render_invoice_pdf(context: dict) -> bytes:
    """Render the PDF for a context made by `build_pdf_context`. Pure: no database access.

    "Page x of y" without xhtml2pdf's <pdf:pagecount>, which lays the whole document out
    twice (a second pass only to learn y). The template gets y as `page_count`: a guess
    from the number of lines, checked against the pages that came out. The footer is a
    static frame of fixed size, so y cannot move a page break: a wrong guess is rendered
    once more with the right count, never shown."""
    guess = _page_guess(context)
    pdf = render_pdf("pdf/invoice.html", {**context, "page_count": guess})
    pages = count_pages(pdf)
    if pages != guess:
        pdf = render_pdf("pdf/invoice.html", {**context, "page_count": pages})
    return pdf


# ---------------------------------------------------------------- step 2: post-process


def postprocess_pdf(pdf: bytes, context: dict) -> bytes:
    """The rendered PDF made the document of record: a PDF/A-3b, with the CII embedded as
    factur-x.xml when the context carries the e-invoice (`context["einvoice"]` = (CII, UBL))."""
    from .pdfa import make_facturx

    xmls = context.get("einvoice")
    return make_facturx(pdf, xmls[0] if xmls else None,
                        title=context.get("document_title") or "Invoice")


def count_pages(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def make_pdf(context: dict) -> bytes:
    """Render and post-process: the bytes `store_pdf` keeps. No database access."""
    return postprocess_pdf(render_invoice_pdf(context), context)
