"""Making and editing drafts with the invoice form: the line editor without JavaScript, every
field reaching the invoice, and the services' validation shown next to each field."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, Invoice

from .conftest import invoice_form, line_row, text


def invoice_count() -> int:
    return db.session.scalar(select(func.count(Invoice.id)))


def field_block(html: str, name: str) -> str:
    """The labelled block of the input named `name`: its label, the input and its errors."""
    at = html.index(f'name="{name}"')
    start = html.rindex('<div class="', 0, at)
    return html[start:html.index("</div>", at)]


def newest() -> Invoice:
    return db.session.scalar(select(Invoice).order_by(Invoice.id.desc()).limit(1))


def test_new_form_has_one_empty_line_and_the_event_texts(as_manager, world):
    world.event1.payment_text = "Pay within <14> days"
    db.session.commit()
    page = text(as_manager.get(world.url("/invoices/new")))
    assert 'name="lines-0-description"' in page
    assert 'name="lines-1-description"' not in page
    assert 'value="add:lines"' in page           # the no-JavaScript "add line" button
    assert "Pay within &lt;14&gt; days" in page   # the event's default text, escaped
    assert 'value="ORD1"' in page                 # "from an order" offers the event's orders


def test_add_line_posts_back_and_keeps_what_was_typed(as_manager, world):
    before = invoice_count()
    data = invoice_form("C-1", [line_row("First thing", "2", "10.00")], command="add:lines")
    response = as_manager.post(world.url("/invoices/new"), data)
    assert response.status_code == 200
    page = text(response)
    assert 'name="lines-1-description"' in page
    assert 'value="First thing"' in field_block(page, "lines-0-description")
    assert invoice_count() == before


def test_remove_line_posts_back_without_that_line(as_manager, world):
    data = invoice_form("C-1", [line_row("Keep me"), line_row("Drop me"), line_row("Me too")],
                        command="remove:lines:1")
    page = text(as_manager.post(world.url("/invoices/new"), data))
    assert "Drop me" not in page
    assert "Keep me" in page and "Me too" in page
    assert page.count('class="editor-row line-row"') == 2 + 1  # two rows and the template


def test_discount_rows_stop_at_five(as_manager, world):
    rows = [{"type": "percent_off", "value": "1"}] * 4
    page = text(as_manager.post(world.url("/invoices/new"),
                                invoice_form("C-1", discounts=rows, command="add:discounts")))
    assert 'name="discounts-4-value"' in page
    assert 'value="add:discounts"' not in page


def test_create_a_draft_with_two_lines(as_manager, world):
    before = invoice_count()
    response = as_manager.post(world.url("/invoices/new"), invoice_form("C-1", [
        line_row("Conference ticket", "2", "50.00", "19"),
        line_row("Workshop", "1", "20.00", "7"),
        line_row("", "", "", "19"),  # an untouched row is not a line
    ]))
    assert response.status_code == 303
    invoice = newest()
    assert invoice_count() == before + 1
    assert response.headers["Location"] == world.url(f"/invoices/{invoice.id}")
    assert invoice.status == "draft" and invoice.customer_id == world.customer.id
    assert [(li.description, li.quantity, li.unit_price, li.tax_rate) for li in invoice.lines] \
        == [("Conference ticket", Decimal("2.00"), Decimal("50.000"), Decimal("19.00")),
            ("Workshop", Decimal("1.00"), Decimal("20.000"), Decimal("7.00"))]
    # 2 × 50.00 + 19 % = 119.00; 20.00 + 7 % = 21.40
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == \
        (Decimal("120.00"), Decimal("20.40"), Decimal("140.40"))
    # No buyer typed in: the customer's billing address is used.
    assert invoice.billing_address["company"] == "Buyer Ltd"
    page = text(as_manager.follow(response))
    assert "The draft is saved." in page and "Conference ticket" in page and "€140.40" in page


def test_every_field_reaches_the_invoice(as_manager, world):
    data = invoice_form(
        "C-1",
        [line_row("Ticket", "2", "50.00", "19", sku="T-1", unit="pcs", weight="0.5",
                  request_note="Aisle seat"),
         line_row("Dinner", "1", "20.00", "7", discount_rate="", discount_amount="")],
        discounts=[{"type": "percent_off", "value": "10"}],
        **{"type": "shipping_invoice", "locale": "de", "due_date": "2030-01-31",
           "expires_at": "2030-01-15T12:30", "rounding-mode": "half_even",
           "rounding-rule": "per_line",
           "billing_address-company": "Other Buyer GmbH", "billing_address-city": "Köln",
           "billing_address-country": "de", "billing_address-is_corporate": "y",
           "shipping_address-first_name": "Sam", "shipping_address-city": "Bonn",
           "shipping_method-name": "DHL", "shipping_method-cost": "5.00",
           "shipping_method-tax_rate": "19", "shipping_method-tax_code": "VAT",
           "payment_method-name": "Card", "payment_method-fee": "0", "payment_method-tax_rate": "0",
           "shipping-number_of_packages": "2", "shipping-carriage": "paid",
           "shipping-tracking_number": "TRK-1", "shipping-goods_appearance": "Boxes",
           "shipping-transport_reason": "Sale", "shipping-shipped_at": "2030-01-02T08:00",
           "texts-introductory": "Hello", "texts-terms": "Terms apply",
           "reference-type": "quote", "reference-number": "Q-9", "package_number": "P-1",
           "channel": "web"})
    response = as_manager.post(world.url("/invoices/new"), data)
    assert response.status_code == 303, text(response)
    invoice = newest()
    assert invoice.type == "shipping_invoice" and invoice.locale == "de"
    assert invoice.due_date.isoformat() == "2030-01-31"
    assert invoice.expires_at.isoformat() == "2030-01-15T12:30:00+00:00"
    assert (invoice.rounding_mode, invoice.rounding_rule) == ("half_even", "per_line")
    assert invoice.billing_address["company"] == "Other Buyer GmbH"
    assert invoice.billing_address["country"] == "DE" and invoice.billing_address["is_corporate"]
    assert invoice.shipping_address["first_name"] == "Sam"
    line = invoice.lines[0]
    assert (line.sku, line.unit, line.weight, line.request_note) == \
        ("T-1", "H87", Decimal("0.500"), "Aisle seat")
    assert [(d.type, d.value) for d in invoice.discounts] == [("percent_off", Decimal("10.000"))]
    assert (invoice.shipping_method_name, invoice.shipping_cost) == ("DHL", Decimal("5.000"))
    assert (invoice.payment_method_name, invoice.payment_fee) == ("Card", Decimal("0.000"))
    assert (invoice.number_of_packages, invoice.carriage, invoice.tracking_number) == \
        (2, "paid", "TRK-1")
    assert invoice.shipped_at.isoformat() == "2030-01-02T08:00:00+00:00"
    assert (invoice.introductory_text, invoice.terms_text) == ("Hello", "Terms apply")
    assert (invoice.reference_type, invoice.reference_number) == ("quote", "Q-9")
    assert (invoice.package_number, invoice.channel) == ("P-1", "web")
    # Lines: 100.00 (19 %) and 20.00 (7 %) net = 120.00. 10 % off = 12.00, spread 10.00 / 2.00.
    # VAT 19 %: 90.00 → 17.10; VAT 7 %: 18.00 → 1.26; shipping 5.00 → 0.95; fee 0.
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == \
        (Decimal("113.00"), Decimal("19.31"), Decimal("132.31"))
    assert invoice.discount_total == Decimal("12.00")


def test_gross_entry_reaches_the_invoice(as_manager, world):
    response = as_manager.post(world.url("/invoices/new"), invoice_form(
        "C-1", [line_row("Akinon item", "1", "399.00", "8")], prices_include_tax="y"))
    assert response.status_code == 303
    invoice = newest()
    assert invoice.prices_include_tax is True
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == \
        (Decimal("369.44"), Decimal("29.56"), Decimal("399.00"))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("lines-1-quantity", "abc", "Enter a number."),
    ("lines-1-quantity", "0", "Must be greater than 0."),
    ("lines-1-quantity", "-2", "Must be greater than 0."),
    ("lines-1-quantity", "1.234", "Use at most 2 decimal places."),
    ("lines-1-unit_price", "12.3456", "Use at most 3 decimal places."),
    ("lines-1-unit_price", "ten", "Enter a number."),
    ("lines-1-tax_rate", "101", "Must be at most 100."),
    ("lines-1-tax_rate", "", "This field is required."),
    ("lines-1-discount_rate", "150", "Must be at most 100."),
    ("lines-1-description", "", "This field is required."),
    ("due_date", "2026-13-45", "Enter a date as YYYY-MM-DD."),
    ("expires_at", "next week", "Enter a date and time in ISO 8601 form."),
    ("billing_address-country", "Germany", "Enter a two-letter ISO country code, e.g. DE."),
    ("billing_address-email", "not-an-address", "Enter a valid e-mail address."),
    ("currency", "XYZ", "Unknown ISO 4217 currency code."),
    ("shipping_method-cost", "-1", "Must be at least 0."),
])
def test_bad_input_comes_back_next_to_its_field_and_nothing_is_saved(as_manager, world, field,
                                                                     value, message):
    before = invoice_count()
    data = invoice_form("C-1", [line_row("Fine"), line_row("Second")])
    if field.startswith("shipping_method"):
        data["shipping_method-name"] = "DHL"
    data[field] = value
    response = as_manager.post(world.url("/invoices/new"), data)
    assert response.status_code == 400
    page = text(response)
    block = field_block(page, field)
    assert "has-error" in block and message in block
    assert 'aria-invalid="true"' in block
    assert invoice_count() == before
    # What was typed is still there, so it can be corrected.
    assert 'value="Fine"' in page


def test_errors_land_on_the_right_row_when_blank_rows_are_skipped(as_manager, world):
    data = invoice_form("C-1", [line_row("First"), line_row("", "", "", "19"),
                                line_row("Third", quantity="zero")])
    page = text(as_manager.post(world.url("/invoices/new"), data))
    assert "Enter a number." in field_block(page, "lines-2-quantity")
    assert "Enter a number." not in field_block(page, "lines-1-quantity")


def test_too_many_discounts_are_refused_with_the_message_at_the_discounts(as_manager, world):
    before = invoice_count()
    rows = [{"type": "percent_off", "value": "1"}] * 6
    response = as_manager.post(world.url("/invoices/new"), invoice_form("C-1", discounts=rows))
    assert response.status_code == 400
    page = text(response)
    discounts = page.split("<h2>Discounts", 1)[1].split("</section>", 1)[0]
    assert "At most 5 discounts." in discounts
    assert invoice_count() == before


def test_bad_discount_value_is_shown_at_its_row(as_manager, world):
    rows = [{"type": "percent_off", "value": "10"}, {"type": "percent_off", "value": "120"}]
    page = text(as_manager.post(world.url("/invoices/new"), invoice_form("C-1", discounts=rows)))
    assert "Must be at most 100." in field_block(page, "discounts-1-value")


def test_credit_note_needs_the_invoice_it_corrects(as_manager, world):
    response = as_manager.post(world.url("/invoices/new"),
                               invoice_form("C-1", type="credit_note"))
    assert response.status_code == 400
    assert "A credit note must refer to the invoice it corrects." in \
        field_block(text(response), "refers")


def test_shipping_fields_only_on_shipping_invoices(as_manager, world):
    response = as_manager.post(world.url("/invoices/new"), invoice_form(
        "C-1", **{"shipping-tracking_number": "TRK"}))
    assert response.status_code == 400
    page = text(response)
    shipment = page.split("<h2>Shipment", 1)[1].split("</section>", 1)[0]
    assert "Shipping fields are for shipping invoices only." in shipment


def test_edit_form_shows_the_draft_and_saves_changes(as_manager, world):
    url = world.url(f"/invoices/{world.draft.id}/edit")
    page = text(as_manager.get(url))
    assert 'value="Draft ticket"' in field_block(page, "lines-0-description")
    assert 'value="10.00"' in field_block(page, "lines-0-unit_price")
    assert 'value="1"' in field_block(page, "lines-0-quantity")
    response = as_manager.post(url, invoice_form("C-1", [line_row("Better ticket", "3", "12.50")]))
    assert response.status_code == 303
    invoice = db.session.get(Invoice, world.draft.id)
    db.session.refresh(invoice)
    assert [(li.description, li.quantity) for li in invoice.lines] == \
        [("Better ticket", Decimal("3.00"))]
    assert invoice.gross_total == Decimal("44.63")  # 37.50 + 19 % = 44.625 → 44.63
    assert db.session.scalar(select(AuditEntry.action).where(
        AuditEntry.invoice_id == invoice.id).order_by(AuditEntry.id.desc()).limit(1)) == "edit"


def test_edit_with_errors_changes_nothing(as_manager, world):
    url = world.url(f"/invoices/{world.draft.id}/edit")
    response = as_manager.post(url, invoice_form("C-1", [line_row("Changed", "-1")]))
    assert response.status_code == 400
    invoice = db.session.get(Invoice, world.draft.id)
    db.session.refresh(invoice)
    assert [li.description for li in invoice.lines] == ["Draft ticket"]


def test_closed_invoices_cannot_be_edited(as_manager, world):
    url = world.url(f"/invoices/{world.open.id}/edit")
    response = as_manager.get(url)
    assert response.status_code == 303
    assert "Only drafts can be edited" in text(as_manager.follow(response))
    before = db.session.get(Invoice, world.open.id).gross_total
    response = as_manager.post(url, invoice_form("C-1", [line_row("Sneaky", "9", "999")]))
    assert response.status_code == 303
    invoice = db.session.get(Invoice, world.open.id)
    db.session.refresh(invoice)
    assert invoice.gross_total == before
    assert "Sneaky" not in [li.description for li in invoice.lines]


def test_invoice_from_an_order(as_manager, world):
    response = as_manager.post(world.url("/invoices/from-order"), {"order": "ORD1"})
    assert response.status_code == 303
    invoice = newest()
    assert response.headers["Location"] == world.url(f"/invoices/{invoice.id}/edit")
    assert invoice.order_code == "ORD1" and invoice.customer_id == world.customer.id
    assert [(li.description, li.quantity, li.unit_price) for li in invoice.lines] == \
        [("Ticket", Decimal("2.00"), Decimal("50.000"))]
    page = text(as_manager.follow(response))
    assert "A draft with the lines and buyer of order ORD1 is ready." in page
    assert re.search(r'value="Ticket"', page)


def test_invoice_from_an_unknown_order_is_refused(as_manager, world):
    before = invoice_count()
    response = as_manager.post(world.url("/invoices/from-order"), {"order": "NOPE"})
    assert response.status_code == 303
    assert "No order with this code in this event." in text(as_manager.follow(response))
    assert invoice_count() == before


def test_form_post_without_csrf_token_is_rejected(as_manager, world):
    before = invoice_count()
    response = as_manager.client.post(world.url("/invoices/new"), data=invoice_form("C-1"))
    # refused, nothing saved; the form comes back to be sent again (issue 18), no bare 400
    assert response.status_code == 303
    assert "?stash=" in response.headers["Location"]
    assert invoice_count() == before
