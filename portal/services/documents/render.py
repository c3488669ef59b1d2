"""Step 1b and 2: the PDF bytes from a context (xhtml2pdf), then post-processing.

Pure: no database access. The link callback and xhtml2pdf's resource policy confine every
fetch to the fonts and files under static/, with the network switched off.
"""

from __future__ import annotations

import io

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ...config import ROOT

STATIC_DIR = (ROOT / "static").resolve()
FONT_DIR = STATIC_DIR / "fonts"
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


def _resource_policy():
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    # server(): every limit on, reads confined to static/. The template is ours and an invoice
    # has at most 1000 lines (~45 pages), so the time limit is a guard, not a budget.
    return ResourceAccessPolicy.server(base_dir=STATIC_DIR, allow_remote=False,
                                       max_render_seconds=300)


def render_pdf(template: str, context: dict) -> bytes:
    """Any PDF template under templates/pdf/ with the same fonts, confinement and escaping."""
    from xhtml2pdf import pisa

    html = render_template_file(template, **context)
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8", link_callback=_link_callback,
                            resource_policy=_resource_policy())
    if status.err:
        raise RuntimeError(f"the PDF {template} could not be rendered ({status.err} errors)")
    return out.getvalue()


def render_invoice_pdf(context: dict) -> bytes:
    """Render the PDF for a context made by `build_pdf_context`. Pure: no database access."""
    return render_pdf("pdf/invoice.html", context)


# ---------------------------------------------------------------- step 2: post-process


def postprocess_pdf(pdf: bytes, context: dict) -> bytes:
    """The rendered PDF made the document of record: a PDF/A-3b, with the CII embedded as
    factur-x.xml when the context carries the e-invoice (`context["einvoice"]` = (CII, UBL))."""
    from .pdfa import make_facturx

    xmls = context.get("einvoice")
    return make_facturx(pdf, xmls[0] if xmls else None,
                        title=context.get("document_title") or "Invoice")


def count_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def make_pdf(context: dict) -> bytes:
    """Render and post-process: the bytes `store_pdf` keeps. No database access."""
    return postprocess_pdf(render_invoice_pdf(context), context)
