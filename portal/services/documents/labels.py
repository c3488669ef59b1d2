"""The labels of the document of record (the invoice mail reuses them), through gettext.

The words are msgids in the catalogs (translations/); `labels_for(locale)` gives them in the
invoice's language — its locale when we speak it, else English — whatever the reader of
the current request speaks, and without needing an app (workers, tests).
"""

from __future__ import annotations

from ...i18n import N_, supported, translate

LABELS: dict[str, str] = {
    "invoice": N_("Invoice"),
    "proforma": N_("Proforma invoice"),
    "shipping_invoice": N_("Delivery note"),
    "credit_note": N_("Credit note"),
    "draft": N_("DRAFT"),
    "draft_note": N_("Preview – not a valid document"),
    "number": N_("Number"),
    "issue_date": N_("Date"),
    "due_date": N_("Due date"),
    "expires_at": N_("Valid until"),
    "order": N_("Order"),
    "customer": N_("Customer no."),
    "reference": N_("Reference"),
    "package_number": N_("Package number"),
    "channel": N_("Channel"),
    "seller": N_("From"),
    "buyer": N_("Bill to"),
    "ship_to": N_("Ship to"),
    "vat_id": N_("VAT ID"),
    "tax_office": N_("Tax office"),
    "tax_number": N_("Tax number"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "cancels": N_("Cancels invoice {number}"),
    "corrects": N_("Corrects invoice {number}"),
    "proforma_note": N_("This proforma invoice is an offer, not a request for payment."),
    "pos": N_("Pos."),
    "description": N_("Description"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"),
    "tax_rate": N_("Tax"),
    "amount_net": N_("Net amount"),
    "amount_gross": N_("Gross amount"),
    "sku": N_("SKU"),
    "line_discount": N_("Discount"),
    "subtotal_before": N_("Subtotal before discounts"),
    "discount": N_("Discount"),
    "subtotal": N_("Subtotal"),
    "shipping_cost": N_("Shipping"),
    "payment_fee": N_("Payment fee"),
    "tax_breakdown": N_("Tax breakdown"),
    "tax_code": N_("Tax"),
    "rate": N_("Rate"),
    "taxable": N_("Taxable amount"),
    "tax_amount": N_("Tax amount"),
    "total_net": N_("Total net"),
    "total_tax": N_("Total tax"),
    "total_gross": N_("Total"),
    "total_quantity": N_("Total quantity"),
    "total_weight": N_("Total weight"),
    "shipping": N_("Shipment"),
    "shipped_at": N_("Shipped on"),
    "number_of_packages": N_("Packages"),
    "carriage": N_("Carriage"),
    "carriage_paid": N_("Carriage paid"),
    "carriage_forward": N_("Carriage forward"),
    "goods_appearance": N_("Appearance of goods"),
    "tracking_number": N_("Tracking number"),
    "transport_reason": N_("Reason for transport"),
    "page": N_("Page"),
    "page_of": N_("of"),
    "prices_gross": N_("Prices include tax."),
    "prices_net": N_("Prices exclude tax."),
}


# SPEC §9 labels: "Invoice date", delivery date / service period, the credit wording, the
# payment means printed from data.
LABELS.update({
    "issue_date": N_("Invoice date"),
    "credit_note_date": N_("Credit note date"),
    "document_date": N_("Date"),
    "delivery_date": N_("Delivery date"),
    "service_period": N_("Service period"),
    "preceding_invoice": N_("Original invoice"),
    "buyer_reference": N_("Buyer reference"),
    "registration": N_("Registration"),
    "contact": N_("Contact"),
    "cancels": N_("This credit note cancels invoice {number} of {date}; the amount will be refunded."),
    "corrects": N_("This credit note corrects invoice {number} of {date}; the amount will be refunded."),
    "payment_means": N_("Payment"),
    "iban": N_("IBAN"),
    "bic": N_("BIC"),
    "account_name": N_("Account holder"),
    "pay_by": N_("Please pay {amount} by {date}."),
    "means_58": N_("SEPA credit transfer"),
    "means_30": N_("Credit transfer"),
    "means_49": N_("Direct debit"),
    "means_48": N_("Bank card"),
    "means_10": N_("Cash"),
    "reverse_charge_note": N_("Tax exemption"),
})


def document_language(locale: str | None) -> str:
    """The language of a document for a locale (`de_AT` -> `de`), English when we have none."""
    return supported(locale) or "en"


def labels_for(locale: str | None) -> dict[str, str]:
    return {key: translate(locale, msgid) for key, msgid in LABELS.items()}


def document_title(invoice_type: str, locale: str | None) -> str:
    return labels_for(locale)[invoice_type]


# Rec 20 units without a CLDR unit, as the document prints them after a quantity (msgids).
UNIT_LABELS: dict[str, str] = {
    "H87": N_("pcs"),
    "SET": N_("sets"),
    "PR": N_("pairs"),
    "XPK": N_("pkgs"),
    "LS": N_("lump sum"),
    "E48": N_("service units"),
}


def quantity_with_unit(number: str, unit: str | None, language: str) -> str:
    """"2 h", "2 Std.", "3 pcs": the quantity with its Rec 20 unit in the document's language.

    C62 ("one") is a plain count and prints no unit; CLDR units come from babel.
    """
    from babel.units import format_unit

    from ...domain.codelists import CLDR_UNITS

    if not unit or unit == "C62":
        return number
    if unit in CLDR_UNITS:
        try:
            return format_unit(number, CLDR_UNITS[unit], "short", locale=language)
        except (KeyError, ValueError):  # a unit this babel lacks prints its code
            return f"{number} {unit}"
    label = UNIT_LABELS.get(unit)
    return f"{number} {translate(language, label) if label else unit}"


def unit_symbol(unit: str | None, locale: str | None) -> str:
    """The short label of a Rec 20 unit for pages ("" for C62, "h", "Std.", "pcs")."""
    from babel.units import get_unit_name

    from ...domain.codelists import CLDR_UNITS

    language = document_language(locale)
    if not unit or unit == "C62":
        return ""
    if unit in CLDR_UNITS:
        try:
            return get_unit_name(CLDR_UNITS[unit], length="short", locale=language) or unit
        except (KeyError, ValueError):
            return unit
    label = UNIT_LABELS.get(unit)
    return translate(language, label) if label else unit
