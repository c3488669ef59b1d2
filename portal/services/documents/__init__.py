"""The document of record: the invoice PDF, made once when an invoice closes.

The pipeline has three steps, kept apart so an e-invoice step (PDF/A-3 with embedded
EN 16931 XML) can slot in between rendering and storing without touching either:

1. **render**: `build_pdf_context(invoice)` turns the invoice into a plain dict (no ORM objects,
   every figure already formatted in the invoice's locale) and `render_invoice_pdf(context)`
   turns that dict into PDF bytes with xhtml2pdf from `templates/pdf/`;
2. **post-process**: `postprocess_pdf(pdf, context)` — today it returns the bytes unchanged;
3. **store + hash**: `store_pdf(invoice_id, pdf)` keeps the bytes in the database (so every app
   server and worker sees them) and their SHA-256 on the invoice.

`store_document_of_record(invoice_id)` runs the three as the job queued by closing an invoice.
It is idempotent: an invoice that has its document keeps it, whoever asks again. A draft is
never stored; its PDF is a preview stamped DRAFT, made on every request.

Rendering reads nothing from outside the repository: the link callback maps `fonts/<name>` to
the DejaVu fonts shipped in `static/fonts/`, and xhtml2pdf's resource policy confines every
fetch to `static/` with the network switched off, so no free text in an invoice can make the
renderer read a file or a URL. Free text is escaped by Jinja's autoescaping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections.abc import Collection
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy import exists, or_, select

from ...config import ROOT
from ...domain.lifecycle import InvoiceStatus, InvoiceType
from ...errors import ConflictError
from ...extensions import db
from ...formatting import babel_locale, format_date, format_money, format_price
from ...models import Invoice, InvoiceDocument

STATIC_DIR = (ROOT / "static").resolve()
FONT_DIR = STATIC_DIR / "fonts"
TEMPLATE_DIR = ROOT / "templates"
PENDING_RETRY_AFTER = 3  # seconds; a typical invoice renders well under one


class DocumentPendingError(ConflictError):
    """A closed invoice's PDF is not stored yet; ask again after `retry_after` seconds."""

    code = "document_pending"
    message = "The PDF of this invoice is being prepared. Please try again in a moment."

    def __init__(self, message: str | None = None, *, retry_after: int = PENDING_RETRY_AFTER):
        super().__init__(message, code=self.code, retry_after=retry_after)


# ---------------------------------------------------------------- labels

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


def document_language(locale: str | None) -> str:
    """The LABELS language for a locale (`de_AT` -> `de`), English when we have none."""
    language = (locale or "en").replace("-", "_").split("_")[0].lower()
    return language if language in LABELS else "en"


def labels_for(locale: str | None) -> dict[str, str]:
    return LABELS[document_language(locale)]


def document_title(invoice_type: str, locale: str | None) -> str:
    return labels_for(locale)[invoice_type]


def pdf_filename(invoice: Invoice) -> str:
    """`<number>.pdf`, or `draft-<id>.pdf` for a draft; safe in a Content-Disposition."""
    stem = invoice.number if invoice.number else f"draft-{invoice.id}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-") + ".pdf"


# ---------------------------------------------------------------- step 1: render


def build_pdf_context(invoice: Invoice) -> dict:
    """The plain dict the PDF template renders, from the invoice object of SPEC §6."""
    from ..representation import invoice_to_dict

    return context_from_dict(invoice_to_dict(invoice), draft=invoice.is_draft)


