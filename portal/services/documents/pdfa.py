"""Step 2 of the document of record: the xhtml2pdf PDF made a Factur-X PDF/A-3b.

Pure: bytes in, bytes out, no database access. What the rendered PDF lacks for PDF/A-3b, and
what is done about it (measured on xhtml2pdf 0.2.x, see the commit message):

- Fonts: the DejaVu TrueType subsets are embedded already. ReportLab also selects its base-14
  Type 1 font (/F1 Helvetica, not embedded) at the start of each page and each table, but
  shows no glyph with it. The content stream is scanned (qpdf's tokenizer, text operators only)
  to prove that; then /F1 is made another name of an embedded font of the same resources, so
  the selection stays valid and every font is embedded, without rewriting the content stream
  (parsing and writing back every operator in Python cost ~7 ms a page). Where no embedded
  font is at hand, the selection is removed from the content stream instead. A text-showing
  use of an unembedded font cannot be repaired here and raises.
- Pages carry an empty /Trans (a transition effect), which PDF/A does not list: removed.
- An sRGB output intent (the ICC profile shipped inside pikepdf, read and deflated once per
  process), and XMP metadata declaring
  PDF/A-3 conformance B and, through an extension schema, the Factur-X document.
- The CII XML embedded as `factur-x.xml` (AFRelationship /Data, MIME text/xml), listed in the
  catalog's /AF array as Factur-X requires.

The ghostscript route (-dPDFA=3) was measured too and left: copied text lost "€" and "·".

One open, one save: streams are copied as they are (no decoding and re-deflating of the
rendering's streams); the new ones (profile, attachment) are deflated here, the XMP is left
uncompressed as PDF/A readers expect.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Array, Dictionary, Name, String

FACTURX_FILENAME = "factur-x.xml"
FACTURX_NS = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
FACTURX_LEVEL = "EN 16931"
_TEXT_SHOW = {"Tj", "TJ", "'", '"'}


class PdfaError(RuntimeError):
    """The rendered PDF cannot be made PDF/A-3b here (a glyph shown with an unembedded font)."""


def _srgb_profile() -> bytes:
    return (Path(pikepdf.__file__).resolve().parent / "pdfa" / "data" / "sRGB.icc").read_bytes()


@functools.cache
def _srgb_deflated() -> bytes:
    """The profile, deflated: read once per process (immutable bytes, safe to share)."""
    return zlib.compress(_srgb_profile())


def _deflated_stream(pdf: pikepdf.Pdf, data: bytes, **keys) -> pikepdf.Stream:
    return pikepdf.Stream(pdf, zlib.compress(data) if data else data,
                          **({"Filter": Name.FlateDecode} if data else {}), **keys)


def _is_embedded(font: Dictionary) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font.DescendantFonts[0]
    if font.get("/Subtype") == "/Type3":
        return True
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _check_no_glyphs_shown(holder, bad: set[str]) -> None:
    """Raise PdfaError if text is shown while one of the `bad` fonts is selected.

    qpdf tokenizes and keeps the text-state operators only; their canonical unparsed form
    has one instruction a line, its operator last (a line break inside a string comes out
    escaped, as \\n), so the walk is over lines of bytes rather than Python objects."""
    selected, stack = None, []
    bad_names = {b"/" + name.encode() for name in bad}
    text = pikepdf.unparse_content_stream(
        pikepdf.parse_content_stream(holder, "q Q Tf Tj TJ ' \""))
    for line in text.split(b"\n"):
        op = line[line.rfind(b" ") + 1:]
        if op == b"q":
            stack.append(selected)
        elif op == b"Q":
            selected = stack.pop() if stack else None
        elif op == b"Tf":
            selected = line[:line.find(b" ")]
        elif selected in bad_names and op in (b"Tj", b"TJ", b"'", b'"'):
            raise PdfaError(f"text is shown with the unembedded font {selected.decode()[1:]}")


def _unembedded(resources: Dictionary | None) -> tuple:
    """The fonts of `resources` and the names (without the slash) of those not embedded."""
    if resources is None or "/Font" not in resources:
        return None, set()
    fonts = resources.Font
    return fonts, {str(name)[1:] for name, font in fonts.items() if not _is_embedded(font)}


def _embed_fonts(pdf: pikepdf.Pdf, holder, resources: Dictionary | None) -> None:
    """Leave only embedded fonts in `resources`: an unembedded one that shows no glyph becomes
    another name of an embedded font there (or, with none there, its selections are removed)."""
    fonts, bad = _unembedded(resources)
    if not bad:
        return
    embedded = sorted(str(name) for name, font in fonts.items() if _is_embedded(font))
    if not embedded:
        _drop_unembedded_fonts(pdf, holder, resources)
        return
    _check_no_glyphs_shown(holder, bad)
    stand_in = fonts[embedded[0]]
    for name in bad:
        fonts[Name("/" + name)] = stand_in


def _drop_unembedded_fonts(pdf: pikepdf.Pdf, holder, resources: Dictionary | None) -> None:
    """Remove selections (Tf) of unembedded fonts that show no glyph, then the fonts."""
    fonts, bad = _unembedded(resources)
    if not bad:
        return
    instructions = pikepdf.parse_content_stream(holder)
    current, stack, kept, dropped_any = None, [], [], False
    for operands, operator in instructions:
        op = str(operator)
        if op == "q":
            stack.append(current)
        elif op == "Q":
            current = stack.pop() if stack else None
        elif op == "Tf":
            current = str(operands[0])[1:]
            if current in bad:
                dropped_any = True
                continue
        elif op in _TEXT_SHOW and current in bad:
            raise PdfaError(f"text is shown with the unembedded font {current}")
        kept.append((operands, operator))
    if dropped_any:
        data = pikepdf.unparse_content_stream(kept)
        if isinstance(holder, pikepdf.Page):
            holder.Contents = pdf.make_stream(data)
        else:
            holder.write(data)
    for name in bad:
        del fonts[Name("/" + name)]


def _date_xmp(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _date_pdf(moment: dt.datetime) -> str:
    offset = moment.strftime("%z") or "+0000"
    return moment.strftime("D:%Y%m%d%H%M%S") + f"{offset[:3]}'{offset[3:]}'"


def _xmp(title: str, producer: str, created: dt.datetime, facturx: bool) -> bytes:
    t, p = escape(title), escape(producer)
    when = _date_xmp(created)
    head, tail = _XMP.split("{facturx}")
    body = _FACTURX_XMP.replace("{ns}", FACTURX_NS) if facturx else ""
    return (head.format(t=t, p=p, when=when) + body + tail).encode()


_XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <pdfaid:part>3</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li></rdf:Alt></dc:title>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdf:Producer>{p}</pdf:Producer>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
   <xmp:CreatorTool>{p}</xmp:CreatorTool>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
  </rdf:Description>
{facturx} </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""

# The Factur-X extension schema (Factur-X 1.0, §6.2.2) and its four properties.
_FACTURX_XMP = """  <rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
   <pdfaExtension:schemas>
    <rdf:Bag>
     <rdf:li rdf:parseType="Resource">
      <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
      <pdfaSchema:namespaceURI>{ns}</pdfaSchema:namespaceURI>
      <pdfaSchema:prefix>fx</pdfaSchema:prefix>
      <pdfaSchema:property>
       <rdf:Seq>
        <rdf:li rdf:parseType="Resource">
         <pdfaProperty:name>DocumentFileName</pdfaProperty:name>
         <pdfaProperty:valueType>Text</pdfaProperty:valueType>
         <pdfaProperty:category>external</pdfaProperty:category>
         <pdfaProperty:description>The name of the embedded XML document</pdfaProperty:description>
        </rdf:li>
        <rdf:li rdf:parseType="Resource">
         <pdfaProperty:name>DocumentType</pdfaProperty:name>
         <pdfaProperty:valueType>Text</pdfaProperty:valueType>
         <pdfaProperty:category>external</pdfaProperty:category>
         <pdfaProperty:description>The type of the hybrid document in capital letters, e.g. INVOICE or ORDER</pdfaProperty:description>
        </rdf:li>
        <rdf:li rdf:parseType="Resource">
         <pdfaProperty:name>Version</pdfaProperty:name>
         <pdfaProperty:valueType>Text</pdfaProperty:valueType>
         <pdfaProperty:category>external</pdfaProperty:category>
         <pdfaProperty:description>The actual version of the standard applying to the embedded XML document</pdfaProperty:description>
        </rdf:li>
        <rdf:li rdf:parseType="Resource">
         <pdfaProperty:name>ConformanceLevel</pdfaProperty:name>
         <pdfaProperty:valueType>Text</pdfaProperty:valueType>
         <pdfaProperty:category>external</pdfaProperty:category>
         <pdfaProperty:description>The conformance level of the embedded XML document</pdfaProperty:description>
        </rdf:li>
       </rdf:Seq>
      </pdfaSchema:property>
     </rdf:li>
    </rdf:Bag>
   </pdfaExtension:schemas>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:fx="{ns}">
   <fx:DocumentType>INVOICE</fx:DocumentType>
   <fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>
   <fx:Version>1.0</fx:Version>
   <fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>
  </rdf:Description>
