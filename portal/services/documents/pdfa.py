"""Step 2 of the document of record: the xhtml2pdf PDF made a Factur-X PDF/A-3b.

Pure: bytes in, bytes out, no database access. What the rendered PDF lacks for PDF/A-3b, and
what is done about it (measured on xhtml2pdf 0.2.x, see the commit message):

- Fonts: the DejaVu TrueType subsets are embedded already. xhtml2pdf also selects its default
  base-14 Type 1 font (/F1 Helvetica, not embedded) at the start of each paragraph but shows
  no glyph with it; such a selection is removed from the content streams and the font from the
  resources. A text-showing use of an unembedded font cannot be repaired here and raises.
- Pages carry an empty /Trans (a transition effect), which PDF/A does not list: removed.
- An sRGB output intent (the ICC profile shipped inside pikepdf), and XMP metadata declaring
  PDF/A-3 conformance B and, through an extension schema, the Factur-X document.
- The CII XML embedded as `factur-x.xml` (AFRelationship /Data, MIME text/xml), listed in the
  catalog's /AF array as Factur-X requires.

The ghostscript route (-dPDFA=3) was measured too and left: copied text lost "€" and "·".
"""

from __future__ import annotations

import datetime as dt
import io
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


def _is_embedded(font: Dictionary) -> bool:
    if font.get("/Subtype") == "/Type0":
        font = font.DescendantFonts[0]
    if font.get("/Subtype") == "/Type3":
        return True
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(
        key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _drop_unembedded_fonts(pdf: pikepdf.Pdf, holder, resources: Dictionary | None) -> None:
    """Remove selections (Tf) of unembedded fonts that show no glyph, then the fonts."""
    if resources is None or "/Font" not in resources:
        return
    fonts = resources.Font
    bad = {str(name)[1:] for name, font in fonts.items() if not _is_embedded(font)}
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
    stream = pdf.make_stream(xml, Type=Name.EmbeddedFile, Subtype=Name("/text/xml"),
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
            _drop_unembedded_fonts(doc, page, page.obj.get("/Resources"))
            for xobject in (page.obj.get("/Resources") or {}).get("/XObject", {}).values():
                if xobject.get("/Subtype") == "/Form":
                    _drop_unembedded_fonts(doc, xobject, xobject.get("/Resources"))
        icc = doc.make_stream(_srgb_profile(), N=3)
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
        doc.save(out, min_version="1.7", object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 fix_metadata_version=False)
        return out.getvalue()


def attachment(pdf: bytes, name: str = FACTURX_FILENAME) -> bytes | None:
    """The bytes of an embedded file (what a reader's "attachments" pane shows)."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        spec = doc.attachments.get(name)
        return None if spec is None else spec.get_file().read_bytes()
