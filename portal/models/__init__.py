"""All models, imported here so Alembic and the app see the whole schema."""

from .audit import AuditEntry
from .backoffice import FormStash, PasswordReset
from .customer import Customer
from .event import Event, NumberSequence
from .invoice import Invoice, InvoiceDiscount, InvoiceDocument, InvoiceLine, InvoiceTax, Sending
from .job import Job
from .order import Order, OrderLine
from .organizer import Membership, Organizer, Role, User, membership_events
from .payment import Payment, PaymentMethod
from .tally import InvoiceTally
from .token import ApiToken, IdempotencyRecord, token_events
from .webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "ApiToken", "AuditEntry", "Customer", "Event", "FormStash", "IdempotencyRecord", "Invoice",
    "InvoiceDiscount", "InvoiceDocument", "InvoiceLine", "InvoiceTax", "InvoiceTally", "Job", "Membership",
    "NumberSequence", "Order", "OrderLine", "Organizer", "PasswordReset", "Payment",
    "PaymentMethod", "Role", "Sending", "User", "WebhookAttempt", "WebhookDelivery",
    "WebhookEndpoint", "WebhookEvent", "membership_events", "token_events",
]
