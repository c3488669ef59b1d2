"""The document of record: PDF content read back with pypdf, storage, downloads, the CLI.

Figures are hand-computed (net entry, per_line, half_up):
  Shirt 3 x 56.33 = 168.99 net, 19 % -> 32.11     Cap 2 x 12.50 = 25.00 net, 7 % -> 1.75
  Kağıt defter 1 x 10.00 = 10.00 net, 19 % -> 1.90
  prediscount net 203.99; 10 % off -> q(20.399) = 20.40, spread 17.90 (19 %) + 2.50 (7 %),
  share taxes 3.40 and 0.18 (0.175 rounds up)
  19 %: taxable 178.99 - 17.90 = 161.09, tax 34.01 - 3.40 = 30.61
   7 %: taxable  25.00 -  2.50 =  22.50, tax  1.75 - 0.18 =  1.57
  net 183.59 + tax 32.18 = gross 215.77
"""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bench.pdf import benchmark_render, sample_invoice_dict
from portal import jobs
from portal.downloads import pdf_response
from portal.extensions import db
from portal.formatting import format_date
from portal.models import Invoice, InvoiceDocument
from portal.services import documents
from portal.services import invoices as svc
from portal.services.documents import DocumentPendingError, render
from portal.services.representation import invoice_to_dict

from ..factories import ACTOR, line

TURKISH_BUYER = {"company": "Doğan Şirketi", "first_name": "Ayşe", "last_name": "Yılmaz",
                 "street1": "Çiçek Sokağı 5", "city": "İstanbul", "postal_code": "34000",
                 "country": "TR", "email": "ayse@example.com"}


