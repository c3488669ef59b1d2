"""The Factur-X PDF/A-3b made from the xhtml2pdf rendering, read back.

The PDF/A check is pikepdf's own allowlist validator (veraPDF is not installable here). It
knows no XMP extension schema, so on the Factur-X file its only findings may be the Factur-X
extension's namespaces and properties (clause 6.6.2.3.1); the same file made without the
attachment and extension passes it outright.
"""

from __future__ import annotations

import datetime as dt
import io

import pikepdf
import pikepdf.pdfa
import pytest
from lxml import etree
from pypdf import PdfReader

from bench.pdf import sample_invoice_dict
from portal.domain import einvoice
from portal.services.documents import context_from_dict, pdfa, render_invoice_pdf, xml
from tests.einvoice_table import VALID, frozen

EXTENSION_NAMES = ("pdfaExtension", "pdfaSchema", "pdfaProperty", "fx:", "fx=")


@pytest.fixture(scope="module")
def rendered() -> bytes:
    data = sample_invoice_dict(3)
    data["lines"][0]["description"] = "Konferenz – Łódź, şğı, 12 €"
    return render_invoice_pdf(context_from_dict(data))


@pytest.fixture(scope="module")
def cii() -> bytes:
    return xml.to_cii(einvoice.build(frozen(VALID["per_line"])))


@pytest.fixture(scope="module")
def facturx(rendered, cii) -> bytes:
    return pdfa.make_facturx(rendered, cii, title="Invoice BENCH-00001",
                             created=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC))


def test_rendering_lacks_what_pdfa_needs(rendered):
    # what the post-processing is for: an unembedded Helvetica, no metadata, no intent
    with pikepdf.open(io.BytesIO(rendered)) as doc:
        fonts = doc.pages[0].Resources.Font
        assert any(not pdfa._is_embedded(f) for f in fonts.values())
        assert "/Metadata" not in doc.Root and "/OutputIntents" not in doc.Root


def test_attachment_is_the_cii_byte_for_byte(facturx, cii):
    assert pdfa.attachment(facturx) == cii
    with pikepdf.open(io.BytesIO(facturx)) as doc:
        (spec,) = list(doc.Root.AF)
        assert spec.AFRelationship == "/Data" and str(spec.UF) == "factur-x.xml"
        assert spec.EF.F.Subtype == "/text/xml"
        assert int(spec.EF.F.Params.Size) == len(cii)


def test_xmp_declares_pdfa_3b_and_factur_x(facturx):
    with pikepdf.open(io.BytesIO(facturx)) as doc:
        assert doc.pdf_version == "1.7"
        meta = doc.open_metadata()
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("3", "B")
        xmp = etree.fromstring(doc.Root.Metadata.read_bytes())
        fx = "{urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#}"
        assert xmp.findtext(f".//{fx}DocumentFileName") == "factur-x.xml"
        assert xmp.findtext(f".//{fx}DocumentType") == "INVOICE"
        assert xmp.findtext(f".//{fx}ConformanceLevel") == "EN 16931"
        intent = doc.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFA1" and int(intent.DestOutputProfile.N) == 3


def test_every_font_is_embedded(facturx):
    with pikepdf.open(io.BytesIO(facturx)) as doc:
        names = []
        for page in doc.pages:
            for font in page.Resources.Font.values():
                names.append(str(font.BaseFont))
                assert pdfa._is_embedded(font), font.BaseFont
        assert any("DejaVuSans" in n for n in names) and "/Helvetica" not in names


def test_copied_text_keeps_euro_and_diacritics(facturx):
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(facturx)).pages)
    for needle in ("€", "ş", "Ł", "ğ", "BENCH-00001"):
        assert needle in text


def test_pdfa_validator_passes_but_for_the_factur_x_extension(rendered, facturx):
    report = pikepdf.pdfa.validate_written(io.BytesIO(facturx), "3b")
    others = [f for f in report.findings
              if not any(name in str(f) for name in EXTENSION_NAMES)]
    assert others == []
    assert report.findings  # the extension schema is all it objects to
    plain = pdfa.make_facturx(rendered, None, title="Invoice BENCH-00001")
    assert pikepdf.pdfa.validate_written(io.BytesIO(plain), "3b").verdict == "pass"
    assert pdfa.attachment(plain) is None


def test_glyphs_shown_with_an_unembedded_font_are_refused(rendered):
    with pikepdf.open(io.BytesIO(rendered)) as doc:
        page = doc.pages[0]
        page.Contents = doc.make_stream(page.Contents.read_bytes()
                                        + b"\nBT /F1 10 Tf (x) Tj ET\n")
        out = io.BytesIO()
        doc.save(out)
    with pytest.raises(pdfa.PdfaError):
        pdfa.make_facturx(out.getvalue(), None, title="x")
