"""Orders: list, create with lines (the line editor without JavaScript), invoice an order."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Invoice, Order

from .conftest import text


def order_data(lines, **changes) -> dict:
    data = {"command": "save", "code": "WEB-100", "customer": "C-1", "placed_at": ""}
    for i, row in enumerate(lines):
        for key, value in {"sku": "", "tax_code": "VAT", **row}.items():
            data[f"lines-{i}-{key}"] = value
    data.update(changes)
    return data


def test_list_shows_orders_and_their_invoices(as_viewer, world):
    page = text(as_viewer.get(world.url("/orders")))
    assert "ORD1" in page and "Jane Buyer" in page and "none yet" in page
    assert text(as_viewer.get(world.url("/orders", world.event2))).count("ORD1") == 0


def test_add_line_without_javascript(as_manager, world):
    response = as_manager.post(world.url("/orders/new"), order_data(
        [{"name": "Ticket", "quantity": "1", "unit_price": "10", "tax_rate": "19"}],
        command="add:lines"))
    assert response.status_code == 200
    page = text(response)
    assert 'name="lines-1-name"' in page and 'value="Ticket"' in page
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_create_an_order_with_lines(as_manager, world):
    response = as_manager.post(world.url("/orders/new"), order_data([
        {"name": "Ticket", "quantity": "2", "unit_price": "99.50", "tax_rate": "19", "sku": "T"},
        {"name": "", "quantity": "", "unit_price": "", "tax_rate": ""},
        {"name": "Parking", "quantity": "1", "unit_price": "5", "tax_rate": "7"},
    ], placed_at="2026-05-01T09:30"))
    assert response.status_code == 303
    order = db.session.scalar(select(Order).where(Order.code == "WEB-100"))
    assert response.headers["Location"] == world.url(f"/orders/{order.id}")
    assert [(li.name, li.quantity, li.unit_price) for li in order.lines] == [
        ("Ticket", Decimal("2.00"), Decimal("99.500")), ("Parking", Decimal("1.00"),
                                                         Decimal("5.000"))]
    assert order.placed_at.isoformat() == "2026-05-01T09:30:00+00:00"
    page = text(as_manager.follow(response))
    assert "Order WEB-100 is saved." in page and "€99.50" in page


def test_order_errors_are_shown_at_their_fields(as_manager, world):
    response = as_manager.post(world.url("/orders/new"), order_data(
        [{"name": "Ticket", "quantity": "0", "unit_price": "1", "tax_rate": "19"}],
        code="ORD1", customer=""))
    assert response.status_code == 400
    page = text(response)
    assert "An order with this code exists in this event." in page
    assert "Must be greater than 0." in page.split('name="lines-0-quantity"', 1)[1][:400]
    assert "This field is required." in page.split('name="customer"', 1)[1][:2000]
    assert db.session.scalar(select(func.count(Order.id))) == 1


def test_invoice_this_order(as_manager, world):
    page = text(as_manager.get(world.url(f"/orders/{world.order.id}")))
    assert "Invoice this order" in page
    response = as_manager.post(world.url("/invoices/from-order"), {"order": "ORD1"})
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_code == "ORD1"))
    assert response.headers["Location"] == world.url(f"/invoices/{invoice.id}/edit")
    page = text(as_manager.get(world.url(f"/orders/{world.order.id}")))
    assert f"Draft #{invoice.id}" in page


def test_viewers_get_no_invoice_button(as_viewer, world):
    page = text(as_viewer.get(world.url(f"/orders/{world.order.id}")))
    assert "ORD1" in page and "Invoice this order" not in page