def context_from_dict(data: dict, *, draft: bool = False) -> dict:
    """Format an invoice dict (SPEC §6 shape) for the PDF: labels and figures in its locale."""
    locale = babel_locale(data.get("locale"))
    labels = labels_for(data.get("locale"))
    currency = data["currency"]

    def money(value) -> str:
        return format_money(Decimal(value), currency, locale) if value is not None else ""

    def minus(value) -> str:
        return money(-Decimal(value)) if value is not None else ""

    def number(value, max_places: int = 3) -> str:
        amount = Decimal(value)
        if amount == amount.to_integral_value():
            amount = amount.quantize(Decimal(1))
        else:
            amount = amount.normalize()
            if -amount.as_tuple().exponent > max_places:
                amount = amount.quantize(Decimal(1).scaleb(-max_places))
        return format_decimal(amount, locale=locale, decimal_quantization=False)

    def percent(value) -> str:
        return f"{number(value, 2)} %" if value is not None else ""

    def day(value: str | None) -> str:
        if not value:
            return ""
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return format_date(parsed, locale)

    invoice_type = data["type"]
    gross_entry = bool(data.get("prices_include_tax"))
    meta = [(labels["number"], data.get("number") or "—")]
    for key in ("issue_date", "due_date", "expires_at"):
        if data.get(key) and not (key == "due_date" and invoice_type == "proforma"):
            meta.append((labels[key], day(data[key])))
    for key, value in (("order", data.get("order")), ("customer", data.get("customer")),
                       ("package_number", data.get("package_number"))):
        if value:
            meta.append((labels[key], value))
    reference = data.get("reference") or {}
    if reference.get("number"):
        kind = reference.get("type")
        meta.append((labels["reference"],
                     f"{kind} {reference['number']}" if kind else reference["number"]))

    refers_note = None
    if invoice_type == InvoiceType.CREDIT_NOTE and data.get("refers"):
        key = "cancels" if data.get("is_cancellation") else "corrects"
        refers_note = labels[key].format(number=data["refers"])

    lines = []
    for line in data["lines"]:
        details = []
        if line.get("sku"):
            details.append(f"{labels['sku']} {line['sku']}")
        if line.get("discount_rate"):
            details.append(f"{labels['line_discount']} {percent(line['discount_rate'])}")
        elif line.get("discount_amount"):
            details.append(f"{labels['line_discount']} {money(line['discount_amount'])}")
        lines.append({
            "position": line["position"],
            "description": line["description"],
            "details": " · ".join(details),
            "note": line.get("request_note") or "",
            "quantity": " ".join(filter(None, [number(line["quantity"], 2), line.get("unit")])),
            "unit_price": format_price(Decimal(line["unit_price"]), currency, locale),
            "tax_rate": percent(line["tax_rate"]),
            "amount": money(line["gross_amount"] if gross_entry else line["net_amount"]),
        })

    totals = data["totals"]
    basis = "gross" if gross_entry else "net"
    summary = []
    if data.get("discounts"):
        summary.append((labels["subtotal_before"], money(totals[f"prediscount_{basis}"])))
        for discount in data["discounts"]:
            label = labels["discount"]
            if discount["type"] == "percent_off":
                label = f"{label} {percent(discount['value'])}"
            summary.append((label, minus(discount["amount"])))
        summary.append((labels["subtotal"], money(totals[f"subtotal_{basis}"])))
    for key, label in (("shipping_method", "shipping_cost"), ("payment_method", "payment_fee")):
        charge = data.get(key)
        if charge:
            amount = charge.get("cost") if key == "shipping_method" else charge.get("fee")
            name = f"{labels[label]} ({charge['name']})" if charge.get("name") else labels[label]
            summary.append((name, money(amount)))

    shipping = None
    if invoice_type == InvoiceType.SHIPPING_INVOICE and data.get("shipping"):
        ship = data["shipping"]
        rows = []
        if ship.get("shipped_at"):
            rows.append((labels["shipped_at"], day(ship["shipped_at"])))
        if ship.get("number_of_packages"):
            rows.append((labels["number_of_packages"], str(ship["number_of_packages"])))
        if ship.get("carriage"):
            rows.append((labels["carriage"], labels[f"carriage_{ship['carriage']}"]))
        for key in ("goods_appearance", "tracking_number", "transport_reason"):
            if ship.get(key):
                rows.append((labels[key], ship[key]))
        rows.append((labels["total_quantity"], number(totals["quantity"], 2)))
        if Decimal(totals.get("weight") or 0):
            rows.append((labels["total_weight"], f"{number(totals['weight'], 3)} kg"))
        shipping = rows

    seller = data.get("seller") or {}
    title = labels[invoice_type]
    texts = data.get("texts") or {}
    return {
        "locale": document_language(data.get("locale")),
        "labels": labels,
        "draft": draft,
        "type": invoice_type,
        "title": title,
        "number": data.get("number") or "",
        "document_title": f"{title} {data.get('number') or labels['draft']}",
        "refers_note": refers_note,
        "proforma_note": labels["proforma_note"] if invoice_type == "proforma" else None,
        "meta": meta,
        "seller": {"name": seller.get("company") or "", "lines": _seller_lines(seller, labels,
                                                                               locale)},
        "buyer": _address_lines(data.get("billing_address") or {}, labels, locale),
        "ship_to": (_address_lines(data["shipping_address"], labels, locale)
                    if data.get("shipping_address") else None),
        "shipping": shipping,
        "amount_label": labels["amount_gross" if gross_entry else "amount_net"],
        "prices_note": labels["prices_gross" if gross_entry else "prices_net"],
        "lines": lines,
        "summary": summary,
        "taxes": [{"code": t["code"], "rate": percent(t["rate"]), "taxable": money(t["taxable"]),
                   "amount": money(t["amount"])} for t in data.get("taxes") or []],
        "totals": [(labels["total_net"], money(totals["net"])),
                   (labels["total_tax"], money(totals["tax"]))],
        "total_gross": (labels["total_gross"], money(totals["gross"])),
        "texts": {key: texts.get(key) or "" for key in
                  ("introductory", "additional", "payment", "footer", "terms")},
    }


