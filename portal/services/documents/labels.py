"""The per-locale label tables of the document of record (the invoice mail reuses them)."""

from __future__ import annotations

# The document's words in the invoice's locale. A small table rather than gettext catalogs:
# a PDF needs a few dozen fixed labels, and the mail reuses them.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice", "proforma": "Proforma invoice",
        "shipping_invoice": "Delivery note", "credit_note": "Credit note",
        "draft": "DRAFT", "draft_note": "Preview – not a valid document",
        "number": "Number", "issue_date": "Date", "due_date": "Due date",
        "expires_at": "Valid until", "order": "Order", "customer": "Customer no.",
        "reference": "Reference", "package_number": "Package number", "channel": "Channel",
        "seller": "From", "buyer": "Bill to", "ship_to": "Ship to",
        "vat_id": "VAT ID", "tax_office": "Tax office", "tax_number": "Tax number",
        "email": "E-mail", "phone": "Phone",
        "cancels": "Cancels invoice {number}", "corrects": "Corrects invoice {number}",
        "proforma_note": "This proforma invoice is an offer, not a request for payment.",
        "pos": "Pos.", "description": "Description", "quantity": "Quantity",
        "unit_price": "Unit price", "tax_rate": "Tax", "amount_net": "Net amount",
        "amount_gross": "Gross amount", "sku": "SKU", "line_discount": "Discount",
        "subtotal_before": "Subtotal before discounts", "discount": "Discount",
        "subtotal": "Subtotal", "shipping_cost": "Shipping", "payment_fee": "Payment fee",
        "tax_breakdown": "Tax breakdown", "tax_code": "Tax", "rate": "Rate",
        "taxable": "Taxable amount", "tax_amount": "Tax amount",
        "total_net": "Total net", "total_tax": "Total tax", "total_gross": "Total",
        "total_quantity": "Total quantity", "total_weight": "Total weight",
        "shipping": "Shipment", "shipped_at": "Shipped on",
        "number_of_packages": "Packages", "carriage": "Carriage",
        "carriage_paid": "Carriage paid", "carriage_forward": "Carriage forward",
        "goods_appearance": "Appearance of goods", "tracking_number": "Tracking number",
        "transport_reason": "Reason for transport",
        "page": "Page", "page_of": "of",
        "prices_gross": "Prices include tax.", "prices_net": "Prices exclude tax.",
    },
    "de": {
        "invoice": "Rechnung", "proforma": "Proforma-Rechnung",
        "shipping_invoice": "Lieferschein", "credit_note": "Gutschrift",
        "draft": "ENTWURF", "draft_note": "Vorschau – kein gültiges Dokument",
        "number": "Nummer", "issue_date": "Datum", "due_date": "Fällig am",
        "expires_at": "Gültig bis", "order": "Bestellung", "customer": "Kundennummer",
        "reference": "Referenz", "package_number": "Paketnummer", "channel": "Kanal",
        "seller": "Von", "buyer": "Rechnungsempfänger", "ship_to": "Lieferanschrift",
        "vat_id": "USt-IdNr.", "tax_office": "Finanzamt", "tax_number": "Steuernummer",
        "email": "E-Mail", "phone": "Telefon",
        "cancels": "Storno zu Rechnung {number}", "corrects": "Korrektur zu Rechnung {number}",
        "proforma_note": "Diese Proforma-Rechnung ist ein Angebot, keine Zahlungsaufforderung.",
        "pos": "Pos.", "description": "Beschreibung", "quantity": "Menge",
        "unit_price": "Einzelpreis", "tax_rate": "USt.", "amount_net": "Netto",
        "amount_gross": "Brutto", "sku": "Art.-Nr.", "line_discount": "Rabatt",
        "subtotal_before": "Zwischensumme vor Rabatt", "discount": "Rabatt",
        "subtotal": "Zwischensumme", "shipping_cost": "Versand",
        "payment_fee": "Zahlungsgebühr", "tax_breakdown": "Steueraufstellung",
        "tax_code": "Steuer", "rate": "Satz", "taxable": "Nettobetrag",
        "tax_amount": "Steuerbetrag", "total_net": "Summe netto", "total_tax": "Summe Steuer",
        "total_gross": "Gesamtbetrag", "total_quantity": "Gesamtmenge",
        "total_weight": "Gesamtgewicht", "shipping": "Versand", "shipped_at": "Versanddatum",
        "number_of_packages": "Packstücke", "carriage": "Frachtkosten",
        "carriage_paid": "frei Haus", "carriage_forward": "unfrei",
        "goods_appearance": "Äußere Beschaffenheit", "tracking_number": "Sendungsnummer",
        "transport_reason": "Transportgrund",
        "page": "Seite", "page_of": "von",
        "prices_gross": "Preise inklusive Steuer.", "prices_net": "Preise zuzüglich Steuer.",
    },
    "it": {
        "invoice": "Fattura", "proforma": "Fattura proforma",
        "shipping_invoice": "Documento di trasporto", "credit_note": "Nota di credito",
        "draft": "BOZZA", "draft_note": "Anteprima – documento non valido",
        "number": "Numero", "issue_date": "Data", "due_date": "Scadenza",
        "expires_at": "Valida fino al", "order": "Ordine", "customer": "Cliente n.",
        "reference": "Riferimento", "package_number": "Numero collo", "channel": "Canale",
        "seller": "Da", "buyer": "Intestatario", "ship_to": "Destinazione",
        "vat_id": "Partita IVA", "tax_office": "Ufficio fiscale",
        "tax_number": "Codice fiscale", "email": "E-mail", "phone": "Telefono",
        "cancels": "Storno della fattura {number}", "corrects": "Rettifica della fattura {number}",
        "proforma_note": "Questa fattura proforma è un'offerta, non una richiesta di pagamento.",
        "pos": "Pos.", "description": "Descrizione", "quantity": "Quantità",
        "unit_price": "Prezzo unitario", "tax_rate": "IVA", "amount_net": "Importo netto",
        "amount_gross": "Importo lordo", "sku": "Cod.", "line_discount": "Sconto",
        "subtotal_before": "Subtotale prima degli sconti", "discount": "Sconto",
        "subtotal": "Subtotale", "shipping_cost": "Spedizione",
        "payment_fee": "Commissione di pagamento", "tax_breakdown": "Riepilogo IVA",
        "tax_code": "Imposta", "rate": "Aliquota", "taxable": "Imponibile",
        "tax_amount": "Imposta", "total_net": "Totale imponibile", "total_tax": "Totale IVA",
        "total_gross": "Totale", "total_quantity": "Quantità totale",
        "total_weight": "Peso totale", "shipping": "Spedizione",
        "shipped_at": "Data di spedizione", "number_of_packages": "Colli",
        "carriage": "Porto", "carriage_paid": "Porto franco",
        "carriage_forward": "Porto assegnato", "goods_appearance": "Aspetto dei beni",
        "tracking_number": "Numero di tracciamento",
        "transport_reason": "Causale del trasporto",
        "page": "Pagina", "page_of": "di",
        "prices_gross": "Prezzi IVA inclusa.", "prices_net": "Prezzi IVA esclusa.",
    },
    "tr": {
        "invoice": "Fatura", "proforma": "Proforma fatura",
        "shipping_invoice": "İrsaliye", "credit_note": "İade faturası",
        "draft": "TASLAK", "draft_note": "Önizleme – geçerli bir belge değildir",
        "number": "Numara", "issue_date": "Tarih", "due_date": "Son ödeme tarihi",
        "expires_at": "Geçerlilik tarihi", "order": "Sipariş", "customer": "Müşteri no.",
        "reference": "Referans", "package_number": "Paket numarası", "channel": "Kanal",
        "seller": "Satıcı", "buyer": "Alıcı", "ship_to": "Teslimat adresi",
        "vat_id": "KDV no.", "tax_office": "Vergi dairesi", "tax_number": "Vergi numarası",
        "email": "E-posta", "phone": "Telefon",
        "cancels": "{number} numaralı faturanın iptali",
        "corrects": "{number} numaralı faturanın düzeltmesi",
        "proforma_note": "Bu proforma fatura bir tekliftir, ödeme talebi değildir.",
        "pos": "Sıra", "description": "Açıklama", "quantity": "Miktar",
        "unit_price": "Birim fiyat", "tax_rate": "KDV", "amount_net": "Net tutar",
        "amount_gross": "Brüt tutar", "sku": "Stok kodu", "line_discount": "İndirim",
        "subtotal_before": "İndirim öncesi ara toplam", "discount": "İndirim",
        "subtotal": "Ara toplam", "shipping_cost": "Kargo", "payment_fee": "Ödeme ücreti",
        "tax_breakdown": "Vergi dökümü", "tax_code": "Vergi", "rate": "Oran",
        "taxable": "Matrah", "tax_amount": "Vergi tutarı", "total_net": "Net toplam",
        "total_tax": "Toplam vergi", "total_gross": "Genel toplam",
        "total_quantity": "Toplam miktar", "total_weight": "Toplam ağırlık",
        "shipping": "Sevkiyat", "shipped_at": "Sevk tarihi",
        "number_of_packages": "Koli sayısı", "carriage": "Taşıma ücreti",
        "carriage_paid": "Ödenmiş", "carriage_forward": "Karşı ödemeli",
        "goods_appearance": "Malın görünümü", "tracking_number": "Takip numarası",
        "transport_reason": "Taşıma nedeni",
        "page": "Sayfa", "page_of": "/",
        "prices_gross": "Fiyatlara vergi dahildir.", "prices_net": "Fiyatlara vergi hariçtir.",
    },
}


