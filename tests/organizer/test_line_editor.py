"""The line editor (issue 18): real defaults, numbers in the user's locale, live totals from
the server's money engine."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Event, Invoice, User
from portal.services.input import FieldErrors, clean_decimal

from .conftest import Browser, commit_fixtures, invoice_form, line_row, text


def german(world) -> None:
    user = db.session.get(User, world.manager.id)
    user.locale = "de"
    event = db.session.get(Event, world.event1.id)
    event.default_tax_rate = Decimal("19")
    commit_fixtures()


def newest_invoice() -> Invoice:
    db.session.expire_all()
    return db.session.scalars(select(Invoice).order_by(Invoice.id.desc())).first()


def test_a_new_line_starts_with_real_values(as_manager, world):
    event = db.session.get(Event, world.event1.id)
    event.default_tax_rate = Decimal("7")
    commit_fixtures()
    page = text(as_manager.get(world.url("/invoices/new")))
    assert 'name="lines-0-quantity" type="text" value="1"' in page
    assert 'name="lines-0-tax_rate" type="text" value="7"' in page
    assert 'placeholder="19"' not in page and 'placeholder="1"' not in page
    # the row an "Add line" button makes starts alike
    assert 'name="lines-__index__-quantity" type="text" value="1"' in page


def test_an_untouched_extra_row_is_not_a_line(as_manager, world):
    rows = [line_row(), line_row(description="", quantity="1", unit_price="", tax_rate="19")]
    response = as_manager.post(world.url("/invoices/new"),
                               invoice_form(world.customer.reference, lines=rows))
    assert response.status_code == 303
    assert len(newest_invoice().lines) == 1


def test_german_numbers_are_read_in_german(as_manager, world):
    german(world)
    rows = [line_row(quantity="1,5", unit_price="1.234,50", tax_rate="7")]
    response = as_manager.post(world.url("/invoices/new"), invoice_form(
        world.customer.reference, lines=rows,
        **{"shipping_method-name": "Post", "shipping_method-cost": "4,90",
           "shipping_method-tax_rate": "19"}))
    assert response.status_code == 303, text(response)
    invoice = newest_invoice()
    line = invoice.lines[0]
    assert (line.quantity, line.unit_price) == (Decimal("1.50"), Decimal("1234.500"))
    assert invoice.shipping_cost == Decimal("4.900")
    # 1.5 × 1234.50 = 1851.75 net, 7 % = 129.6225 → 129.62; shipping 4.90 + 19 % 0.931 →
    # 0.93: net 1856.65, tax 130.55, gross 1987.20
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == \
        (Decimal("1856.650"), Decimal("130.550"), Decimal("1987.200"))


def test_a_dotted_decimal_is_still_understood_in_german(as_manager, world):
    german(world)
    response = as_manager.post(world.url("/invoices/new"), invoice_form(
        world.customer.reference, lines=[line_row(unit_price="12.50")]))
    assert response.status_code == 303
    assert newest_invoice().lines[0].unit_price == Decimal("12.500")


def test_english_users_get_the_number_message_for_a_comma(as_manager, world):
    response = as_manager.post(world.url("/invoices/new"), invoice_form(
        world.customer.reference, lines=[line_row(unit_price="12,50")]))
    assert response.status_code == 400
    assert "Enter a number." in text(response)


def test_the_api_cleaners_stay_strict():
    errors = FieldErrors()
    assert clean_decimal(errors, "price", "12,50", places=3) is None
    assert errors == {"price": ["Enter a number."]}
    errors = FieldErrors()
    assert clean_decimal(errors, "price", "12,50", places=3, locale="de") == Decimal("12.500")
    assert not errors


def test_live_totals_come_from_the_money_engine(as_manager, world):
    german(world)
    before = db.session.scalar(select(func.count(Invoice.id)))
    rows = [line_row(quantity="3", unit_price="56,33", tax_rate="19"),
            line_row(quantity="3", unit_price="56,33", tax_rate="19"),
            line_row(quantity="3", unit_price="56,33", tax_rate="19")]
    response = as_manager.post(world.url("/invoices/preview"), invoice_form(
        world.customer.reference, lines=rows, **{"rounding-rule": "per_item"}))
    assert response.status_code == 200
    data = response.get_json()
    # SPEC §2a worked example, per_item: unit tax 10.70 × 9 = 96.30; 506.97 + 96.30 = 603.27
    assert (data["net_total"], data["tax_total"], data["gross_total"]) == \
        ("506.97", "96.30", "603.27")
    assert "603,27\xa0€" in data["html"] and "506,97\xa0€" in data["html"]
    # nothing is stored
    assert db.session.scalar(select(func.count(Invoice.id))) == before
    # the same lines, rounded once on the total: 96.32
    response = as_manager.post(world.url("/invoices/preview"), invoice_form(
        world.customer.reference, lines=rows, **{"rounding-rule": "total"}))
    assert response.get_json()["tax_total"] == "96.32"


def test_live_totals_name_the_problems(as_manager, world):
    response = as_manager.post(world.url("/invoices/preview"), invoice_form(
        world.customer.reference, lines=[line_row(quantity="0", unit_price="x")]))
    assert response.status_code == 400
    problems = response.get_json()["errors"]
    assert problems["lines-0-quantity"] == ["Must be greater than 0."]
    assert problems["lines-0-unit_price"] == ["Enter a number."]


def test_live_totals_need_a_manager_and_the_csrf_token(app, client, world):
    viewer = Browser(client, world.viewer)
    assert viewer.post(world.url("/invoices/preview"),
                       invoice_form(world.customer.reference)).status_code == 403
    manager = Browser(app.test_client(), world.manager)
    manager.token = "forged"
    response = manager.post(world.url("/invoices/preview"), invoice_form(world.customer.reference))
    assert response.status_code == 400
    assert "html" not in (response.get_json(silent=True) or {})


def test_the_page_degrades_to_totals_after_saving(as_manager, world):
    page = text(as_manager.get(world.url("/invoices/new")))
    assert "The totals are computed when you save the draft." in page
    assert f'data-preview-url="{world.url("/invoices/preview")}"' in page


def test_orders_and_payments_read_german_numbers_too(as_manager, world):
    from portal.models import Order, Payment
    german(world)
    page = text(as_manager.get(world.url("/orders/new")))
    assert 'name="lines-0-quantity" type="text" value="1"' in page
    response = as_manager.post(world.url("/orders/new"), {
        "code": "ORD-DE", "customer": world.customer.reference, "placed_at": "",
        "lines-0-name": "Sekt", "lines-0-quantity": "1,5", "lines-0-unit_price": "9,90",
        "lines-0-tax_rate": "19", "lines-0-sku": "", "lines-0-tax_code": "VAT",
        # an untouched second row (quantity 1 prefilled) is not a line
        "lines-1-name": "", "lines-1-quantity": "1", "lines-1-unit_price": "",
        "lines-1-tax_rate": "19", "lines-1-sku": "", "lines-1-tax_code": "VAT"})
    assert response.status_code == 303, text(response)
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.code == "ORD-DE"))
    assert [(line.quantity, line.unit_price) for line in order.lines] == \
        [(Decimal("1.50"), Decimal("9.900"))]
    response = as_manager.post(world.url(f"/invoices/{world.open.id}/payments"), {
        "amount": "19,00", "date": "2026-01-05", "method": "cash", "reference": ""})
    assert response.status_code == 303
    amounts = db.session.scalars(select(Payment.amount).where(
        Payment.invoice_id == world.open.id)).all()
    assert amounts == [Decimal("19.000")]