def _country(code: str | None, locale: str) -> str:
    if not code:
        return ""
    return Locale.parse(locale).territories.get(code.upper(), code)


def _seller_lines(seller: dict, labels: dict, locale: str) -> list[str]:
    lines = [seller.get("street1"), seller.get("street2"),
             " ".join(filter(None, [seller.get("postal_code"), seller.get("city")])),
             _country(seller.get("country"), locale)]
    if seller.get("vat_id"):
        lines.append(f"{labels['vat_id']} {seller['vat_id']}")
    for key in ("email", "phone"):
        if seller.get(key):
            lines.append(f"{labels[key]} {seller[key]}")
    return [line for line in lines if line]


def _address_lines(address: dict, labels: dict, locale: str) -> list[str]:
    name = " ".join(filter(None, [address.get("first_name"), address.get("last_name")]))
    lines = [address.get("company"), name, address.get("street1"), address.get("street2"),
             " ".join(filter(None, [address.get("postal_code"), address.get("city")])),
             address.get("state"), _country(address.get("country"), locale)]
    for key in ("vat_id", "tax_office", "tax_number"):
        if address.get(key):
            lines.append(f"{labels[key]} {address[key]}")
    return [line for line in lines if line]


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


def render_invoice_pdf(context: dict) -> bytes:
    """Render the PDF for a context made by `build_pdf_context`. Pure: no database access."""
    from xhtml2pdf import pisa

    html = render_template_file("pdf/invoice.html", **context)
    out = io.BytesIO()
    status = pisa.CreatePDF(html, dest=out, encoding="utf-8", link_callback=_link_callback,
                            resource_policy=_resource_policy())
    if status.err:
        raise RuntimeError(f"the invoice PDF could not be rendered ({status.err} errors)")
    return out.getvalue()


# ---------------------------------------------------------------- step 2: post-process


def postprocess_pdf(pdf: bytes, context: dict) -> bytes:
    """Between rendering and storing: where an e-invoice (PDF/A-3 + EN 16931 XML) will be made.

    Today the rendered PDF is the document of record as it is.
    """
    return pdf


# ---------------------------------------------------------------- step 3: store + hash


