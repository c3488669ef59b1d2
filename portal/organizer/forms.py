"""Back-office forms.

The forms only carry and render values: the rules live in the services
(`clean_invoice_input`, `create_order`, `update_event`, …), which report every problem with a
dotted field name. The nested forms below mirror those names (`lines-2-quantity` is
`lines.2.quantity`), so `helpers.attach_errors` can put each message next to its field.
Sub-forms are plain `wtforms.Form`s: only the outer form carries the CSRF token.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FileField,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, DateInput, DateTimeLocalInput, EmailInput, ListWidget

from ..domain import codelists
from ..domain.lifecycle import InvoiceType
from ..domain.money import CURRENCY_MINOR_UNITS, MAX_DISCOUNTS, RoundingMode, RoundingRule
from ..i18n import _l
from ..models.organizer import SELLER_FIELDS, Role
from ..models.payment import PaymentMethod

try:
    from wtforms import SelectChoice
except ImportError:  # WTForms before 3.3 takes (value, label) pairs
    SelectChoice = None

DECIMAL = {"inputmode": "decimal", "autocomplete": "off"}


def options(pairs) -> list:
    """Select choices from (value, label) pairs, in the form this WTForms wants."""
    return [SelectChoice(value, label) if SelectChoice else (value, label)
            for value, label in pairs]

TYPE_LABELS = {
    InvoiceType.INVOICE.value: _l("Invoice"),
    InvoiceType.PROFORMA.value: _l("Proforma"),
    InvoiceType.SHIPPING_INVOICE.value: _l("Shipping invoice"),
    InvoiceType.CREDIT_NOTE.value: _l("Credit note"),
}
ROUNDING_MODE_LABELS = {
    RoundingMode.HALF_UP.value: _l("Half up (commercial)"),
    RoundingMode.HALF_EVEN.value: _l("Half even (banker's)"),
    RoundingMode.HALF_DOWN.value: _l("Half down"),
    RoundingMode.DOWN.value: _l("Down (truncate)"),
}
ROUNDING_RULE_LABELS = {
    RoundingRule.PER_ITEM.value: _l("Per item (round the unit price)"),
    RoundingRule.PER_LINE.value: _l("Per line"),
    RoundingRule.TOTAL.value: _l("Once on the total"),
}
ROLE_LABELS = {Role.OWNER.value: _l("Owner"), Role.MANAGER.value: _l("Manager"),
               Role.VIEWER.value: _l("Viewer")}


def _ui_language() -> str:
    """The language the page is read in (Flask-Babel's choice for this request)."""
    from flask_babel import get_locale

    return str(get_locale() or "en")


def country_choices() -> list:
    """ISO 3166-1 countries with their names in the reader's language, by name (babel)."""
    from babel import Locale

    from ..services.input import COUNTRY_CODES

    names = Locale.parse(_ui_language()).territories
    rows = sorted(((code, names.get(code, code)) for code in COUNTRY_CODES),
                  key=lambda row: row[1])
    return options([("", "—"), *((code, f"{name} ({code})") for code, name in rows)])


def unit_choices() -> list:
    """Rec 20 units: CLDR's localized names where babel has them, else the code list's."""
    from babel.units import get_unit_name

    language = _ui_language()
    rows = []
    for code, label in codelists.UNITS.items():
        name = None
        if code in codelists.CLDR_UNITS:
            try:
                name = get_unit_name(codelists.CLDR_UNITS[code], length="long", locale=language)
            except (KeyError, ValueError):
                name = None
        rows.append((code, f"{name or label} ({code})"))
    return options(rows)


def category_choices(blank: str | None = None) -> list:
    rows = [(code, f"{code} – {label}") for code, label in codelists.VAT_CATEGORIES.items()]
    return options([("", blank), *rows] if blank else rows)


def vatex_choices() -> list:
    return options([("", "—"), *((code, code) for code in codelists.VATEX)])


def means_choices() -> list:
    return options([("", "—"), *codelists.PAYMENT_MEANS.items()])


def _decimal(label: str, **kw) -> StringField:
    return StringField(label, render_kw={**DECIMAL, **kw})


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# ---------------------------------------------------------------- sign in


class LoginForm(FlaskForm):
    email = StringField(_l("E-mail"), widget=EmailInput(),
                        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("New password, again"),
                                     render_kw={"autocomplete": "new-password"})


class AccountSettingsForm(FlaskForm):
    """The user's own settings (issue 18): the time zone times are shown in."""

    timezone = SelectField(_l("Time zone"), choices=[])


class ForgotPasswordForm(FlaskForm):
    email = StringField(_l("E-mail"), widget=EmailInput(),
                        render_kw={"autocomplete": "username", "autofocus": True})


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("New password, again"),
                                     render_kw={"autocomplete": "new-password"})