# SPEC §9 labels: "Invoice date", delivery date / service period, the credit wording, the
# payment means printed from data. Merged over the tables above.
_LEGAL_LABELS: dict[str, dict[str, str]] = {'en': {'issue_date': 'Invoice date',
            'credit_note_date': 'Credit note date',
            'document_date': 'Date',
            'delivery_date': 'Delivery date',
            'service_period': 'Service period',
            'preceding_invoice': 'Original invoice',
            'buyer_reference': 'Buyer reference',
            'registration': 'Registration',
            'contact': 'Contact',
            'cancels': 'This credit note cancels invoice {number} of {date}; the amount will be '
                       'refunded.',
            'corrects': 'This credit note corrects invoice {number} of {date}; the amount will be '
                        'refunded.',
            'payment_means': 'Payment',
            'iban': 'IBAN',
            'bic': 'BIC',
            'account_name': 'Account holder',
            'pay_by': 'Please pay {amount} by {date}.',
            'means_58': 'SEPA credit transfer',
            'means_30': 'Credit transfer',
            'means_49': 'Direct debit',
            'means_48': 'Bank card',
            'means_10': 'Cash',
            'reverse_charge_note': 'Tax exemption'},
     'de': {'issue_date': 'Rechnungsdatum',
            'credit_note_date': 'Gutschriftsdatum',
            'document_date': 'Datum',
            'delivery_date': 'Lieferdatum',
            'service_period': 'Leistungszeitraum',
            'preceding_invoice': 'Ursprungsrechnung',
            'buyer_reference': 'Käuferreferenz',
            'registration': 'Registereintrag',
            'contact': 'Kontakt',
            'cancels': 'Diese Gutschrift storniert die Rechnung {number} vom {date}; der Betrag '
                       'wird erstattet.',
            'corrects': 'Diese Gutschrift korrigiert die Rechnung {number} vom {date}; der Betrag '
                        'wird erstattet.',
            'payment_means': 'Zahlung',
            'iban': 'IBAN',
            'bic': 'BIC',
            'account_name': 'Kontoinhaber',
            'pay_by': 'Bitte zahlen Sie {amount} bis zum {date}.',
            'means_58': 'SEPA-Überweisung',
            'means_30': 'Überweisung',
            'means_49': 'Lastschrift',
            'means_48': 'Bankkarte',
            'means_10': 'Bar',
            'reverse_charge_note': 'Steuerbefreiung'},
     'it': {'issue_date': 'Data fattura',
            'credit_note_date': 'Data nota di credito',
            'document_date': 'Data',
            'delivery_date': 'Data di consegna',
            'service_period': 'Periodo di servizio',
            'preceding_invoice': 'Fattura originale',
            'buyer_reference': 'Riferimento acquirente',
            'registration': 'Registro imprese',
            'contact': 'Contatto',
            'cancels': "Questa nota di credito annulla la fattura {number} del {date}; l'importo "
                       'sarà rimborsato.',
            'corrects': 'Questa nota di credito rettifica la fattura {number} del {date}; '
                        "l'importo sarà rimborsato.",
            'payment_means': 'Pagamento',
            'iban': 'IBAN',
            'bic': 'BIC',
            'account_name': 'Intestatario',
            'pay_by': 'Si prega di pagare {amount} entro il {date}.',
            'means_58': 'Bonifico SEPA',
            'means_30': 'Bonifico',
            'means_49': 'Addebito diretto',
            'means_48': 'Carta',
            'means_10': 'Contanti',
            'reverse_charge_note': 'Esenzione IVA'},
     'tr': {'issue_date': 'Fatura tarihi',
            'credit_note_date': 'İade faturası tarihi',
            'document_date': 'Tarih',
            'delivery_date': 'Teslim tarihi',
            'service_period': 'Hizmet dönemi',
            'preceding_invoice': 'Asıl fatura',
            'buyer_reference': 'Alıcı referansı',
            'registration': 'Ticaret sicili',
            'contact': 'İletişim',
            'cancels': 'Bu iade faturası {date} tarihli {number} numaralı faturayı iptal eder; '
                       'tutar iade edilecektir.',
            'corrects': 'Bu iade faturası {date} tarihli {number} numaralı faturayı düzeltir; '
                        'tutar iade edilecektir.',
            'payment_means': 'Ödeme',
            'iban': 'IBAN',
            'bic': 'BIC',
            'account_name': 'Hesap sahibi',
            'pay_by': 'Lütfen {amount} tutarını {date} tarihine kadar ödeyin.',
            'means_58': 'SEPA havalesi',
            'means_30': 'Havale',
            'means_49': 'Otomatik ödeme',
            'means_48': 'Banka kartı',
            'means_10': 'Nakit',
            'reverse_charge_note': 'Vergi muafiyeti'}}
