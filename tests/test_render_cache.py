"""What the renderer keeps between renders (issue 16) must not change what a render makes.

documents/engine.py registers the fonts and parses static style sheets once per process;
render.render_invoice_pdf passes "page x of y" in instead of a second layout pass; pdfa.py
checks the text operators instead of rewriting the content stream. Every check here reads the
PDF back (pypdf, pikepdf); none is timed (speed lives in bench/pdf.py).
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import pikepdf
import pytest
from pypdf import PdfReader
from reportlab.lib.fonts import tt2ps
from reportlab.pdfgen import canvas
from xhtml2pdf import pisa

from bench.pdf import sample_cii, sample_invoice_dict
from portal.services.documents import context_from_dict, engine, make_pdf, pdfa, render

CREATED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name (subset prefix dropped) -> embedded, over every page."""
    found = {}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for font in page.Resources.Font.values():
                found[str(font.BaseFont).split("+")[-1]] = pdfa._is_embedded(font)
    return found


def context_for(n_lines: int, **changes) -> dict:
    data = sample_invoice_dict(n_lines)
    data["lines"][0]["description"] = "Konferenz – Łódź, şğı, 12 €"
    context = context_from_dict(data)
    context.update(changes)
    return context


def document_of_record(context: dict) -> bytes:
    context = {**context, "einvoice": (sample_cii(), b"")}
    return pdfa.make_facturx(render.render_invoice_pdf(context), context["einvoice"][0],
                             title="Invoice BENCH-00001", created=CREATED)


def test_a_second_render_has_the_same_text_and_embedded_fonts():
    context = context_for(5)
    first, second = document_of_record(context), document_of_record(context)
    assert page_texts(first) == page_texts(second)
    (text,) = page_texts(second)
    for needle in ("Invoice BENCH-00001", "Łódź, şğı, 12 €", "Ayşe Yılmaz", "Page 1 of 1",
                   "€1,005.50"):
        assert needle in text
    assert fonts(second) == fonts(first) == {"DejaVuSans": True, "DejaVuSans-Bold": True}
    assert pdfa.attachment(second) == sample_cii()


def test_two_threads_rendering_at_once_both_get_valid_pdfs():
    contexts = [context_for(3), context_for(40, locale="de")]
    alone = [page_texts(document_of_record(c)) for c in contexts]
    results, errors = [None, None], []
    start = threading.Barrier(2)

    def work(i: int) -> None:
        try:
            start.wait(timeout=30)
            for _ in range(2):
                results[i] = document_of_record(contexts[i])
        except Exception as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    for pdf, texts in zip(results, alone, strict=True):
        with pikepdf.open(io.BytesIO(pdf)) as doc:  # a PDF qpdf reads without repairing
            assert "/OutputIntents" in doc.Root and len(doc.pages) == len(texts)
        assert page_texts(pdf) == texts
        assert set(fonts(pdf).values()) == {True}
    assert [len(t) for t in alone] == [1, 3]
    assert "Page 3 of 3" in alone[1][-1]


def test_the_same_pdf_as_xhtml2pdfs_own_entry_point():
    # engine.convert runs xhtml2pdf's _build with its own context class; this is what would
    # show a change inside xhtml2pdf that breaks that. Same HTML, fonts declared for CreatePDF.
    html = render.render_template_file("pdf/invoice.html", **context_for(20))
    faces = "".join(f'@font-face {{ font-family: "DejaVu Sans"; src: url("fonts/{file}");'
                    f'{" font-weight: bold;" if bold else ""} }}'
                    for bold, _, file in engine.FONT_FACES)
    out = io.BytesIO()
    status = pisa.CreatePDF(html.replace("<style>", f"<style>{faces}", 1), dest=out,
                            encoding="utf-8", link_callback=render._link_callback,
                            resource_policy=engine.POLICY)
    assert not status.err
    ours, errors = engine.convert(html, link_callback=render._link_callback)
    assert errors == 0
    assert page_texts(ours) == page_texts(out.getvalue())
    assert len(page_texts(ours)) == 2  # <pdf:pagecount> (no page_count given) still works
    assert "Page 2 of 2" in page_texts(ours)[1]
    assert fonts(ours) == fonts(out.getvalue())
    # CreatePDF's @font-face mapped italic to the bold face; each conversion of ours maps back
    assert [tt2ps(engine.FONT_FAMILY, 0, italic) for italic in (0, 1)] == \
        [engine.FONT_FACES[0][1]] * 2


@pytest.mark.parametrize(("n_lines", "guess"), [(5, 3), (40, 1), (40, 2)])
def test_a_wrong_page_count_guess_is_rendered_again(monkeypatch, n_lines, guess):
    context = context_for(n_lines)
    expected = page_texts(render.render_invoice_pdf(context))
    monkeypatch.setattr(render, "_page_guess", lambda _context: guess)
    texts = page_texts(render.render_invoice_pdf(context))
    assert texts == expected
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text


def test_the_page_block_is_not_cached_between_draft_and_closed():
    # The @page block (margins, the DRAFT stamp's frame) depends on the context: parsed per
    # render. The static block is parsed once and reused.
    closed, draft = context_for(2), context_for(2, draft=True)
    texts = [page_texts(render.render_invoice_pdf(c))[0] for c in (closed, draft, closed)]
    assert texts[0] == texts[2]
    assert "DRAFT" not in texts[0] and "DRAFT" in texts[1]
    cached = list(engine._parsed_css)
    assert any("font-family" in text for text in cached)
    assert not any("@page" in text for text in cached)


def test_pdfa_removes_an_unembedded_selection_where_no_embedded_font_stands_in():
    out = io.BytesIO()
    page = canvas.Canvas(out)  # selects Helvetica (/F1) at the top of the page, shows no text
    page.line(10, 10, 100, 100)
    page.save()
    made = pdfa.make_facturx(out.getvalue(), None, title="x", created=CREATED)
    with pikepdf.open(io.BytesIO(made)) as doc:
        resources = doc.pages[0].Resources
        assert "/Font" not in resources or not list(resources.Font.keys())
        assert b"/F1" not in doc.pages[0].Contents.read_bytes()


def test_make_pdf_is_the_same_document_twice():
    # What closing stores: rendering and the PDF/A step in one call, twice in a process.
    context = {**context_for(1), "einvoice": (sample_cii(), b"")}
    first, second = make_pdf(context), make_pdf(context)
    assert page_texts(first) == page_texts(second)
    assert pdfa.attachment(first) == pdfa.attachment(second) == sample_cii()


@pytest.mark.parametrize(("content", "refused"), [
    # a selection that shows nothing, then text in the embedded font, a string that looks like
    # operators included
    (b"BT /F1 12 Tf ET q BT /F2 10 Tf (x\n/F1 9 Tf\nQ) Tj [(a) 5 (b)] TJ ET Q", False),
    # Q restores /F1 as the selected font: the text after it is shown with Helvetica
    (b"BT /F1 12 Tf ET q BT /F2 10 Tf ET Q BT (x) Tj ET", True),
    (b"BT /F2 10 Tf (x) Tj /F1 9 Tf 0 0 (y) \" ET", True),
])
def test_the_text_operator_scan(content, refused):
    doc = pikepdf.new()
    doc.add_blank_page()
    page = doc.pages[0]
    page.Contents = doc.make_stream(content)
    if refused:
        with pytest.raises(pdfa.PdfaError):
            pdfa._check_no_glyphs_shown(page, {"F1"})
    else:
        pdfa._check_no_glyphs_shown(page, {"F1"})
