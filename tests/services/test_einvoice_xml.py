"""CII and UBL from the table of invoices, validated offline: XSD + EN 16931 schematron.

Every valid case passes both syntaxes with no fatal finding; every invalid one is refused
with the rule the EN 16931 rules name. The invalid cases also prove the schematron really runs
(factur-x's own check answers "valid" when no Saxon is there).
"""

from __future__ import annotations

import threading

import pytest
from lxml import etree

from portal.domain import einvoice
from portal.services.documents import validate, xml
from tests.einvoice_table import INVALID, VALID, frozen

SYNTAXES = {"cii": xml.to_cii, "ubl": xml.to_ubl}
CBC = xml.CBC
RAM = xml.RAM


def _fatal(data: bytes) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in validate.validate(data) if f.fatal]


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("case", VALID)
def test_valid_table_passes_xsd_and_schematron(case, syntax):
    data = SYNTAXES[syntax](einvoice.build(frozen(VALID[case])))
    assert _fatal(data) == []


@pytest.mark.parametrize("syntax", SYNTAXES)
@pytest.mark.parametrize("case", INVALID)
def test_invalid_cases_name_their_rule(case, syntax):
    spec, rules = INVALID[case]
    found = {rule for rule, _ in _fatal(SYNTAXES[syntax](einvoice.build(frozen(spec))))}
    if case == "missing_vat_category" and syntax == "cii":
        # CII's code-list check lets an empty code through; UBL names BR-CL-17/18, and close
        # validates both syntaxes, so the invoice is refused all the same.
        assert found == set()
        return
    if case == "unit_not_rec20" and syntax == "cii":
        rules = {"FX-SCH-A-000613"}  # the Factur-X code list's id for the Rec 20 check
    assert rules <= found, found


def test_per_item_rounding_message_is_the_rules_text():
    spec, _ = INVALID["per_item_rounding"]
    messages = dict(_fatal(xml.to_ubl(einvoice.build(frozen(spec)))))
    assert "BR-S-09" in messages["BR-S-09"] and "VAT category tax amount" in messages["BR-S-09"]


def test_an_xsd_error_is_fatal():
    data = xml.to_cii(einvoice.build(frozen(VALID["per_line"])))
    root = etree.fromstring(data)
    # a second document ID breaks the sequence of ExchangedDocument
    doc = root.find(f"{{{xml.RSM}}}ExchangedDocument")
    doc.append(etree.Element(f"{{{RAM}}}ID"))
    findings = validate.validate(etree.tostring(root))
    assert any(f.rule == "XSD" and f.fatal for f in findings)
    assert validate.validate(b"<not-closed")[0].rule == "XML"


def test_credit_note_is_a_ubl_creditnote_with_positive_amounts():
    data = xml.to_ubl(einvoice.build(frozen(VALID["credit_note"])))
    root = etree.fromstring(data)
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext(f"{{{CBC}}}CreditNoteTypeCode") == "381"
    ref = root.find(f".//{{{xml.CAC}}}InvoiceDocumentReference")
    assert ref.findtext(f"{{{CBC}}}ID") == "SC2026-00016"
    assert ref.findtext(f"{{{CBC}}}IssueDate") == "2026-10-01"
    assert root.findtext(f".//{{{CBC}}}PayableAmount") == "320.69"
    assert not [a for a in root.iter(f"{{{CBC}}}Amount") if a.text.startswith("-")]
    cii = etree.fromstring(xml.to_cii(einvoice.build(frozen(VALID["credit_note"]))))
    assert cii.findtext(f".//{{{RAM}}}TypeCode") == "381"
    assert cii.findtext(f".//{{{RAM}}}InvoiceReferencedDocument/{{{RAM}}}IssuerAssignedID") \
        == "SC2026-00016"
    assert cii.findtext(f".//{{{RAM}}}DuePayableAmount") == "320.69"


def test_buyer_reference_and_peppol_ids_in_ubl():
    root = etree.fromstring(xml.to_ubl(einvoice.build(frozen(VALID["xrechnung_buyer_reference"]))))
    assert root.findtext(f"{{{CBC}}}CustomizationID") == xml.PEPPOL_CUSTOMIZATION
    assert root.findtext(f"{{{CBC}}}ProfileID") == xml.PEPPOL_PROFILE
    assert root.findtext(f"{{{CBC}}}BuyerReference") == "04011000-12345-34"
    assert root.find(f".//{{{CBC}}}EndpointID").get("schemeID") == "EM"
    # 8 hours at 95.00, 19 %: 760.00 + 144.40 = 904.40
    assert root.findtext(f".//{{{CBC}}}PayableAmount") == "904.40"
    assert root.find(f".//{{{CBC}}}InvoicedQuantity").get("unitCode") == "HUR"


def test_stylesheets_compile_once_per_process_and_threads_agree():
    first = validate.rules()
    assert validate.rules() is first
    spec, _ = INVALID["per_item_rounding"]
    bad = xml.to_ubl(einvoice.build(frozen(spec)))
    good = xml.to_cii(einvoice.build(frozen(VALID["discounts_gross_basis"])))
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append((sorted({r for r, _ in _fatal(bad)}), _fatal(good)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [(["BR-CO-17", "BR-S-09"], [])] * 12
    assert validate.rules() is first