def pdf_text(pdf: bytes) -> list[str]:
    """The text of every page, with runs of whitespace made single spaces."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def discounted_invoice(make, event, **data):
    customer = make.customer(event.organizer, billing_address=TURKISH_BUYER)
    return make.invoice(event, customer, lines=[
        line("Shirt", "3", "56.33", sku="A927TP"), line("Cap", "2", "12.50", "7.00"),
        line("Kağıt defter", "1", "10.00")],
        discounts=[{"type": "percent_off", "value": "10"}], **data)


def close_and_store(invoice) -> Invoice:
    """Close as a request would: commit, then the in-process job makes the document."""
    svc.close_invoice(invoice, actor=ACTOR)
    jobs.commit()
    return db.session.get(Invoice, invoice.id)


def test_the_document_of_record_shows_everything_to_the_cent_and_downloads_identically(
        app, make):
    event = make.event(currency="EUR", locale="en")
    invoice = close_and_store(discounted_invoice(make, event))

    document = documents.stored_document(invoice)
    assert document is not None and document.pages == 1
    assert document.sha256 == hashlib.sha256(document.content).hexdigest()
    assert document.size == len(document.content)
    assert invoice_to_dict(invoice)["pdf_sha256"] == document.sha256

    (text,) = pdf_text(document.content)
    assert f"Invoice {invoice.number}" in text
    # The buyer, with ş, ğ and ı extracted as text (the embedded font has them).
    for part in ("Doğan Şirketi", "Ayşe Yılmaz", "Çiçek Sokağı 5", "34000 İstanbul"):
        assert part in text
    # Every line: position, description, quantity, unit price, rate and net amount.
    assert "1 Shirt SKU A927TP 3 €56.33 19 % €168.99" in text
    assert "2 Cap 2 €12.50 7 % €25.00" in text
    assert "3 Kağıt defter 1 €10.00 19 % €10.00" in text
    # Discount and totals to the cent.
    assert "Subtotal before discounts €203.99" in text
    assert "Discount 10 % -€20.40" in text
    assert "Subtotal €183.59" in text
    assert "Total net €183.59" in text
    assert "Total tax €32.18" in text
    assert "Total €215.77" in text
    # The tax breakdown: (code, rate, taxable, tax) per group.
    assert "VAT 19 % €161.09 €30.61" in text
    assert "VAT 7 % €22.50 €1.57" in text
    assert "Page 1 of 1" in text
    assert {"DejaVuSans", "DejaVuSans-Bold"} <= {name.split("+")[-1]
                                                   for name in font_names(document.content)}

    # Downloads serve the stored bytes, the same on every request, with a validator.
    bodies = []
    for _ in range(2):
        with app.test_request_context("/x"):
            response = pdf_response(invoice, as_attachment=True)
        bodies.append(response.get_data())
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["ETag"] == f'"{document.sha256}"'
        assert response.headers["Cache-Control"].startswith("private")
        assert response.headers["Content-Disposition"] == \
            f"attachment; filename={invoice.number}.pdf"
    assert bodies[0] == bodies[1] == document.content
    assert hashlib.sha256(bodies[0]).hexdigest() == invoice_to_dict(invoice)["pdf_sha256"]

    with app.test_request_context("/x", headers={"If-None-Match": f'"{document.sha256}"'}):
        response = pdf_response(invoice)
    assert response.status_code == 304 and response.get_data() == b""
    assert response.headers["ETag"] == f'"{document.sha256}"'

    # The job is idempotent and a stored document never changes, whoever asks again.
    assert documents.store_document_of_record(invoice.id).sha256 == document.sha256
    assert documents.store_pdf(invoice.id, b"%PDF-other").sha256 == document.sha256
    db.session.expire_all()
    assert db.session.get(InvoiceDocument, invoice.id).content == bodies[0]


def test_a_credit_note_says_what_it_cancels_with_negated_figures(app, make):
    event = make.event(currency="EUR", locale="en")
    original = close_and_store(make.invoice(event, lines=[line("Ticket", "2", "50.00")]))
    credit = svc.cancel_invoice(original, actor=ACTOR)
    jobs.commit()

    (text,) = pdf_text(documents.stored_document(credit).content)
    assert f"Credit note {credit.number}" in text
    assert (f"This credit note cancels invoice {original.number} of "
            f"{format_date(original.issue_date, 'en')}; the amount will be refunded.") in text
    # 2 x 50.00 = 100.00 net, 19.00 tax, 119.00 gross, all negated.
    assert "1 Ticket 2 -€50.00 19 % -€100.00" in text
    assert "VAT 19 % -€100.00 -€19.00" in text
    assert "Total -€119.00" in text


def test_a_long_invoice_spans_pages_and_repeats_the_table_header(app, make):
    event = make.event(currency="EUR", locale="en")
    lines = [line(f"Item number {i:03d}", "1", "1.00") for i in range(1, 151)]
    invoice = close_and_store(make.invoice(event, lines=lines))

    document = documents.stored_document(invoice)
    pages = pdf_text(document.content)
    assert document.pages == len(pages)
    header = "Pos. Description Quantity Unit price Tax Net amount"
    with_lines = [text for text in pages if "Item number" in text]
    assert len(with_lines) >= 3
    for text in with_lines:  # the header comes before the page's first line, on every page
        assert text.index(header) < text.index("Item number")
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
    everything = " ".join(pages)
    for i in range(1, 151):
        assert f"{i} Item number {i:03d} 1 €1.00 19 % €1.00" in everything
    # 150 x 1.00 net, 28.50 tax; the summary is kept together on the last page.
    assert "Total net €150.00 Total tax €28.50 Total €178.50" in pages[-1]


def test_a_draft_preview_is_stamped_and_never_stored(app, make):
    event = make.event(currency="EUR", locale="de")
    draft = make.invoice(event, locale="de", lines=[line("Konferenzticket", "1", "1234.56")])
    with app.test_request_context("/x"):
        response = pdf_response(draft)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "ETag" not in response.headers
    assert response.headers["Content-Disposition"] == f"inline; filename=draft-{draft.id}.pdf"
    (text,) = pdf_text(response.get_data())
    assert "ENTWURF · Vorschau – kein gültiges Dokument" in text
    # German labels, amounts and dates: 1234.56 + 19 % = 234.57 tax, 1469.13 gross.
    assert "1 Konferenzticket 1 1.234,56 € 19 % 1.234,56 €" in text
    assert "Gesamtbetrag 1.469,13 €" in text
    assert "Seite 1 von 1" in text
    assert draft.pdf_sha256 is None
    assert db.session.scalar(select(func.count()).select_from(InvoiceDocument).where(
        InvoiceDocument.invoice_id == draft.id)) == 0


def test_while_the_document_is_made_the_download_answers_409_with_retry_after(app, make):
    invoice = make.closed(make.event())
    jobs.discard_pending()  # the render job has not run yet

    with app.test_request_context("/api/v1/some/pdf/"):
        with pytest.raises(DocumentPendingError) as caught:
            pdf_response(invoice)
        response = app.handle_user_exception(caught.value)
    assert caught.value.retry_after == 3
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "3"
    assert response.get_json()["error"]["code"] == "document_pending"


def test_the_operator_command_makes_missing_pdfs_and_never_changes_one(app, make, runner):
    event = make.event()
    missing = make.closed(event)
    jobs.discard_pending()  # a lost render job
    present = close_and_store(make.invoice(event))
    kept = present.pdf_sha256

    result = runner.invoke(args=["render-missing-pdfs"])
    assert result.exit_code == 0, result.output
    assert f"Invoice {missing.id}: stored" in result.output
    assert f"Invoice {present.id}" not in result.output
    db.session.expire_all()
    assert documents.stored_document(db.session.get(Invoice, missing.id)) is not None
    assert db.session.get(Invoice, present.id).pdf_sha256 == kept

    again = runner.invoke(args=["render-missing-pdfs"])
    assert "0 PDF(s) made" in again.output


def test_types_have_their_titles_and_fields(app, make):
    event = make.event(currency="EUR", locale="en")
    customer = make.customer(event.organizer)
    shipping = close_and_store(make.invoice(
        event, customer, type="shipping_invoice",
        lines=[line("Merchandise box", "5", "20.00", weight="1.250")],
        shipping={"number_of_packages": 2, "carriage": "forward",
                  "goods_appearance": "Two cardboard boxes", "tracking_number": "rt-5pl7f-fg",
                  "transport_reason": "Order shipment"}))
    (text,) = pdf_text(documents.stored_document(shipping).content)
    assert f"Delivery note {shipping.number}" in text
    for part in ("Packages 2", "Carriage Carriage forward", "Tracking number rt-5pl7f-fg",
                 "Appearance of goods Two cardboard boxes", "Total quantity 5",
                 "Total weight 6.25 kg", "Total €119.00"):
        assert part in text

    proforma = close_and_store(make.invoice(
        event, customer, type="proforma", expires_at="2099-12-31T12:00:00Z",
        lines=[line("Sponsoring package", "1", "2500.00")]))
    (text,) = pdf_text(documents.stored_document(proforma).content)
    assert f"Proforma invoice {proforma.number}" in text
    assert "Valid until Dec 31, 2099" in text
    assert "an offer, not a request for payment" in text


def test_free_text_is_escaped_and_cannot_reach_files(app, make):
    event = make.event(currency="EUR", locale="en")
    hostile = '<img src="/etc/passwd"> <pdf:pagecount> & <b>bold</b>'
    invoice = make.invoice(event, lines=[line(hostile, "1", "5.00")],
                           texts={"introductory": "Line one\nLine <two>"})
    context = documents.build_pdf_context(invoice)
    html = documents.render_template_file("pdf/invoice.html", **context)
    assert "&lt;img src=&#34;/etc/passwd&#34;&gt;" in html
    assert "Line one<br/>Line &lt;two&gt;" in html
    (text,) = pdf_text(documents.render_invoice_pdf(context))
    assert hostile in text
    # The fetch callback hands out only the shipped fonts.
    assert render._link_callback("fonts/DejaVuSans.ttf", None) == \
        str(documents.FONT_DIR / "DejaVuSans.ttf")
    assert render._link_callback("/etc/passwd", None) == "/etc/passwd"
    assert render._link_callback("fonts/../../portal/config.py", None) == \
        "fonts/../../portal/config.py"


@pytest.mark.parametrize(("locale", "words"), [
    ("en", ["Invoice SAMPLE-1", "Due date", "Nov 16, 2026", "€1,234.50", "Total"]),
    ("de", ["Rechnung SAMPLE-1", "Fällig am", "16.11.2026", "1.234,50 €", "Gesamtbetrag"]),
    ("it", ["Fattura SAMPLE-1", "Scadenza", "16 nov 2026", "1.234,50 €", "Totale"]),
    ("tr", ["Fatura SAMPLE-1", "Son ödeme tarihi", "16 Kas 2026", "€1.234,50",
            "Genel toplam"]),
])
def test_labels_dates_and_amounts_follow_the_invoice_locale(locale, words):
    data = sample_invoice_dict(1, locale=locale)
    data["number"] = "SAMPLE-1"
    data["totals"]["gross"] = "1234.50"
    context = documents.context_from_dict(data)
    flat = " ".join([context["title"] + " " + context["number"],
                     *(f"{k} {v}" for k, v in context["meta"]),
                     *context["total_gross"]])
    flat = " ".join(flat.split())  # babel puts no-break spaces between amount and symbol
    for word in words:
        assert word in flat


def test_the_benchmark_hook_reports_time_per_page_and_bytes():
    result = benchmark_render(2)
    assert result["pages"] == 1
    assert result["bytes"] > 1000
    assert result["ms_per_page"] > 0