def count_pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def stored_document(invoice: Invoice) -> InvoiceDocument | None:
    """The document of record, or None while it is not made yet (always None for a draft)."""
    if invoice.id is None or invoice.is_draft:
        return None
    return db.session.get(InvoiceDocument, invoice.id)


def store_pdf(invoice_id: int, pdf: bytes) -> InvoiceDocument | None:
    """Keep `pdf` as the invoice's document of record, unless it has one already.

    The invoice row is locked first, so of two jobs racing for one invoice the first to store
    wins and the second gets the stored document back: a document of record never changes.
    """
    from ..invoices import lock_invoice

    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft:
        return None
    lock_invoice(invoice)
    existing = stored_document(invoice)
    if existing is not None:
        return existing
    digest = hashlib.sha256(pdf).hexdigest()
    document = InvoiceDocument(invoice_id=invoice.id, content=pdf, sha256=digest,
                               size=len(pdf), pages=count_pages(pdf))
    db.session.add(document)
    invoice.pdf_sha256 = digest
    db.session.flush()
    return document


def store_document_of_record(invoice_id: int) -> InvoiceDocument | None:
    """The job run after close: render -> post-process -> store + hash. Safe to run twice.

    Rendering needs no lock: on PostgreSQL the invoice row is locked only for the store step.
    (On SQLite a job's transaction holds the database write lock from its first read, so
    other writers wait for the rendering — fine for the embedded single-server default.)
    """
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft:
        return None
    existing = stored_document(invoice)
    if existing is not None:
        return existing
    return store_pdf(invoice_id, make_pdf(build_pdf_context(invoice)))


def missing_document_ids(*, closed_before: dt.datetime, limit: int,
                         excluding: Collection[int] = ()) -> list[int]:
    """Closed invoices without a stored document that closed before `closed_before`.

    What a sweep picks up: a job that died (worker killed, process crash, broker away) leaves
    exactly this. `closed_before` keeps a grace period, so an invoice whose job is merely
    still queued or rendering is left to it. Oldest first, at most `limit`, none of
    `excluding` (those that failed a moment ago).
    """
    has_document = exists().where(InvoiceDocument.invoice_id == Invoice.id)
    query = (select(Invoice.id)
             .where(Invoice.status != InvoiceStatus.DRAFT.value, ~has_document,
                    or_(Invoice.closed_at.is_(None), Invoice.closed_at < closed_before))
             .order_by(Invoice.closed_at, Invoice.id)
             .limit(limit))
    if excluding:
        query = query.where(Invoice.id.not_in(list(excluding)))
    return list(db.session.scalars(query))


def pending_document_context(invoice_id: int) -> dict | None:
    """The PDF context of a closed invoice that has no document yet; None when there is
    nothing to make (a draft, a missing invoice, a document already stored)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_draft or stored_document(invoice) is not None:
        return None
    return build_pdf_context(invoice)


def make_pdf(context: dict) -> bytes:
    """Render and post-process: the bytes `store_pdf` keeps. No database access."""
    return postprocess_pdf(render_invoice_pdf(context), context)


def ensure_document(invoice: Invoice) -> InvoiceDocument:
    """The stored document, made now if its job has not run yet (mail needs the bytes)."""
    document = stored_document(invoice)
    if document is None:
        document = store_document_of_record(invoice.id)
    if document is None:
        raise DocumentPendingError()
    return document


def preview_pdf(invoice: Invoice) -> bytes:
    """A fresh rendering, never stored: the draft preview stamped DRAFT."""
    return render_invoice_pdf(build_pdf_context(invoice))


__all__ = [
    "DocumentPendingError", "LABELS", "build_pdf_context",
    "context_from_dict", "document_title", "ensure_document", "labels_for", "make_pdf",
    "missing_document_ids", "pdf_filename", "pending_document_context", "postprocess_pdf",
    "preview_pdf", "render_invoice_pdf", "store_document_of_record", "store_pdf",
    "stored_document",
]

