"""Forms of the customer area: the key form, the list filters and the dispute form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import PasswordInput

from ..domain.lifecycle import InvoiceType
from ..i18n import STATUS_WORDS, _l
from ..services.invoice_queries import VISIBLE_STATUSES

TYPE_LABELS = {
    InvoiceType.INVOICE.value: _l("Invoice"),
    InvoiceType.PROFORMA.value: _l("Proforma invoice"),
    InvoiceType.SHIPPING_INVOICE.value: _l("Shipping invoice"),
    InvoiceType.CREDIT_NOTE.value: _l("Credit note"),
}
STATUS_LABELS = {status.value: STATUS_WORDS[status.value] for status in VISIBLE_STATUSES}

# One message for every reason a key does not open anything (unknown, malformed, rotated):
# telling them apart would help someone guessing keys.
WRONG_KEY = _l("This key does not open any invoices. Check it and try again.")


def _choices(everything: str, labels: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice("", everything), *(SelectChoice(v, label) for v, label in labels.items())]


class KeyForm(FlaskForm):
    # A wrong key stays in the field (hide_value=False), so the typo can be seen and fixed.
    key = PasswordField(_l("Customer key"), widget=PasswordInput(hide_value=False), validators=[
        DataRequired(_l("Enter the customer key you received.")),
        Length(max=200, message=WRONG_KEY)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"})
    # Where the customer was when the session ended: back there after the key (a local path).
    next = HiddenField()


class RecoveryForm(FlaskForm):
    email = EmailField(_l("Your e-mail address"), validators=[
        DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
        render_kw={"autocomplete": "email"})


class InvoiceFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    type = SelectField(_l("Type"), choices=_choices(_l("All types"), TYPE_LABELS),
                       validators=[Optional()])
    status = SelectField(_l("Status"), choices=_choices(_l("All statuses"), STATUS_LABELS),
                         validators=[Optional()])
    number = StringField(_l("Number"), validators=[Optional(), Length(max=64)],
                         render_kw={"placeholder": _l("Search by number"), "type": "search"})
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(min=1, max=100_000)])

    def filters(self) -> dict:
        return {"type": self.type.data or None, "status": self.status.data or None,
                "number": (self.number.data or "").strip() or None, "page": self.page.data or 1}


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("What is wrong with this invoice?"), validators=[
        DataRequired(_l("Tell us what is wrong with this invoice.")),
        Length(max=2000, message=_l("Use at most 2000 characters."))],
        render_kw={"rows": 4, "maxlength": 2000})