"""


def _attach(pdf: pikepdf.Pdf, xml: bytes, created: dt.datetime) -> None:
    when = _date_pdf(created)
    stream = _deflated_stream(pdf, xml, Type=Name.EmbeddedFile, Subtype=Name("/text/xml"),
                              Params=Dictionary(Size=len(xml), ModDate=String(when),
                                                CreationDate=String(when)))
    spec = pdf.make_indirect(Dictionary(
        Type=Name.Filespec, F=String(FACTURX_FILENAME), UF=String(FACTURX_FILENAME),
        Desc=String("Factur-X invoice (CII, EN 16931)"), AFRelationship=Name.Data,
        EF=Dictionary(F=stream, UF=stream)))
    names = pdf.Root.get("/Names")
    if names is None:
        pdf.Root.Names = names = Dictionary()
    names.EmbeddedFiles = Dictionary(Names=Array([String(FACTURX_FILENAME), spec]))
    pdf.Root.AF = Array([spec])


def make_facturx(pdf: bytes, cii: bytes | None, *, title: str,
                 created: dt.datetime | None = None,
                 producer: str = "Invoice Portal") -> bytes:
    """The rendered PDF as PDF/A-3b, with `cii` embedded as factur-x.xml (None: a PDF/A-3b
    without an attachment, for documents that get no e-invoice)."""
    created = created or dt.datetime.now(dt.UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            if "/Trans" in page.obj:
                del page.obj["/Trans"]
            _embed_fonts(doc, page, page.obj.get("/Resources"))
            for xobject in (page.obj.get("/Resources") or {}).get("/XObject", {}).values():
                if xobject.get("/Subtype") == "/Form":
                    _embed_fonts(doc, xobject, xobject.get("/Resources"))
        icc = pikepdf.Stream(doc, _srgb_deflated(), Filter=Name.FlateDecode, N=3)
        doc.Root.OutputIntents = Array([Dictionary(
            Type=Name.OutputIntent, S=Name.GTS_PDFA1,
            OutputConditionIdentifier=String("sRGB IEC61966-2.1"),
            Info=String("sRGB IEC61966-2.1"), DestOutputProfile=icc)])
        doc.Root.Metadata = doc.make_stream(
            _xmp(title, producer, created, cii is not None), Type=Name.Metadata, Subtype=Name.XML)
        doc.trailer.Info = doc.make_indirect(Dictionary(
            Title=String(title), Producer=String(producer), Creator=String(producer),
            CreationDate=String(_date_pdf(created)), ModDate=String(_date_pdf(created))))
        if cii is not None:
            _attach(doc, cii, created)
        if "/MarkInfo" not in doc.Root:
            doc.Root.MarkInfo = Dictionary(Marked=False)
        out = io.BytesIO()
        # Streams as they are: no decoding and deflating again of what ReportLab deflated.
        doc.save(out, min_version="1.7", object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 fix_metadata_version=False, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 compress_streams=False)
        return out.getvalue()


def attachment(pdf: bytes, name: str = FACTURX_FILENAME) -> bytes | None:
    """The bytes of an embedded file (what a reader's "attachments" pane shows)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        spec = doc.attachments.get(name)
        return None if spec is None else spec.get_file().read_bytes()
