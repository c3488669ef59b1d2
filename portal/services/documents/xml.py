"""CII (Factur-X 1.0 / ZUGFeRD 2, profile EN 16931) and UBL 2.1 (Peppol BIS Billing 3.0) from
the one EN 16931 model of domain/einvoice.py. Pure: no database access, no figure computed.

Element order follows the XSDs (both are sequences); every optional term is left out when
empty, because an empty element is an XSD or schematron error in both syntaxes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from ...domain.einvoice import AllowanceCharge, EInvoice, Party

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
UBL_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

CII_GUIDELINE = "urn:cen.eu:en16931:2017"
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


def _pct(rate: Decimal) -> str:
    return f"{rate.quantize(Decimal('0.01')):f}"


def _num(value: Decimal) -> str:
    return f"{value:f}"


def _date102(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _tostring(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


class _Writer:
    """Element helpers shared by both syntaxes; `NAMESPACES` maps a tag's prefix to its URI."""

    NAMESPACES: dict[str, str] = {}

    def __init__(self, model: EInvoice):
        self.m = model

    def el(self, parent, tag: str, text: str | None = None, **attrs):
        prefix, name = tag.split(":")
        node = etree.SubElement(parent, f"{{{self.NAMESPACES[prefix]}}}{name}",
                                {k: v for k, v in attrs.items() if v})
        if text is not None:
            node.text = text
        return node

    def opt(self, parent, tag: str, text: str, **attrs):
        if text:
            self.el(parent, tag, text, **attrs)


# ------------------------------------------------------------------------------------ CII