for _language, _extra in _LEGAL_LABELS.items():
    LABELS[_language].update(_extra)


def document_language(locale: str | None) -> str:
    """The LABELS language for a locale (`de_AT` -> `de`), English when we have none."""
    language = (locale or "en").replace("-", "_").split("_")[0].lower()
    return language if language in LABELS else "en"


def labels_for(locale: str | None) -> dict[str, str]:
    return LABELS[document_language(locale)]


def document_title(invoice_type: str, locale: str | None) -> str:
    return labels_for(locale)[invoice_type]


# Rec 20 units without a CLDR unit, as the document prints them after a quantity.
UNIT_LABELS: dict[str, dict[str, str]] = {'en': {'H87': 'pcs', 'SET': 'sets', 'PR': 'pairs', 'XPK': 'pkgs', 'LS': 'lump sum', 'E48': 'service units'}, 'de': {'H87': 'Stk.', 'SET': 'Satz', 'PR': 'Paar', 'XPK': 'Pkt.', 'LS': 'pauschal', 'E48': 'Leistungseinheiten'}, 'it': {'H87': 'pz.', 'SET': 'set', 'PR': 'paia', 'XPK': 'colli', 'LS': 'forfait', 'E48': 'unità di servizio'}, 'tr': {'H87': 'adet', 'SET': 'takım', 'PR': 'çift', 'XPK': 'paket', 'LS': 'götürü', 'E48': 'hizmet birimi'}}


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
    label = UNIT_LABELS.get(language, UNIT_LABELS["en"]).get(unit)
    return f"{number} {label or unit}"


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
    return UNIT_LABELS.get(language, UNIT_LABELS["en"]).get(unit) or unit
