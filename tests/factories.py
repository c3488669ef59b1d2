"""Factories that build objects through the services, as real use would."""

from __future__ import annotations

import itertools

from portal.extensions import db
from portal.services import customers, invoices, orders, organizers, tokens
from portal.services.audit import Actor

_seq = itertools.count(1)
ACTOR = Actor.system("test")
PASSWORD = "correct horse battery"


def line(description="Ticket", quantity="1", unit_price="100.00", tax_rate="19.00", **extra):
    return {"description": description, "quantity": quantity, "unit_price": unit_price,
            "tax_rate": tax_rate, **extra}


class Factory:
    actor = ACTOR

    def organizer(self, slug=None, name="Org", **seller):
        n = next(_seq)
        return organizers.create_organizer(
            slug or f"org{n}", name, actor=ACTOR,
            seller={"company": f"{name} GmbH", "street1": "Main St 1", "city": "Berlin",
                    "postal_code": "10115", "country": "DE", "vat_id": "DE999", **seller})

    def event(self, organizer=None, slug=None, **settings):
        organizer = organizer or self.organizer()
        n = next(_seq)
        settings.setdefault("invoice_prefix", f"E{n}-")
        settings.setdefault("proforma_prefix", f"E{n}-PF-")
        settings.setdefault("shipping_prefix", f"E{n}-DN-")
        return organizers.create_event(organizer, slug or f"event{n}", f"Event {n}", actor=ACTOR,
                                       **settings)

    def user(self, email=None, password=PASSWORD):
        return organizers.create_user(email or f"user{next(_seq)}@example.com", password)

    def member(self, organizer, role="owner", events=None, email=None):
        user = self.user(email)
        organizers.add_membership(user, organizer, role, events=events, actor=ACTOR)
        return user

    def customer(self, organizer, reference=None, **data):
        data.setdefault("name", "Jane Buyer")
        data.setdefault("email", "jane@example.com")
        data.setdefault("billing_address", {"company": "Buyer Ltd", "first_name": "Jane",
                                            "last_name": "Buyer", "street1": "1 High St",
                                            "city": "London", "postal_code": "N1",
                                            "country": "GB", "email": "jane@example.com"})
        customer, key = customers.create_customer(
            organizer, {"reference": reference or f"C-{next(_seq)}", **data}, actor=ACTOR)
        customer.plain_key = key  # for tests only: the key as the customer received it
        return customer

    def order(self, event, customer, code=None, lines=None):
        return orders.create_order(event, {
            "code": code or f"O{next(_seq)}", "customer": customer.reference,
            "lines": lines or [{"name": "Ticket", "quantity": "2", "unit_price": "50.00",
                                "tax_rate": "19.00", "sku": "T1"}]}, actor=ACTOR)

    def invoice(self, event, customer=None, lines=None, **data):
        """A draft with a buyer and one line unless told otherwise."""
        if customer is None:
            customer = self.customer(event.organizer)
        data.setdefault("customer", customer.reference)
        data.setdefault("lines", lines if lines is not None else [line()])
        return invoices.create_draft(event, data, actor=ACTOR)

    def closed(self, event, customer=None, **data):
        invoice = self.invoice(event, customer, **data)
        invoices.close_invoice(invoice, actor=ACTOR)
        db.session.flush()
        return invoice

    def token(self, organizer, read_only=False, events=None):
        token, secret = tokens.create_token(organizer, name=f"t{next(_seq)}",
                                            read_only=read_only, events=events, actor=ACTOR)
        token.plain = secret
        return token
