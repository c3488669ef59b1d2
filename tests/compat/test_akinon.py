"""Akinon OMS dialect: the seed's own Python client, answered in the seed's shapes (SPEC §12)."""

from __future__ import annotations

import requests

from portal.extensions import db
from portal.services import invoices
from tests.factories import ACTOR, line

from .seeds import AKINON_INVOICE, AKINON_LIST, same_shape


def seed_client(oms_base_url: str, api_token: str, path: str = "") -> requests.Response:
    """The seed document's example, as written (only the base URL is ours)."""
    url = f"https://{oms_base_url}/api/v1/oms/invoices/{path}"

    headers = {
    'Accept': 'application/json',
    'Authorization': 'Token {}'.format(api_token)  # noqa: UP032 - as the seed writes it
    }

    response = requests.request("GET", url, headers=headers)
    return response


def _base(world, organizer=None) -> str:
    return f"portal.test/compat/akinon/{(organizer or world.organizer).slug}"


def _seed_item_invoice(world, make):
    """The seed's item: one line of 399.00 at 8 %, gross entry, per line, from an order."""
    customer = make.customer(world.organizer)
    order = make.order(world.event, customer, code="378321346010117487", lines=[
        {"sku": "SKU-1", "name": "Item", "quantity": "1", "unit_price": "399.00",
         "tax_rate": "8.00"}])
    draft = invoices.create_draft(world.event, {"order": order.code, "prices_include_tax": True,
                                                "package_number": "PCK_200_1"}, actor=ACTOR)
    invoices.close_invoice(draft, actor=ACTOR)
    db.session.flush()
    return draft, order


def test_the_seed_client_lists_and_reads_in_the_seed_shapes(seed_http, world, make):
    invoice, order = _seed_item_invoice(world, make)
    listed = seed_client(_base(world), world.rw.plain)
    assert listed.status_code == 200
    body = listed.json()
    assert same_shape(body, AKINON_LIST) == []
    assert [item["id"] for item in body["results"]] == [invoice.id]

    detail = seed_client(_base(world), world.rw.plain, f"{invoice.id}/")
    assert detail.status_code == 200
    item = detail.json()
    assert same_shape(item, AKINON_INVOICE) == [] and item == body["results"][0]
    assert item["invoice_type"] == "purchased" and item["status"] == "open"
    assert item["number"] == invoice.number and item["package_number"] == "PCK_200_1"
    # 399.00 gross at 8 %: tax = 399.00 * 8 / 108 = 29.555… -> 29.56; no line discount, so
    # the gross before and after it are both 399.00 (Akinon's total_amount and net_amount).
    [seed_item] = item["invoiceitem_set"]
    assert {k: seed_item[k] for k in ("tax_rate", "tax_amount", "discount_rate",
                                      "discount_amount", "interest_rate", "interest_amount",
                                      "total_amount", "net_amount")} == {
        "tax_rate": "8.00", "tax_amount": "29.56", "discount_rate": "0.00",
        "discount_amount": "0.00", "interest_rate": "0.00", "interest_amount": None,
        "total_amount": "399.00", "net_amount": "399.00"}
    assert seed_item["order_item"] == order.lines[0].id
    assert item["order"]["id"] == order.id and item["order"]["number"] == "378321346010117487"
    assert item["order"]["billing_address"] == item["address"]["pk"] == invoice.id
    address = item["address"]
    assert address["first_name"] == "Jane" and address["line"] == "1 High St"
    assert address["postcode"] == "N1" and address["e_bill_taxpayer"] is False
    assert address["company_name"] == "Buyer Ltd" and address["tax_office"] is None


def test_line_discounts_read_in_akinons_meaning(seed_http, world, make):
    gross = make.closed(world.event, prices_include_tax=True, lines=[
        line(quantity="2", unit_price="100.00", tax_rate="8.00", discount_rate="10")])
    net = make.closed(world.event, lines=[
        line(quantity="1", unit_price="100.00", tax_rate="19.00", discount_amount="10.00")])
    credit = invoices.cancel_invoice(net, actor=ACTOR)
    db.session.flush()

    def item(invoice):
        return seed_client(_base(world), world.rw.plain, f"{invoice.id}/").json()

    # Gross entry: 2 x 100.00 = 200.00 before the 10 % line discount, 180.00 after it;
    # tax = 180.00 * 8 / 108 = 13.333… -> 13.33.
    [g] = item(gross)["invoiceitem_set"]
    assert (g["total_amount"], g["net_amount"], g["discount_amount"], g["discount_rate"],
            g["tax_amount"]) == ("200.00", "180.00", "20.00", "10.00", "13.33")
    # Net entry: 100.00 net = 119.00 gross before the 10.00 net discount; after it 90.00 net,
    # tax 17.10, gross 107.10; the discount in gross terms is 119.00 - 107.10 = 11.90.
    [n] = item(net)["invoiceitem_set"]
    assert (n["total_amount"], n["net_amount"], n["discount_amount"], n["discount_rate"],
            n["tax_amount"]) == ("119.00", "107.10", "11.90", "0.00", "17.10")
    refund = item(credit)
    assert refund["invoice_type"] == "refund" and refund["order"] is None
    assert refund["invoiceitem_set"][0]["net_amount"] == "-107.10"


def test_tenants_and_token_events(seed_http, world, make):
    mine = make.closed(world.event)
    theirs = make.closed(world.other_event)
    stranger_invoice = make.closed(world.stranger_event)
    # Another organizer's token, on our organizer's base URL: 404, as the API answers.
    assert seed_client(_base(world), world.stranger.plain).status_code == 404
    # Our token cannot reach into the stranger's invoices by id.
    assert seed_client(_base(world), world.rw.plain,
                       f"{stranger_invoice.id}/").status_code == 404
    # A token limited to other_event sees only its invoices.
    limited = seed_client(_base(world), world.limited.plain).json()
    assert [item["id"] for item in limited["results"]] == [theirs.id]
    assert seed_client(_base(world), world.limited.plain, f"{mine.id}/").status_code == 404
    assert seed_client(_base(world), world.ro.plain).json()["count"] == 2
    assert seed_client(_base(world), "wrong").status_code == 401
    assert seed_client(_base(world), world.rw.plain, "abc/").status_code == 404


def test_fifty_a_page(seed_http, world, make):
    customer = make.customer(world.organizer)
    for _ in range(51):
        make.invoice(world.event, customer)
    first = seed_client(_base(world), world.rw.plain).json()
    assert first["count"] == 51 and len(first["results"]) == 50
    assert first["next"].endswith("page=2") and first["previous"] is None
    assert seed_client(_base(world), world.rw.plain, "?page=3").status_code == 404