class _Cii(_Writer):
    NAMESPACES = {"ram": RAM, "rsm": RSM, "udt": UDT, "qdt": QDT}

    def date(self, parent, tag: str, day: dt.date, kind: str = "udt"):
        holder = self.el(parent, tag)
        self.el(holder, f"{kind}:DateTimeString", _date102(day), format="102")

    def amount(self, parent, tag: str, value: Decimal, currency: bool = False):
        self.el(parent, tag, self.m.amount(value),
                **({"currencyID": self.m.currency} if currency else {}))

    def address(self, parent, a) -> None:
        """BG-5 / BG-8 / BG-15: a postal address, in the order the CII schema wants."""
        address = self.el(parent, "ram:PostalTradeAddress")
        self.opt(address, "ram:PostcodeCode", a.postal_code)
        self.opt(address, "ram:LineOne", a.line1)
        self.opt(address, "ram:LineTwo", a.line2)
        self.opt(address, "ram:CityName", a.city)
        self.el(address, "ram:CountryID", a.country)
        self.opt(address, "ram:CountrySubDivisionName", a.subdivision)

    def party(self, parent, tag: str, party: Party, seller: bool):
        node = self.el(parent, tag)
        self.el(node, "ram:Name", party.name)
        if party.legal_id or party.trading_name:
            legal = self.el(node, "ram:SpecifiedLegalOrganization")
            self.opt(legal, "ram:ID", party.legal_id, schemeID=party.legal_scheme)
            self.opt(legal, "ram:TradingBusinessName", party.trading_name)
        if party.contact_name or party.phone or party.email and seller:
            contact = self.el(node, "ram:DefinedTradeContact")
            self.opt(contact, "ram:PersonName", party.contact_name)
            if party.phone:
                phone = self.el(contact, "ram:TelephoneUniversalCommunication")
                self.el(phone, "ram:CompleteNumber", party.phone)
            if party.email:
                mail = self.el(contact, "ram:EmailURIUniversalCommunication")
                self.el(mail, "ram:URIID", party.email)
        self.address(node, party.address)
        if party.endpoint_id:
            uri = self.el(node, "ram:URIUniversalCommunication")
            self.el(uri, "ram:URIID", party.endpoint_id, schemeID=party.endpoint_scheme)
        if party.vat_id:
            reg = self.el(node, "ram:SpecifiedTaxRegistration")
            self.el(reg, "ram:ID", party.vat_id, schemeID="VA")
        if seller and party.tax_number:
            reg = self.el(node, "ram:SpecifiedTaxRegistration")
            self.el(reg, "ram:ID", party.tax_number, schemeID="FC")

    def allowance(self, parent, ac: AllowanceCharge, document: bool):
        node = self.el(parent, "ram:SpecifiedTradeAllowanceCharge")
        indicator = self.el(node, "ram:ChargeIndicator")
        self.el(indicator, "udt:Indicator", "true" if ac.charge else "false")
        self.amount(node, "ram:ActualAmount", ac.amount)
        self.opt(node, "ram:ReasonCode", ac.reason_code)
        self.opt(node, "ram:Reason", ac.reason)
        if document:
            tax = self.el(node, "ram:CategoryTradeTax")
            self.el(tax, "ram:TypeCode", "VAT")
            self.el(tax, "ram:CategoryCode", ac.category)
            if ac.category != "O" and ac.rate is not None:
                self.el(tax, "ram:RateApplicablePercent", _pct(ac.rate))

    def build(self) -> bytes:
        m = self.m
        root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice",
                             nsmap={"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT})
        context = self.el(root, "rsm:ExchangedDocumentContext")
        guideline = self.el(context, "ram:GuidelineSpecifiedDocumentContextParameter")
        self.el(guideline, "ram:ID", CII_GUIDELINE)
        document = self.el(root, "rsm:ExchangedDocument")
        self.el(document, "ram:ID", m.number)
        self.el(document, "ram:TypeCode", m.type_code)
        self.date(document, "ram:IssueDateTime", m.issue_date)
        for note in m.notes:
            self.el(self.el(document, "ram:IncludedNote"), "ram:Content", note)

        transaction = self.el(root, "rsm:SupplyChainTradeTransaction")
        for line in m.lines:
            item = self.el(transaction, "ram:IncludedSupplyChainTradeLineItem")
            doc = self.el(item, "ram:AssociatedDocumentLineDocument")
            self.el(doc, "ram:LineID", line.id)
            if line.note:
                self.el(self.el(doc, "ram:IncludedNote"), "ram:Content", line.note)
            product = self.el(item, "ram:SpecifiedTradeProduct")
            self.opt(product, "ram:SellerAssignedID", line.seller_item_id)
            self.el(product, "ram:Name", line.name)
            agreement = self.el(item, "ram:SpecifiedLineTradeAgreement")
            price = self.el(agreement, "ram:NetPriceProductTradePrice")
            self.el(price, "ram:ChargeAmount", _num(line.price))
            delivery = self.el(item, "ram:SpecifiedLineTradeDelivery")
            self.el(delivery, "ram:BilledQuantity", _num(line.quantity), unitCode=line.unit)
            settlement = self.el(item, "ram:SpecifiedLineTradeSettlement")
            tax = self.el(settlement, "ram:ApplicableTradeTax")
            self.el(tax, "ram:TypeCode", "VAT")
            self.el(tax, "ram:CategoryCode", line.category)
            if line.category != "O":
                self.el(tax, "ram:RateApplicablePercent", _pct(line.rate))
            for ac in line.allowances:
                self.allowance(settlement, ac, document=False)
            summation = self.el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
            self.amount(summation, "ram:LineTotalAmount", line.net_amount)

        agreement = self.el(transaction, "ram:ApplicableHeaderTradeAgreement")
        self.opt(agreement, "ram:BuyerReference", m.buyer_reference)
        self.party(agreement, "ram:SellerTradeParty", m.seller, seller=True)
        self.party(agreement, "ram:BuyerTradeParty", m.buyer, seller=False)
        if m.order_reference:
            order = self.el(agreement, "ram:BuyerOrderReferencedDocument")
            self.el(order, "ram:IssuerAssignedID", m.order_reference)

        delivery = self.el(transaction, "ram:ApplicableHeaderTradeDelivery")
        if m.deliver_to is not None:
            ship_to = self.el(delivery, "ram:ShipToTradeParty")
            self.opt(ship_to, "ram:Name", m.deliver_to_name)
            self.address(ship_to, m.deliver_to)
        if m.delivery_date:
            event = self.el(delivery, "ram:ActualDeliverySupplyChainEvent")
            self.date(event, "ram:OccurrenceDateTime", m.delivery_date)

        settlement = self.el(transaction, "ram:ApplicableHeaderTradeSettlement")
        self.el(settlement, "ram:InvoiceCurrencyCode", m.currency)
        if m.payment_means is not None:
            means = self.el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
            self.el(means, "ram:TypeCode", m.payment_means.code)
            if m.payment_means.iban:
                account = self.el(means, "ram:PayeePartyCreditorFinancialAccount")
                self.el(account, "ram:IBANID", m.payment_means.iban)
                self.opt(account, "ram:AccountName", m.payment_means.account_name)
            if m.payment_means.bic:
                bank = self.el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
                self.el(bank, "ram:BICID", m.payment_means.bic)
        for row in m.vat:
            tax = self.el(settlement, "ram:ApplicableTradeTax")
            self.amount(tax, "ram:CalculatedAmount", row.tax)
            self.el(tax, "ram:TypeCode", "VAT")
            self.opt(tax, "ram:ExemptionReason", row.exemption_reason)
            self.amount(tax, "ram:BasisAmount", row.taxable)
            self.el(tax, "ram:CategoryCode", row.category)
            self.opt(tax, "ram:ExemptionReasonCode", row.exemption_code)
            if row.category != "O":
                self.el(tax, "ram:RateApplicablePercent", _pct(row.rate))
        if m.period_start and m.period_end:
            period = self.el(settlement, "ram:BillingSpecifiedPeriod")
            self.date(period, "ram:StartDateTime", m.period_start)
            self.date(period, "ram:EndDateTime", m.period_end)
        for ac in m.allowances:
            self.allowance(settlement, ac, document=True)
        if m.payment_terms or m.due_date:
            terms = self.el(settlement, "ram:SpecifiedTradePaymentTerms")
            self.opt(terms, "ram:Description", m.payment_terms)
            if m.due_date:
                self.date(terms, "ram:DueDateDateTime", m.due_date)
        total = self.el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        self.amount(total, "ram:LineTotalAmount", m.line_total)
        if m.charge_total:
            self.amount(total, "ram:ChargeTotalAmount", m.charge_total)
        if m.allowance_total:
            self.amount(total, "ram:AllowanceTotalAmount", m.allowance_total)
        self.amount(total, "ram:TaxBasisTotalAmount", m.tax_exclusive)
        self.amount(total, "ram:TaxTotalAmount", m.tax_total, currency=True)
        self.amount(total, "ram:GrandTotalAmount", m.tax_inclusive)
        self.amount(total, "ram:DuePayableAmount", m.payable)
        if m.preceding_number:
            preceding = self.el(settlement, "ram:InvoiceReferencedDocument")
            self.el(preceding, "ram:IssuerAssignedID", m.preceding_number)
            if m.preceding_date:
                self.date(preceding, "ram:FormattedIssueDateTime", m.preceding_date, "qdt")
        return _tostring(root)


def to_cii(model: EInvoice) -> bytes:
    """The Factur-X / ZUGFeRD CII XML (profile EN 16931), UTF-8 bytes."""
    return _Cii(model).build()


# ------------------------------------------------------------------------------------ UBL


class _Ubl(_Writer):
    NAMESPACES = {"cac": CAC, "cbc": CBC}

    def amount(self, parent, tag: str, value: Decimal):
        self.el(parent, tag, self.m.amount(value), currencyID=self.m.currency)

    def address(self, parent, tag: str, a):
        node = self.el(parent, tag)
        self.opt(node, "cbc:StreetName", a.line1)
        self.opt(node, "cbc:AdditionalStreetName", a.line2)
        self.opt(node, "cbc:CityName", a.city)
        self.opt(node, "cbc:PostalZone", a.postal_code)
        self.opt(node, "cbc:CountrySubentity", a.subdivision)
        country = self.el(node, "cac:Country")
        self.el(country, "cbc:IdentificationCode", a.country)

    def tax_scheme(self, parent):
        self.el(self.el(parent, "cac:TaxScheme"), "cbc:ID", "VAT")

    def category(self, parent, tag: str, category: str, rate: Decimal | None,
                 reason: str = "", code: str = ""):
        node = self.el(parent, tag)
        self.el(node, "cbc:ID", category)
        if category != "O" and rate is not None:
            self.el(node, "cbc:Percent", _pct(rate))
        self.opt(node, "cbc:TaxExemptionReasonCode", code)
        self.opt(node, "cbc:TaxExemptionReason", reason)
        self.tax_scheme(node)

    def party(self, parent, tag: str, party: Party, seller: bool):
        node = self.el(self.el(parent, tag), "cac:Party")
        self.opt(node, "cbc:EndpointID", party.endpoint_id, schemeID=party.endpoint_scheme)
        if party.trading_name:
            self.el(self.el(node, "cac:PartyName"), "cbc:Name", party.trading_name)
        self.address(node, "cac:PostalAddress", party.address)
        if party.vat_id:
            scheme = self.el(node, "cac:PartyTaxScheme")
            self.el(scheme, "cbc:CompanyID", party.vat_id)
            self.tax_scheme(scheme)
        if seller and party.tax_number:
            scheme = self.el(node, "cac:PartyTaxScheme")
            self.el(scheme, "cbc:CompanyID", party.tax_number)
            self.el(self.el(scheme, "cac:TaxScheme"), "cbc:ID", "TAX")
        legal = self.el(node, "cac:PartyLegalEntity")
        self.el(legal, "cbc:RegistrationName", party.name)
        self.opt(legal, "cbc:CompanyID", party.legal_id, schemeID=party.legal_scheme)
        if party.contact_name or party.phone or party.email:
            contact = self.el(node, "cac:Contact")
            self.opt(contact, "cbc:Name", party.contact_name)
            self.opt(contact, "cbc:Telephone", party.phone)
            self.opt(contact, "cbc:ElectronicMail", party.email)

    def allowance(self, parent, ac: AllowanceCharge, document: bool):
        node = self.el(parent, "cac:AllowanceCharge")
        self.el(node, "cbc:ChargeIndicator", "true" if ac.charge else "false")
        self.opt(node, "cbc:AllowanceChargeReasonCode", ac.reason_code)
        self.opt(node, "cbc:AllowanceChargeReason", ac.reason)
        self.amount(node, "cbc:Amount", ac.amount)
        if document:
            self.category(node, "cac:TaxCategory", ac.category, ac.rate)

    def build(self) -> bytes:
        m = self.m
        credit = m.is_credit_note
        ns = UBL_CREDIT if credit else UBL_INVOICE
        root = etree.Element(f"{{{ns}}}{'CreditNote' if credit else 'Invoice'}",
                             nsmap={None: ns, "cac": CAC, "cbc": CBC})
        self.el(root, "cbc:CustomizationID", PEPPOL_CUSTOMIZATION)
        self.el(root, "cbc:ProfileID", PEPPOL_PROFILE)
        self.el(root, "cbc:ID", m.number)
        self.el(root, "cbc:IssueDate", m.issue_date.isoformat())
        if m.due_date and not credit:
            self.el(root, "cbc:DueDate", m.due_date.isoformat())
        self.el(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", m.type_code)
        for note in m.notes:
            self.el(root, "cbc:Note", note)
        self.el(root, "cbc:DocumentCurrencyCode", m.currency)
        self.opt(root, "cbc:BuyerReference", m.buyer_reference)
        if m.period_start and m.period_end:
            period = self.el(root, "cac:InvoicePeriod")
            self.el(period, "cbc:StartDate", m.period_start.isoformat())
            self.el(period, "cbc:EndDate", m.period_end.isoformat())
        if m.order_reference:
            self.el(self.el(root, "cac:OrderReference"), "cbc:ID", m.order_reference)
        if m.preceding_number:
            ref = self.el(self.el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
            self.el(ref, "cbc:ID", m.preceding_number)
            if m.preceding_date:
                self.el(ref, "cbc:IssueDate", m.preceding_date.isoformat())
        self.party(root, "cac:AccountingSupplierParty", m.seller, seller=True)
        self.party(root, "cac:AccountingCustomerParty", m.buyer, seller=False)
        if m.delivery_date or m.deliver_to is not None:
            delivery = self.el(root, "cac:Delivery")
            if m.delivery_date:
                self.el(delivery, "cbc:ActualDeliveryDate", m.delivery_date.isoformat())
            if m.deliver_to is not None:
                location = self.el(delivery, "cac:DeliveryLocation")
                self.address(location, "cac:Address", m.deliver_to)
                if m.deliver_to_name:
                    party = self.el(delivery, "cac:DeliveryParty")
                    self.el(self.el(party, "cac:PartyName"), "cbc:Name", m.deliver_to_name)
        if m.payment_means is not None:
            means = self.el(root, "cac:PaymentMeans")
            self.el(means, "cbc:PaymentMeansCode", m.payment_means.code)
            if m.payment_means.iban:
                account = self.el(means, "cac:PayeeFinancialAccount")
                self.el(account, "cbc:ID", m.payment_means.iban)
                self.opt(account, "cbc:Name", m.payment_means.account_name)
                if m.payment_means.bic:
                    branch = self.el(account, "cac:FinancialInstitutionBranch")
                    self.el(branch, "cbc:ID", m.payment_means.bic)
        if m.payment_terms:
            self.el(self.el(root, "cac:PaymentTerms"), "cbc:Note", m.payment_terms)
        for ac in m.allowances:
            self.allowance(root, ac, document=True)
        tax_total = self.el(root, "cac:TaxTotal")
        self.amount(tax_total, "cbc:TaxAmount", m.tax_total)
        for row in m.vat:
            subtotal = self.el(tax_total, "cac:TaxSubtotal")
            self.amount(subtotal, "cbc:TaxableAmount", row.taxable)
            self.amount(subtotal, "cbc:TaxAmount", row.tax)
            self.category(subtotal, "cac:TaxCategory", row.category, row.rate,
                          row.exemption_reason, row.exemption_code)
        total = self.el(root, "cac:LegalMonetaryTotal")
        self.amount(total, "cbc:LineExtensionAmount", m.line_total)
        self.amount(total, "cbc:TaxExclusiveAmount", m.tax_exclusive)
        self.amount(total, "cbc:TaxInclusiveAmount", m.tax_inclusive)
        if m.allowance_total:
            self.amount(total, "cbc:AllowanceTotalAmount", m.allowance_total)
        if m.charge_total:
            self.amount(total, "cbc:ChargeTotalAmount", m.charge_total)
        self.amount(total, "cbc:PayableAmount", m.payable)
        for line in m.lines:
            node = self.el(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
            self.el(node, "cbc:ID", line.id)
            self.opt(node, "cbc:Note", line.note)
            self.el(node, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity",
                    _num(line.quantity), unitCode=line.unit)
            self.amount(node, "cbc:LineExtensionAmount", line.net_amount)
            for ac in line.allowances:
                self.allowance(node, ac, document=False)
            item = self.el(node, "cac:Item")
            self.el(item, "cbc:Name", line.name)
            if line.seller_item_id:
                self.el(self.el(item, "cac:SellersItemIdentification"), "cbc:ID",
                        line.seller_item_id)
            self.category(item, "cac:ClassifiedTaxCategory", line.category, line.rate)
            price = self.el(node, "cac:Price")
            self.el(price, "cbc:PriceAmount", _num(line.price), currencyID=m.currency)
        return _tostring(root)


def to_ubl(model: EInvoice) -> bytes:
    """The UBL 2.1 XML (Peppol BIS Billing 3.0 Invoice or CreditNote), UTF-8 bytes."""
    return _Ubl(model).build()
