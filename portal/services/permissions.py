"""Scoping: every object is loaded through its owner, so "not yours" and "missing" are the
same 404. Roles are checked here and nowhere else.

A *scope* is whatever grants access to an organizer's events: a `Membership` (back office) or
an `ApiToken` (API). Both answer `can_see_event(event)`.
"""

from __future__ import annotations

from sqlalchemy import exists, or_, select

from ..errors import ForbiddenError, NotFoundError
from ..extensions import db
from ..i18n import _
from ..models import ApiToken, Customer, Event, Invoice, Membership, Organizer, Role, token_events
from ..models.organizer import ROLE_RANK
from .invoice_queries import visible_to


def membership_for(user, organizer_slug: str) -> Membership:
    membership = db.session.scalar(
        select(Membership).join(Organizer).where(Membership.user_id == user.id,
                                                 Organizer.slug == organizer_slug))
    if membership is None:
        raise NotFoundError()
    return membership


def require_role(membership: Membership, needed: Role | str) -> None:
    if ROLE_RANK[Role(membership.role)] < ROLE_RANK[Role(needed)]:
        raise ForbiddenError(_("Your role does not allow this."))


def event_in_scope(scope, organizer_id: int, event_slug: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.organizer_id == organizer_id,
                                                  Event.slug == event_slug))
    if event is None or not scope.can_see_event(event):
        raise NotFoundError()
    return event


def token_sees_event():
    """`ApiToken.can_see_event` as SQL, for a query that has both `ApiToken` and `Event` (the
    one-query auth of the API): every event of its organizer, or the events it is limited to."""
    return or_(ApiToken.all_events.is_(True),
               exists().where(token_events.c.token_id == ApiToken.id,
                              token_events.c.event_id == Event.id))


def invoice_in_event(event: Event, invoice_id, *options) -> Invoice:
    try:
        invoice_id = int(invoice_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    invoice = db.session.scalar(select(Invoice).where(Invoice.event_id == event.id,
                                                      Invoice.id == invoice_id).options(*options))
    if invoice is None:
        raise NotFoundError()
    return invoice


def customer_in_organizer(organizer_id: int, customer_id) -> Customer:
    try:
        customer_id = int(customer_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    customer = db.session.scalar(select(Customer).where(Customer.organizer_id == organizer_id,
                                                        Customer.id == customer_id))
    if customer is None:
        raise NotFoundError()
    return customer


def invoice_of_customer(customer: Customer, invoice_id, *options) -> Invoice:
    """A customer's own closed invoice; drafts and everyone else's are 404."""
    try:
        invoice_id = int(invoice_id)
    except (TypeError, ValueError):
        raise NotFoundError() from None
    invoice = db.session.scalar(select(Invoice).where(
        *visible_to(customer), Invoice.id == invoice_id).options(*options))
    if invoice is None:
        raise NotFoundError()
    return invoice