# ---------------------------------------------------------------- invoices


class AddressForm(Form):
    company = StringField(_l("Company"))
    first_name = StringField(_l("First name"))
    last_name = StringField(_l("Last name"))
    street1 = StringField(_l("Street"))
    street2 = StringField(_l("Street (line 2)"))
    postal_code = StringField(_l("Postal code"))
    city = StringField(_l("City"))
    state = StringField(_l("State / region"))
    # A picker of ISO codes with localized names: typing "Germany" can no longer save "GE".
    country = SelectField(_l("Country"), choices=country_choices, validate_choice=False)
    vat_id = StringField(_l("VAT ID"))
    tax_office = StringField(_l("Tax office"))
    tax_number = StringField(_l("Tax number"))
    email = StringField(_l("E-mail"), widget=EmailInput())
    phone = StringField(_l("Phone"))
    is_corporate = BooleanField(_l("Corporate buyer"))


class BuyerForm(AddressForm):
    """The billing address plus the buyer data of SPEC §9."""

    registration_id = StringField(_l("Registration id"))
    electronic_address_id = StringField(_l("Electronic address"),
                                        render_kw={"placeholder": _l("e.g. e-mail or GLN")})
    electronic_address_scheme = StringField(_l("Address scheme"),
                                            render_kw={"placeholder": "EM, 0088, 9930…",
                                                       "size": 6})
    e_bill_taxpayer = BooleanField(_l("E-invoice taxpayer"))


class LineForm(Form):
    sku = StringField(_l("SKU"))
    description = StringField(_l("Description"))
    quantity = _decimal(_l("Quantity"))
    unit = SelectField(_l("Unit"), choices=unit_choices, default=codelists.DEFAULT_UNIT,
                       validate_choice=False)
    unit_price = _decimal(_l("Unit price"))
    tax_code = StringField(_l("Tax code"), render_kw={"placeholder": "VAT"})
    tax_rate = _decimal(_l("Tax %"))
    tax_category = SelectField(_l("VAT category"), choices=lambda: category_choices(_l("Automatic")),
                               default="", validate_choice=False)
    exemption_reason = StringField(_l("Exemption reason"))
    exemption_code = SelectField(_l("VATEX code"), choices=vatex_choices, default="",
                                 validate_choice=False)
    discount_rate = _decimal(_l("Discount %"))
    discount_amount = _decimal(_l("Discount amount"))
    weight = _decimal(_l("Weight (kg)"))
    request_note = StringField(_l("Customer request"))


class DiscountForm(Form):
    type = SelectField(_l("Kind"), choices=options([("percent_off", _l("Percent off")), ("amount_off", _l("Amount off"))]))
    value = _decimal(_l("Value"))


class ShippingMethodForm(Form):
    name = StringField(_l("Shipping method"))
    cost = _decimal(_l("Cost"))
    tax_rate = _decimal(_l("Tax %"))
    tax_code = StringField(_l("Tax code"))
    tax_category = SelectField(_l("VAT category"), choices=lambda: category_choices(_l("Automatic")),
                               default="", validate_choice=False)
    exemption_reason = StringField(_l("Exemption reason"))


class PaymentMethodForm(Form):
    name = StringField(_l("Payment method"))
    fee = _decimal(_l("Fee"))
    tax_rate = _decimal(_l("Tax %"))
    tax_code = StringField(_l("Tax code"))
    tax_category = SelectField(_l("VAT category"), choices=lambda: category_choices(_l("Automatic")),
                               default="", validate_choice=False)
    exemption_reason = StringField(_l("Exemption reason"))


class ShippingForm(Form):
    shipped_at = StringField(_l("Shipped at (UTC)"), widget=DateTimeLocalInput())
    number_of_packages = StringField(_l("Packages"), render_kw={"inputmode": "numeric"})
    carriage = SelectField(_l("Carriage"), choices=options([("", "—"), ("paid", _l("Paid")),
                                                        ("forward", _l("Forward"))]))
    goods_appearance = StringField(_l("Appearance of goods"))
    tracking_number = StringField(_l("Tracking number"))
    transport_reason = StringField(_l("Reason for transport"))


class TextsForm(Form):
    introductory = TextAreaField(_l("Introductory text"), render_kw={"rows": 2})
    additional = TextAreaField(_l("Additional text"), render_kw={"rows": 2})
    payment = TextAreaField(_l("Payment text"), render_kw={"rows": 2})
    footer = TextAreaField(_l("Footer"), render_kw={"rows": 2})
    terms = TextAreaField(_l("Terms"), render_kw={"rows": 2})


