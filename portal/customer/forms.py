"""Forms of the customer area: the key form, the list filters and the dispute form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..domain.lifecycle import InvoiceType
from ..services.invoice_queries import VISIBLE_STATUSES

TYPE_LABELS = {
    InvoiceType.INVOICE.value: "Invoice",
    InvoiceType.PROFORMA.value: "Proforma invoice",
    InvoiceType.SHIPPING_INVOICE.value: "Shipping invoice",
    InvoiceType.CREDIT_NOTE.value: "Credit note",
}
STATUS_LABELS = {status.value: status.value.capitalize() for status in VISIBLE_STATUSES}

# One message for every reason a key does not open anything (unknown, malformed, rotated):
# telling them apart would help someone guessing keys.
WRONG_KEY = "This key does not open any invoices. Check it and try again."


def _choices(everything: str, labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice("", everything), *(SelectChoice(v, label) for v, label in labels.items())]


class KeyForm(FlaskForm):
    key = PasswordField("Customer key", validators=[
        DataRequired("Enter the customer key you received."), Length(max=200, message=WRONG_KEY)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"})


class InvoiceFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    type = SelectField("Type", choices=_choices("All types", TYPE_LABELS),
                       validators=[Optional()])
    status = SelectField("Status", choices=_choices("All statuses", STATUS_LABELS),
                         validators=[Optional()])
    number = StringField("Number", validators=[Optional(), Length(max=64)],
                         render_kw={"placeholder": "Search by number", "type": "search"})
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])

    def filters(self) -> dict:
        return {"type": self.type.data or None, "status": self.status.data or None,
                "number": (self.number.data or "").strip() or None, "page": self.page.data or 1}


class DisputeForm(FlaskForm):
    reason = TextAreaField("What is wrong with this invoice?", validators=[
        DataRequired("Tell us what is wrong with this invoice."),
        Length(max=2000, message="Use at most 2000 characters.")],
        render_kw={"rows": 4, "maxlength": 2000})
