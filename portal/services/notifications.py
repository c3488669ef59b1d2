"""Mails to people about their invoices, each in the recipient's language (SPEC §14):

- the recovery link to a customer who lost the key (`mail_recovery_link`);
- a dispute to the organizer's owners and managers, each in their own locale (`mail_dispute`);
- the dispute's resolution to the customer (`mail_resolution`).

Each is a job (tasks.py) queued with `jobs.enqueue` after the change commits, taking ids.
They go through the same transport as invoice mails (folder or SMTP, mail_transports.py).
"""

from __future__ import annotations

from email.utils import formataddr

from flask import current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import select

from ..extensions import db
from ..i18n import _, in_locale
from ..models import Customer, Invoice, Membership, Role, User
from .customer_links import invoice_link, recovery_link, recovery_max_age
from .documents import labels_for, render_template_file
from .mail_transports import new_message_id, transport


def _send(to: str, locale: str, subject: str, paragraphs: list[str],
          link: str | None = None, sender_name: str = "") -> str:
    message_id = new_message_id()
    context = {"lang": locale, "subject": subject, "paragraphs": paragraphs, "link": link}
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    message = EmailMultiAlternatives(
        subject=subject, body=render_template_file("email/notice.txt", **context),
        from_email=formataddr((sender_name, sender)) if sender_name else sender, to=[to],
        headers={"Message-ID": message_id})
    message.attach_alternative(render_template_file("email/notice.html", **context),
                               "text/html")
    transport().send(message, message_id)
    return message_id


def _title(invoice: Invoice, locale: str) -> str:
    return f"{labels_for(locale)[invoice.type]} {invoice.number or ''}".strip()


def _seller(invoice: Invoice) -> str:
    return (invoice.seller or {}).get("company") or invoice.organizer.name


def _customer_address(invoice: Invoice) -> str:
    if invoice.customer is not None and invoice.customer.email:
        return invoice.customer.email
    return (invoice.billing_address or {}).get("email") or ""


def mail_recovery_link(customer_id: int) -> None:
    customer = db.session.get(Customer, customer_id)
    if customer is None or not customer.email:
        return
    with in_locale(customer.locale) as language:
        minutes = recovery_max_age() // 60
        _send(customer.email, language,
              _("Your link to your invoices at %(organizer)s", organizer=customer.organizer.name),
              [_("Hello,"),
               _("Someone, hopefully you, asked for a way into your invoices. "
                 "Open this link to see them; it works for %(minutes)s minutes:",
                 minutes=minutes)],
              link=recovery_link(customer),
              sender_name=customer.organizer.name)


def _organizer_people(organizer_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership).where(
            Membership.organizer_id == organizer_id,
            Membership.role.in_([Role.OWNER.value, Role.MANAGER.value]),
            User.active.is_(True)).order_by(User.id)))


def mail_dispute(invoice_id: int) -> None:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        return
    buyer = invoice.customer.name or invoice.customer.reference if invoice.customer else ""
    for user in _organizer_people(invoice.organizer_id):
        with in_locale(user.locale) as language:
            title = _title(invoice, language)
            _send(user.email, language,
                  _("Disputed: %(title)s", title=title),
                  [_("Hello,"),
                   _("%(buyer)s disputes %(title)s. The reason given:",
                     buyer=buyer or _("The customer"), title=title),
                   invoice.dispute_reason or "—",
                   _("Resolve the dispute in the back office once it is settled.")])


def mail_resolution(invoice_id: int) -> None:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        return
    to = _customer_address(invoice)
    if not to:
        return
    locale = invoice.customer.locale if invoice.customer is not None else invoice.locale
    with in_locale(locale) as language:
        title = _title(invoice, language)
        link = invoice_link(invoice) if invoice.customer is not None else None
        _send(to, language, _("Your dispute about %(title)s is resolved", title=title),
              [_("Hello,"),
               _("%(seller)s has resolved your dispute about %(title)s.",
                 seller=_seller(invoice), title=title),
               _("You can see the invoice online:") if link else ""],
              link=link, sender_name=_seller(invoice))