class ReferenceForm(Form):
    type = StringField(_l("Reference type"), render_kw={"placeholder": _l("e.g. quote")})
    number = StringField(_l("Reference number"))


class RoundingForm(Form):
    mode = SelectField(_l("Rounding"), choices=options(ROUNDING_MODE_LABELS.items()))
    rule = SelectField(_l("Round where"), choices=options(ROUNDING_RULE_LABELS.items()))


class InvoiceForm(FlaskForm):
    type = SelectField(_l("Type"), choices=options(TYPE_LABELS.items()))
    customer = SelectField(_l("Customer"), choices=[])
    refers = StringField(_l("Corrects invoice (number)"))
    locale = StringField(_l("Language"), render_kw={"placeholder": "en", "size": 6})
    currency = StringField(_l("Currency"), render_kw={"maxlength": 3, "size": 4,
                                                  "list": "currencies"})
    due_date = StringField(_l("Due date"), widget=DateInput())
    delivery_date = StringField(_l("Delivery date"), widget=DateInput())
    period_start = StringField(_l("Service period from"), widget=DateInput())
    period_end = StringField(_l("Service period until"), widget=DateInput())
    buyer_reference = StringField(_l("Buyer reference"), render_kw={"placeholder": _l("e.g. Leitweg-ID")})
    expires_at = StringField(_l("Offer expires at (UTC)"), widget=DateTimeLocalInput())
    prices_include_tax = BooleanField(_l("Prices include tax (gross entry)"))
    discounts_include_tax = BooleanField(_l("Discounts include tax"))
    rounding = FormField(RoundingForm)
    billing_address = FormField(BuyerForm)
    shipping_address = FormField(AddressForm)
    lines = FieldList(FormField(LineForm), min_entries=1)
    discounts = FieldList(FormField(DiscountForm), min_entries=0)
    shipping_method = FormField(ShippingMethodForm)
    payment_method = FormField(PaymentMethodForm)
    shipping = FormField(ShippingForm)
    texts = FormField(TextsForm)
    reference = FormField(ReferenceForm)
    package_number = StringField(_l("Package number"))
    channel = StringField(_l("Sales channel"))

    max_discounts = MAX_DISCOUNTS
    currencies = sorted(CURRENCY_MINOR_UNITS)


class FromOrderForm(FlaskForm):
    order = SelectField(_l("Order"), choices=[])


# ---------------------------------------------------------------- payments (SPEC §10)

PAYMENT_METHOD_LABELS = {
    PaymentMethod.BANK_TRANSFER.value: _l("Bank transfer"),
    PaymentMethod.CARD.value: _l("Card"),
    PaymentMethod.CASH.value: _l("Cash"),
    PaymentMethod.DIRECT_DEBIT.value: _l("Direct debit"),
    PaymentMethod.OTHER.value: _l("Other"),
}


class PaymentForm(FlaskForm):
    """Record a payment; the rules (amount > 0, at most the balance, the currency's minor
    unit, no future date) are `services.payments`'s."""

    amount = _decimal(_l("Amount"))
    date = StringField(_l("Date"), widget=DateInput())
    method = SelectField(_l("Method"), choices=options(PAYMENT_METHOD_LABELS.items()),
                         default=PaymentMethod.BANK_TRANSFER.value)
    reference = StringField(_l("Reference"), render_kw={"maxlength": 200})


# ---------------------------------------------------------------- customers and orders


class CustomerForm(FlaskForm):
    reference = StringField(_l("Reference"), render_kw={"placeholder": "C-1001"})
    name = StringField(_l("Name"))
    email = StringField(_l("E-mail"), widget=EmailInput())
    locale = StringField(_l("Language"), render_kw={"placeholder": "en", "size": 6})
    billing_address = FormField(AddressForm)


class OrderLineForm(Form):
    sku = StringField(_l("SKU"))
    name = StringField(_l("Item"))
    quantity = _decimal(_l("Quantity"))
    unit_price = _decimal(_l("Unit price"))
    tax_rate = _decimal(_l("Tax %"))
    tax_code = StringField(_l("Tax code"), render_kw={"placeholder": "VAT"})


class OrderForm(FlaskForm):
    code = StringField(_l("Order code"))
    customer = SelectField(_l("Customer"), choices=[])
    placed_at = StringField(_l("Placed at (UTC)"), widget=DateTimeLocalInput())
    lines = FieldList(FormField(OrderLineForm), min_entries=1)


# ---------------------------------------------------------------- settings, tokens, members


