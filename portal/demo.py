"""Demo data: organizer `bigevents`, event `sampleconf`, and invoices in every type and status.

Loading twice keeps the data and hands out fresh credentials (new owner password, new token,
rotated customer keys), so the printed credentials always work.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select

from .extensions import db
from .models import ApiToken, Customer, Event, Organizer, User
from .services import customers as customer_service
from .services import invoices as inv
from .services import organizers as org_service
from .services.audit import Actor
from .services.orders import create_order
from .services.tokens import create_token, revoke_token

OWNER_EMAIL = "owner@bigevents.example"
SELLER = {"legal_name": "Big Events LLC", "company": "Big Events", "street1": "Demo Street 12",
          "city": "Berlin", "postal_code": "10115", "country": "DE", "vat_id": "DE123456789",
          "tax_number": "37/123/45678", "registration_id": "HRB 123456",
          "registration_scheme": "Amtsgericht Charlottenburg", "contact_name": "Olivia Owner",
          "email": "billing@bigevents.example", "phone": "+49 30 1234567",
          "electronic_address": {"id": "billing@bigevents.example", "scheme": "EM"}}
PAYMENT_MEANS = {"code": "58", "iban": "DE02120300000000202051", "bic": "BYLADEM1001",
                 "account_name": "Big Events LLC"}
CUSTOMERS = [
    {"reference": "C-1001", "name": "John Doe", "email": "john.doe@sample.example",
     "locale": "en",
     "billing_address": {"company": "Sample Company Ltd", "first_name": "John",
                         "last_name": "Doe", "street1": "221b Baker Street", "city": "London",
                         "postal_code": "NW1 6XE", "country": "GB", "is_corporate": True,
                         "email": "john.doe@sample.example"}},
    {"reference": "C-1002", "name": "Ayşe Yılmaz", "email": "ayse@ornek.example", "locale": "tr",
     "billing_address": {"first_name": "Ayşe", "last_name": "Yılmaz",
                         "street1": "Çiçek Sokağı 5", "city": "İstanbul", "postal_code": "34000",
                         "country": "TR", "tax_office": "Kadıköy", "tax_number": "1234567890",
                         "email": "ayse@ornek.example"}},
    {"reference": "C-1003", "name": "Jürgen Müller", "email": "juergen@beispiel.example",
     "locale": "de",
     "billing_address": {"first_name": "Jürgen", "last_name": "Müller",
                         "street1": "Hauptstraße 1", "city": "München", "postal_code": "80331",
                         "country": "DE", "email": "juergen@beispiel.example"}},
]


def _line(description, quantity, price, rate="19.00", sku=""):
    return {"sku": sku, "description": description, "quantity": quantity, "unit_price": price,
            "tax_rate": rate, "tax_code": "VAT", "unit": "pcs"}


def load_demo() -> dict:
    actor = Actor.system("demo")
    organizer = db.session.scalar(select(Organizer).where(Organizer.slug == "bigevents"))
    fresh = organizer is None
    if fresh:
        organizer = org_service.create_organizer("bigevents", "Big Events LLC", seller=SELLER,
                                                 actor=actor)
        org_service.update_profile(organizer, {"payment_means": PAYMENT_MEANS}, actor=actor)
        today = dt.date.today()
        event = org_service.create_event(
            organizer, "sampleconf", "Sample Conference 2026", actor=actor,
            invoice_prefix="SC2026-", proforma_prefix="SC2026-PF-",
            shipping_prefix="SC2026-DN-", currency="EUR", locale="en", due_days=14,
            introductory_text="Thank you for your purchase of the following items:",
            payment_text="Please pay the total by the due date, quoting the invoice number.",
            footer_text="Big Events LLC · HRB 123456 · VAT ID DE123456789",
            # The default service period of its invoices (SPEC §9).
            start_date=(today - dt.timedelta(days=100)).isoformat(),
            end_date=(today - dt.timedelta(days=98)).isoformat(),
        )
    else:
        event = db.session.scalar(select(Event).where(Event.organizer_id == organizer.id,
                                                      Event.slug == "sampleconf"))
    password = secrets.token_urlsafe(12)
    user = db.session.scalar(select(User).where(User.email == OWNER_EMAIL))
    if user is None:
        user = org_service.create_user(OWNER_EMAIL, password, name="Olivia Owner")
        org_service.add_membership(user, organizer, "owner", actor=actor)
    else:
        user.password_hash = org_service.hash_password(password)
        user.session_version += 1
    for old in db.session.scalars(select(ApiToken).where(ApiToken.organizer_id == organizer.id,
                                                         ApiToken.name == "demo",
                                                         ApiToken.active)):
        revoke_token(old, actor=actor)
    _token, token_secret = create_token(organizer, name="demo", actor=actor)

    keys = {}
    for data in CUSTOMERS:
        customer = db.session.scalar(select(Customer).where(
            Customer.organizer_id == organizer.id, Customer.reference == data["reference"]))
        if customer is None:
            customer, keys[data["reference"]] = customer_service.create_customer(
                organizer, data, actor=actor)
        else:
            keys[data["reference"]] = customer_service.rotate_key(customer, actor=actor)
    if fresh:
        _demo_invoices(event, actor)
    return {
        "organizer": organizer.slug,
        "event": event.slug,
        "user": {"email": OWNER_EMAIL, "password": password},
        "token": token_secret,
        "customers": [{"reference": ref, "key": key, "magic_link": customer_service.magic_link(key)}
                      for ref, key in keys.items()],
    }


def _demo_invoices(event: Event, actor: Actor) -> None:
    today = dt.date.today()
    create_order(event, {"code": "ABC12", "customer": "C-1001", "lines": [
        {"sku": "TKT-STD", "name": "Conference ticket", "quantity": "2", "unit_price": "399.00",
         "tax_rate": "19.00"},
        {"sku": "WS-1", "name": "Workshop: Invoicing done right", "quantity": "1",
         "unit_price": "149.00", "tax_rate": "19.00"}]}, actor=actor)

    def draft(customer, lines, **extra):
        return inv.create_draft(event, {"customer": customer, "lines": lines, **extra},
                                actor=actor)

    def days_ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    # One invoice per status, across the three demo customers. They are closed in the order
    # of their issue dates, so the numbers follow the dates as an auditor expects.
    archived = draft("C-1001", [_line("Early bird ticket", "1", "299.00")])
    inv.close_invoice(archived, actor=actor, today=days_ago(90))
    inv.pay_invoice(archived, actor=actor)
    inv.archive_invoice(archived, actor=actor)

    from_order = inv.create_draft(event, {"order": "ABC12"}, actor=actor)
    inv.close_invoice(from_order, actor=actor, today=days_ago(40))
    inv.send_invoice(from_order, actor=actor)  # becomes sent once delivered; overdue

    paid = draft("C-1001", [_line("Shirt", "3", "56.33", sku="A927TP"),
                            _line("Cap", "2", "12.50", rate="7.00")],
                 discounts=[{"type": "percent_off", "value": "10"}],
                 shipping_method={"name": "FedEx", "cost": "8.57", "tax_rate": "19.00"},
                 delivery_date=days_ago(22).isoformat())
    inv.close_invoice(paid, actor=actor, today=days_ago(20))
    inv.pay_invoice(paid, actor=actor)

    open_tr = draft("C-1002", [_line("Konferans bileti", "1", "399.00", rate="8.00")],
                    prices_include_tax=True, locale="tr")
    inv.close_invoice(open_tr, actor=actor, today=days_ago(10))

    disputed = draft("C-1002", [_line("Atölye çalışması", "2", "149.00")])
    inv.close_invoice(disputed, actor=actor, today=days_ago(5))
    inv.dispute_invoice(disputed, actor=Actor("customer", None, "customer C-1002"),
                        reason="I booked only one workshop seat.")

    cancelled = draft("C-1003", [_line("Konferenzticket", "1", "399.00"),
                                 _line("Abendessen", "1", "59.00", rate="7.00")])
    inv.close_invoice(cancelled, actor=actor, today=days_ago(3))
    inv.cancel_invoice(cancelled, actor=actor, today=days_ago(2))  # issues a credit note

    proforma = draft("C-1003", [_line("Sponsoring package", "1", "2500.00")], type="proforma",
                     expires_at=(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat())
    inv.close_invoice(proforma, actor=actor, today=days_ago(1))

    shipping = draft("C-1001", [{**_line("Conference merchandise box", "5", "20.00"),
                                 "weight": "1.250"}],
                     type="shipping_invoice",
                     shipping={"number_of_packages": 1, "carriage": "paid",
                               "goods_appearance": "One cardboard box",
                               "tracking_number": "rt-5pl7f-fg",
                               "transport_reason": "Order shipment"})
    inv.close_invoice(shipping, actor=actor)

    draft("C-1001", [_line("Speaker dinner", "1", "89.00")])  # stays a draft
