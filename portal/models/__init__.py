"""All models, imported here so Alembic and the app see the whole schema."""

from .audit import AuditEntry
from .backoffice import FormStash, PasswordReset
from .customer import Customer
from .event import Event, NumberSequence
from .invoice import Invoice, InvoiceDiscount, InvoiceDocument, InvoiceLine, InvoiceTax, Sending
from .order import Order, OrderLine
from .organizer import Membership, Organizer, Role, User, membership_events
from .payment import Payment, PaymentMethod
from .token import ApiToken, IdempotencyRecord, token_events

__all__ = [
    "ApiToken", "AuditEntry", "Customer", "Event", "FormStash", "IdempotencyRecord", "Invoice",
    "InvoiceDiscount", "InvoiceDocument", "InvoiceLine", "InvoiceTax", "Membership",
    "NumberSequence", "Order", "OrderLine", "Organizer", "Payment", "PasswordReset", "PaymentMethod", "Role",
    "Sending", "User", "membership_events", "token_events",
]