# The seller's address: the buyer's fields that a seller has, labelled alike.
_SELLER_ONLY = {"legal_name": StringField(_l("Legal name")),
                "registration_id": StringField(_l("Registration id (e.g. commercial register)")),
                "registration_scheme": StringField(_l("Registration scheme")),
                "contact_name": StringField(_l("Contact name"))}
SELLER_FORM_FIELDS = tuple(name for name in SELLER_FIELDS if name != "electronic_address")
SellerForm = type("SellerForm", (Form,), {name: _SELLER_ONLY.get(name) or getattr(AddressForm, name)
                                          for name in SELLER_FORM_FIELDS})


class EventSettingsForm(FlaskForm):
    name = StringField(_l("Event name"))
    currency = SelectField(_l("Currency"), choices=options((c, c) for c in sorted(CURRENCY_MINOR_UNITS)))
    locale = StringField(_l("Default language"), render_kw={"placeholder": "en", "size": 6})
    due_days = StringField(_l("Days until due"), render_kw={"inputmode": "numeric", "size": 5})
    einvoicing = BooleanField(_l("E-invoices (Factur-X PDF/A-3 + UBL, EN 16931)"))
    invoice_prefix = StringField(_l("Invoice and credit note prefix"))
    proforma_prefix = StringField(_l("Proforma prefix"))
    shipping_prefix = StringField(_l("Shipping invoice prefix"))
    introductory_text = TextAreaField(_l("Introductory text"), render_kw={"rows": 2})
    additional_text = TextAreaField(_l("Additional text"), render_kw={"rows": 2})
    payment_text = TextAreaField(_l("Payment text"), render_kw={"rows": 2})
    footer_text = TextAreaField(_l("Footer"), render_kw={"rows": 2})
    terms_text = TextAreaField(_l("Terms"), render_kw={"rows": 2})
    seller_override = FormField(SellerForm)
    start_date = StringField(_l("Event starts"), widget=DateInput())
    end_date = StringField(_l("Event ends"), widget=DateInput())
    default_tax_rate = _decimal(_l("Default tax rate of a new line (%)"), size=6)


class ProfileForm(FlaskForm):
    """The organizer profile (owner): the seller's legal data, payment means, logo (SPEC §9)."""

    name = StringField(_l("Organizer name"))
    seller = FormField(SellerForm)
    electronic_address_id = StringField(_l("Electronic address"),
                                        render_kw={"placeholder": _l("e.g. billing@example.com")})
    electronic_address_scheme = StringField(_l("Address scheme"),
                                            render_kw={"placeholder": "EM, 0088, 9930…",
                                                       "size": 6})
    means_code = SelectField(_l("Payment means"), choices=means_choices, default="58",
                             validate_choice=False)
    iban = StringField(_l("IBAN"))
    bic = StringField(_l("BIC"))
    account_name = StringField(_l("Account holder"))
    logo = FileField(_l("Logo (PNG or JPEG, at most 512 KB)"),
                     render_kw={"accept": "image/png,image/jpeg"})
    remove_logo = BooleanField(_l("Remove the logo"))


class EventCreateForm(EventSettingsForm):
    """A new event: its address name (slug) and the settings of `EventSettingsForm`."""

    slug = StringField(_l("Short name in addresses (slug)"),
                       render_kw={"placeholder": "summer-2027", "maxlength": 50})


def currency_choices(locale: str) -> list:
    """Every currency the money engine knows, as "EUR – Euro" in the viewer's language."""
    from babel.numbers import get_currency_name

    from ..formatting import babel_locale

    where = babel_locale(locale)
    return options((code, f"{code} – {get_currency_name(code, locale=where)}")
                   for code in sorted(CURRENCY_MINOR_UNITS))


class TokenForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"placeholder": _l("e.g. shop integration")})
    access = RadioField(_l("Access"), choices=options([("read_write", _l("Read and write")),
                                                   ("read_only", _l("Read only"))]), default="read_write")
    events = MultiCheckboxField(_l("Limited to events (none ticked: every event)"), choices=[])


class MemberForm(FlaskForm):
    email = StringField(_l("E-mail"), widget=EmailInput())
    name = StringField(_l("Name (for a new account)"))
    role = SelectField(_l("Role"), choices=options(ROLE_LABELS.items()), default=Role.VIEWER.value)
    events = MultiCheckboxField(_l("Limited to events (none ticked: every event)"), choices=[])


class MembershipForm(FlaskForm):
    role = SelectField(_l("Role"), choices=options(ROLE_LABELS.items()))
    events = MultiCheckboxField(_l("Limited to events"), choices=[])
