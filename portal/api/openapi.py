"""The OpenAPI 3.1 document of the API, built from the same constants the code uses.

It is the contract integrators read (rendered at /api/v1/docs) and the one Schemathesis checks
the API against in the test suite: every operation, parameter, body, response and error shape
below must match what the views really do. The invoice object's keys come from
`schemas.INVOICE_FIELDS`, the writable ones from `invoice_input`, so a field added in one place
and forgotten here fails the schema tests rather than drifting silently.
"""

from __future__ import annotations

from ..domain import codelists
from ..domain.lifecycle import InvoiceStatus, InvoiceType
from ..domain.money import MAX_DISCOUNTS, DiscountType, RoundingMode, RoundingRule
from ..models.organizer import SELLER_FIELDS
from ..models.payment import PaymentMethod
from ..services.invoice_input import (
    ADDRESS_FIELDS,
    ADDRESS_LIMITS,
    MAX_LINES,
    TEXT_FIELDS,
    WRITABLE,
)
from ..services.payments import MAX_REFERENCE
from ..services.statements import BUCKETS
from ..services.webhook_events import EVENT_TYPES
from . import schemas
from .idempotency import HEADER as IDEMPOTENCY_HEADER
from .idempotency import MAX_KEY_LENGTH

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def _object(properties: dict, *, required=None, description: str | None = None) -> dict:
    schema = {"type": "object", "properties": properties, "additionalProperties": False,
              "required": list(properties) if required is None else list(required)}
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
NSTRING = {"type": ["string", "null"]}
DECIMAL = {"type": "string", "pattern": DECIMAL_PATTERN, "description": "A decimal as a string."}
NDECIMAL = _nullable(DECIMAL)
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
DECIMAL_IN = {"type": ["string", "number"], "pattern": DECIMAL_PATTERN,
              "description": "A decimal: a string such as \"56.330\" or a JSON number "
                             "(read exactly, never as a float)."}


def _or_empty(schema: dict) -> dict:
    """A body value where the server reads an empty string as null (the cleaners do, so the
    back office's blank form fields and the API agree)."""
    return {"anyOf": [schema, {"const": ""}],
            "description": (schema.get("description", "") + " An empty string is the same as "
                            "null.").strip()}


# Text the server requires strips surrounding space first: it needs one visible character.
REQUIRED_TEXT = {"type": "string", "minLength": 1, "pattern": "\\S"}


def _enum(values) -> dict:
    return {"type": "string", "enum": [str(v) for v in values]}


ELECTRONIC_ADDRESS = {"type": ["object", "null"], "additionalProperties": False,
                      "required": ["id", "scheme"],
                      "properties": {"id": STRING, "scheme": STRING},
                      "description": "An electronic address: endpoint id and its scheme "
                                     "(e.g. EM, 0088, 9930)."}
ELECTRONIC_ADDRESS_IN = {**ELECTRONIC_ADDRESS, "properties": {
    "id": {**REQUIRED_TEXT, "maxLength": 200}, "scheme": {**REQUIRED_TEXT, "maxLength": 10}}}
CATEGORY = {"type": "string", "enum": list(codelists.VAT_CATEGORIES),
            "description": "UNCL 5305 VAT category: S standard, Z zero, E exempt, AE reverse "
                           "charge, K intra-community, G export, O outside the scope."}
CATEGORY_IN = {"type": ["string", "null"], "enum": [*codelists.VAT_CATEGORIES, "", None],
               "description": "Default S, or Z at 0 %."}
PAYMENT_MEANS = {"type": ["object", "null"], "additionalProperties": False,
                 "required": ["code", "iban", "bic", "account_name"], "properties": {
                     "code": {"type": ["string", "null"], "enum": [*codelists.PAYMENT_MEANS,
                                                                   None]},
                     "iban": STRING, "bic": STRING, "account_name": STRING},
                 "description": "UNTDID 4461 code (58 SEPA credit transfer, 30 credit "
                                "transfer, 49 direct debit, 48 card, 10 cash) and the account."}
PAYMENT_MEANS_IN = {"type": ["object", "null"], "additionalProperties": False, "required": [],
                    "properties": {
                        "code": {"type": "string", "enum": list(codelists.PAYMENT_MEANS)},
                        "iban": {"type": ["string", "null"], "maxLength": 42},
                        "bic": {"type": ["string", "null"], "maxLength": 11},
                        "account_name": {"type": ["string", "null"], "maxLength": 100}},
                    "description": "Absent: the event's or organizer's payment means."}


def _address_out() -> dict:
    properties = {key: NSTRING for key in ADDRESS_FIELDS}
    properties["is_corporate"] = {"type": "boolean"}
    properties["e_bill_taxpayer"] = {"type": "boolean"}
    properties["electronic_address"] = ELECTRONIC_ADDRESS
    return _object(properties, required=())


def _address_in() -> dict:
    properties = {key: {"type": ["string", "null"], "maxLength": limit}
                  for key, limit in ADDRESS_LIMITS.items()}
    properties["is_corporate"] = {"type": ["boolean", "null"]}
    properties["e_bill_taxpayer"] = {"type": ["boolean", "null"]}
    properties["electronic_address"] = ELECTRONIC_ADDRESS_IN
    return _object(properties, required=(), description="Absent fields are left empty.")


def _seller() -> dict:
    properties = {key: STRING for key in SELLER_FIELDS}
    properties["electronic_address"] = ELECTRONIC_ADDRESS
    return _object(properties, required=(), description="Frozen at close; a draft shows the "
                   "event's current seller.")


def _components() -> dict:
    line = _object({
        "position": {"type": "integer"}, "sku": STRING, "description": STRING,
        "quantity": DECIMAL, "unit": {**STRING, "description": "UN/ECE Rec 20 code."},
        "unit_price": DECIMAL, "tax_code": STRING, "tax_rate": DECIMAL,
        "tax_category": CATEGORY, "exemption_reason": NSTRING, "exemption_code": NSTRING,
        "discount_rate": NDECIMAL, "discount_amount": NDECIMAL,
        "weight": NDECIMAL, "request_note": STRING, "net_amount": DECIMAL,
        "tax_amount": DECIMAL, "gross_amount": DECIMAL,
    })
    totals = _object({key: DECIMAL for key in (
        "prediscount_net", "prediscount_gross", "discount", "subtotal_net", "subtotal_gross",
        "net", "tax", "gross", "quantity", "weight")})
    invoice_properties = {
        "id": {"type": "integer"},
        "number": {**NSTRING, "description": "Empty (null) while draft; set at close."},
        "type": _enum(InvoiceType),
        "status": _enum(InvoiceStatus),
        "organizer": STRING,
        "event": STRING,
        "order": NSTRING,
        "customer": {**NSTRING, "description": "The customer's external reference."},
        "refers": {**NSTRING, "description": "Number of the invoice this one corrects."},
        "is_cancellation": {"type": "boolean"},
        "issue_date": _nullable(DATE),
        "due_date": _nullable(DATE),
        "expires_at": _nullable(DATETIME),
        "locale": STRING,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "prices_include_tax": {"type": "boolean"},
        "rounding": _object({"mode": _enum(RoundingMode), "rule": _enum(RoundingRule)}),
        "seller": _seller(),
        "billing_address": _ref("Address"),
        "shipping_address": _nullable(_ref("Address")),
        "lines": {"type": "array", "items": line},
        "discounts": {"type": "array", "items": _object({
            "type": _enum(DiscountType), "value": DECIMAL,
            "amount": {**DECIMAL, "description": "The cut this discount made."}})},
        "discounts_include_tax": {"type": "boolean"},
        "shipping_method": _nullable(_object({"name": NSTRING, "cost": NDECIMAL,
                                              "tax_rate": NDECIMAL, "tax_category": CATEGORY,
                                              "exemption_reason": NSTRING})),
        "payment_method": _nullable(_object({"name": NSTRING, "fee": NDECIMAL,
                                             "tax_rate": NDECIMAL, "tax_category": CATEGORY,
                                             "exemption_reason": NSTRING})),
        "totals": totals,
        "taxes": {"type": "array", "items": _object({
            "category": CATEGORY, "code": STRING, "rate": DECIMAL, "taxable": DECIMAL,
            "amount": DECIMAL, "exemption_reason": NSTRING, "exemption_code": NSTRING})},
        "payments": {"type": "array", "items": _ref("Payment"),
                     "description": "Payments received (on a credit note: refunds paid out), "
                                    "oldest first."},
        "amount_paid": {**DECIMAL, "description": "The sum of the payments."},
        "balance": {**DECIMAL, "description": "|gross| − amount_paid: what is still to be paid "
                                              "(on a credit note: to be refunded)."},
        "shipping": _nullable(_object({
            "shipped_at": _nullable(DATETIME), "number_of_packages": {"type": ["integer", "null"]},
            "carriage": {"type": ["string", "null"], "enum": ["paid", "forward", None]},
            "goods_appearance": NSTRING, "tracking_number": NSTRING,
            "transport_reason": NSTRING})),
        "texts": _object({key: STRING for key in TEXT_FIELDS}),
        "reference": _object({"type": NSTRING, "number": NSTRING}),
        "package_number": NSTRING,
        "channel": NSTRING,
        "delivery_date": {**_nullable(DATE), "description": "BT-72."},
        "period": _nullable(_object({"start": _nullable(DATE), "end": _nullable(DATE)})),
        "buyer_reference": {**NSTRING, "description": "BT-10, e.g. a Leitweg-ID."},
        "payment_means": PAYMENT_MEANS,
        "preceding_invoice": {**_nullable(_object({"number": NSTRING,
                                                   "issue_date": _nullable(DATE)})),
                              "description": "On credit notes: the invoice it corrects."},
        "chain_hash": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$",
                       "description": "The ledger link, set at close."},
        "xml": _nullable(_object({"cii_sha256": NSTRING, "ubl_sha256": NSTRING})),
        "pdf_sha256": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$",
                       "description": "SHA-256 of the document of record, once stored."},
        "created_at": DATETIME,
        "closed_at": _nullable(DATETIME),
        "updated_at": DATETIME,
    }
    assert tuple(invoice_properties) == schemas.INVOICE_FIELDS, "invoice fields drifted"
    invoice = _object(invoice_properties, description="The invoice object (SPEC §6). Amounts "
                      "are strings with the currency's decimals; credit notes are negative.")
    partial = {**invoice, "required": [],
               "description": "An invoice object, or only the fields named in `fields`."}

    line_in = _object({
        "sku": {"type": ["string", "null"], "maxLength": 40},
        "description": {**REQUIRED_TEXT, "maxLength": 255},
        "quantity": {**DECIMAL_IN, "description": "More than 0, at most 2 decimals."},
        "unit": {"type": ["string", "null"], "maxLength": 20,
                 "description": "A UN/ECE Rec 20 code (default C62); pcs, h, kg, … are read "
                                "as their codes."},
        "unit_price": {**DECIMAL_IN, "description": "At most 3 decimals, in the entry basis."},
        "tax_code": {"type": ["string", "null"], "maxLength": 32},
        "tax_rate": {**DECIMAL_IN, "description": "Percent, 0 to 100."},
        "tax_category": CATEGORY_IN,
        "exemption_reason": {"type": ["string", "null"], "maxLength": 1000},
        "exemption_code": {"type": ["string", "null"], "enum": [*codelists.VATEX, "", None]},
        "discount_rate": _or_empty(_nullable(DECIMAL_IN)),
        "discount_amount": _or_empty(_nullable(DECIMAL_IN)),
        "weight": _or_empty(_nullable(DECIMAL_IN)),
        "request_note": {"type": ["string", "null"], "maxLength": 255},
        "order_line": {"type": ["integer", "null"]},
        "position": {"description": "Ignored (computed)."},
        "net_amount": {"description": "Ignored (computed)."},
        "tax_amount": {"description": "Ignored (computed)."},
        "gross_amount": {"description": "Ignored (computed)."},
    }, required=("description", "quantity", "unit_price"))

    def charge_in(amount_key):
        return _nullable(_object({
            "name": {**REQUIRED_TEXT, "maxLength": 80}, amount_key: DECIMAL_IN,
            "tax_rate": DECIMAL_IN, "tax_code": {"type": ["string", "null"], "maxLength": 32},
            "tax_category": CATEGORY_IN,
            "exemption_reason": {"type": ["string", "null"], "maxLength": 1000},
        }, required=("name", amount_key)))

    write_properties = {
        "type": _enum(InvoiceType),
        "customer": {"type": ["string", "null"], "maxLength": 64,
                     "description": "A customer's external reference; fills the buyer."},
        "order": {"type": ["string", "null"], "maxLength": 64,
                  "description": "Create only: copy this order's lines and buyer."},
        "refers": {"type": ["string", "null"], "maxLength": 64},
        "expires_at": _or_empty(_nullable(DATETIME)),
        "due_date": _or_empty(_nullable(DATE)),
        "locale": NSTRING,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "prices_include_tax": {"type": "boolean"},
        "rounding": _object({"mode": _enum(RoundingMode), "rule": _enum(RoundingRule)},
                            required=()),
        "billing_address": _nullable(_ref("AddressInput")),
        "shipping_address": _nullable(_ref("AddressInput")),
        "lines": {"type": "array", "items": line_in, "maxItems": MAX_LINES},
        "discounts": {"type": "array", "maxItems": MAX_DISCOUNTS, "items": _object({
            "type": _enum(DiscountType), "value": DECIMAL_IN,
            "amount": {"description": "Ignored (computed)."}}, required=("type", "value"))},
        "discounts_include_tax": {"type": "boolean"},
        "shipping_method": charge_in("cost"),
        "payment_method": charge_in("fee"),
        "shipping": _nullable(_object({
            "shipped_at": _or_empty(_nullable(DATETIME)),
            "number_of_packages": _or_empty({"type": ["integer", "null"], "minimum": 1,
                                             "maximum": 1000}),
            "carriage": {"type": ["string", "null"], "enum": ["paid", "forward", "", None],
                         "description": "An empty string is the same as null."},
            "goods_appearance": {"type": ["string", "null"], "maxLength": 255},
            "tracking_number": {"type": ["string", "null"], "maxLength": 64},
            "transport_reason": {"type": ["string", "null"], "maxLength": 255},
        }, required=())),
        "texts": _object({key: {"type": ["string", "null"]} for key in TEXT_FIELDS},
                         required=()),
        "reference": _nullable(_object({"type": {"type": ["string", "null"], "maxLength": 32},
                                        "number": {"type": ["string", "null"],
                                                   "maxLength": 64}}, required=())),
        "package_number": {"type": ["string", "null"], "maxLength": 64},
        "channel": {"type": ["string", "null"], "maxLength": 64},
        "delivery_date": _or_empty(_nullable(DATE)),
        "period": _nullable(_object({"start": DATE, "end": DATE})),
        "buyer_reference": {"type": ["string", "null"], "maxLength": 200},
        "payment_means": PAYMENT_MEANS_IN,
    }
    assert tuple(write_properties) == WRITABLE, "writable invoice fields drifted"
    invoice_write = {
        "type": "object", "properties": write_properties, "required": [],
        "additionalProperties": False,
        "examples": [
            {"customer": "C-1001", "lines": [{
                "sku": "A927TP", "description": "Shirt", "quantity": "3.00",
                "unit_price": "56.330", "tax_rate": "19.00", "weight": "0.450"}],
             "discounts": [{"type": "percent_off", "value": "10"}],
             "shipping_method": {"name": "FedEx", "cost": "8.57", "tax_rate": "19.00"}},
            {"order": "ABC12"},
        ],
        "description": "What a client may set. Computed fields of the invoice object "
                       "(id, number, status, totals, …) are ignored if sent; any other "
                       "unknown field is a 400. All problems are listed at once.",
    }

    order_line = _object({"position": {"type": "integer"}, "sku": STRING, "name": STRING,
                          "quantity": DECIMAL, "unit_price": DECIMAL, "tax_rate": DECIMAL,
                          "tax_code": STRING})
    order = _object({"id": {"type": "integer"}, "code": STRING, "customer": STRING,
                     "placed_at": DATETIME, "created_at": DATETIME,
                     "lines": {"type": "array", "items": order_line}})
    order_write = _object({
        "code": {**REQUIRED_TEXT, "maxLength": 32},
        "customer": {"type": "string", "minLength": 1, "maxLength": 64,
                     "description": "The buyer's external reference (must exist)."},
        "placed_at": _or_empty(_nullable(DATETIME)),
        "lines": {"type": "array", "minItems": 1, "items": _object({
            "sku": {"type": ["string", "null"], "maxLength": 40},
            "name": {**REQUIRED_TEXT, "maxLength": 255},
            "quantity": DECIMAL_IN, "unit_price": DECIMAL_IN, "tax_rate": DECIMAL_IN,
            "tax_code": {"type": ["string", "null"], "maxLength": 32},
        }, required=("name", "quantity", "unit_price"))},
    }, required=("code", "customer", "lines"))
    order_write["examples"] = [{"code": "ABC13", "customer": "C-1001", "lines": [
        {"sku": "A927TP", "name": "Shirt", "quantity": "3", "unit_price": "56.33",
         "tax_rate": "19"}]}]

    customer_properties = {
        "id": {"type": "integer"}, "reference": STRING, "name": STRING, "email": STRING,
        "locale": STRING, "billing_address": _ref("Address"), "created_at": DATETIME,
        "key_rotated_at": DATETIME,
    }
    customer = _object(customer_properties)
    customer_with_key = _object({**customer_properties, "key": {
        "type": "string", "description": "The customer key, shown in this answer only."}})
    customer_write = _object({
        "reference": {**REQUIRED_TEXT, "maxLength": 64},
        "name": {"type": ["string", "null"], "maxLength": 200},
        "email": {"type": ["string", "null"], "maxLength": 254},
        "locale": NSTRING,
        "billing_address": _nullable(_ref("AddressInput")),
    }, required=(), description="`reference` is required on create.")
    customer_write["examples"] = [{"reference": "C-1002", "name": "Sherlock Holmes",
                                   "email": "sherlock@example.com", "locale": "en-GB",
                                   "billing_address": {"street1": "221b Baker Street",
                                                       "city": "London", "country": "GB"}}]

    def page(item):
        return _object({"count": {"type": "integer", "minimum": 0},
                        "next": {"type": ["string", "null"], "format": "uri"},
                        "previous": {"type": ["string", "null"], "format": "uri"},
                        "results": {"type": "array", "items": _ref(item)}})

    error = _object({"error": _object({
        "code": STRING, "message": STRING,
        "fields": {"type": "object", "additionalProperties": {
            "type": "array", "items": STRING},
            "description": "Every bad field (dotted path) with its messages."},
    }, required=("code", "message"))})

    ledger_report = _object({
        "organizer": STRING, "event": STRING, "ok": {"type": "boolean"},
        "checked_at": DATETIME, "documents": {"type": "integer", "minimum": 0},
        "sequences": {"type": "array", "items": _object({
            "name": {"type": "string", "enum": ["invoice", "proforma", "shipping_invoice"]},
            "documents": {"type": "integer", "minimum": 0},
            "counter": {"type": "integer", "minimum": 0},
            "last_number": NSTRING, "head": NSTRING})},
        "findings": {"type": "array", "items": _object({
            "kind": {"type": "string", "enum": ["gap", "duplicate", "number_mismatch",
                                                "unchained", "broken_link", "altered_document",
                                                "missing_document"]},
            "sequence": STRING, "number": NSTRING, "invoice": {"type": ["integer", "null"]},
            "message": STRING})},
    }, description="The ledger report (SPEC §9).")

    return {
        "LedgerReport": ledger_report,
        "Invoice": invoice,
        "InvoiceFields": partial,
        "InvoiceWrite": invoice_write,
        "InvoicePage": _object({
            "count": {"type": ["integer", "null"], "minimum": 0,
                      "description": "How many invoices the list has. With `starting_after` "
                                     "or `ending_before` it is given only when kept counts "
                                     "answer it (no filter but `status` and `type`), else "
                                     "null: keyset pages never count rows."},
            "next": {"type": ["string", "null"], "format": "uri",
                     "description": "The next page: `page=` in page mode, `starting_after=` "
                                    "(the last result's id) in keyset mode."},
            "previous": {"type": ["string", "null"], "format": "uri",
                         "description": "The previous page: `page=` in page mode, "
                                        "`ending_before=` (the first result's id) in keyset "
                                        "mode."},
            "has_more": {"type": "boolean",
                         "description": "Keyset mode only: more invoices follow in the "
                                        "direction read (after the last result for "
                                        "`starting_after`, before the first for "
                                        "`ending_before`)."},
            "results": {"type": "array", "items": _ref("InvoiceFields")},
        }, required=("count", "next", "previous", "results")),
        "CustomerInvoiceList": _object({"count": {"type": "integer", "minimum": 0},
                                        "invoices": {"type": "array",
                                                     "items": _ref("InvoiceFields")}}),
        "Address": _address_out(),
        "AddressInput": _address_in(),
        "Order": order,
        "OrderWrite": order_write,
        "OrderPage": page("Order"),
        "Customer": customer,
        "CustomerWithKey": customer_with_key,
        "CustomerWrite": customer_write,
        "CustomerPage": page("Customer"),
        "Sending": _object({
            "id": {"type": "integer"},
            "to": STRING,
            "at": DATETIME,
            "message_id": {**NSTRING, "description": "The RFC 5322 Message-ID the mail goes "
                           "out with, fixed when the sending is recorded."},
            "outcome": {"type": "string", "enum": ["queued", "sent", "failed", "unknown"],
                        "description": (
                "`unknown`: the message went out whole but the server's answer never came "
                "(or the worker was killed mid-delivery): it may have arrived. Check with "
                "the buyer, or for the `message_id` in the mail server's log, before "
                "sending again.")},
            "delivered_at": _nullable(DATETIME),
            "error": NSTRING}),
        "SendingList": _object({"count": {"type": "integer", "minimum": 0},
                                "results": {"type": "array", "items": _ref("Sending")}}),
        "Empty": _object({}, description="No fields; an empty body is the same."),
        "SendBody": _object({"to": {
            "anyOf": [{"type": "string", "format": "email"}, {"const": ""}, {"type": "null"}],
            "description": "Where to send it. Absent, null or empty: the buyer's e-mail."},
            "confirm": {"type": ["boolean", "null"], "description": (
                "Send again although the last mail's delivery outcome is `unknown` (it may "
                "have arrived: check with the buyer first). Without it such a send answers "
                "409 with the error code `delivery_unknown`.")}},
            required=()),
        "DisputeBody": _object({"reason": {"type": ["string", "null"], "maxLength": 2000}},
                               required=()),
        "Payment": _object({
            "id": {"type": "integer"}, "amount": DECIMAL, "date": DATE,
            "method": _enum(PaymentMethod), "reference": STRING,
            "recorded_by": {"type": "string", "enum": ["user", "token", "customer", "system"],
                            "description": "Who recorded it: a back-office user, an API "
                                           "token, a customer or the system."},
            "created_at": DATETIME}, description="A payment received, or on a credit note "
                                                  "a refund paid out."),
        "PaymentWrite": {**_object({
            "amount": {**DECIMAL_IN, "description": "More than 0, at most the balance, in "
                                                    "the invoice's currency and minor unit "
                                                    "(JPY 0, EUR 2, KWD 3 decimals)."},
            "date": _or_empty(_nullable({**DATE, "description": "Default: today. Not in the "
                                                                "future."})),
            "method": _or_empty(_nullable({**_enum(PaymentMethod),
                                           "description": "Default: other."})),
            "reference": {"type": ["string", "null"], "maxLength": MAX_REFERENCE},
        }, required=("amount",)), "examples": [
            {"amount": "100.00", "date": "2026-11-20", "method": "bank_transfer",
             "reference": "SEPA 4711"}]},
        "PaymentList": _object({
            "count": {"type": "integer", "minimum": 0},
            "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "amount_paid": DECIMAL, "balance": DECIMAL,
            "results": {"type": "array", "items": _ref("Payment")}}),
        "Statement": _statement(),
        "Error": error,
        **_webhook_components(),
        "EInvoiceCheck": _object({
            "einvoice": {"type": "boolean",
                         "description": "False when the document gets no e-invoice (a "
                                        "proforma, e-invoicing off, 3 minor units)."},
            "valid": {"type": "boolean", "description": "No fatal finding: close would pass."},
            "fields": {"type": "object", "additionalProperties": STRING,
                       "description": "Fatal findings, rule id -> message: what a refused "
                                      "close answers as `einvoice_invalid`."},
            "warnings": {"type": "object", "additionalProperties": STRING,
                         "description": "Findings that do not refuse a close."}},
            description="The EN 16931 rules (XSD + schematron, CII and UBL) run on a draft."),
    }


def _webhook_components() -> dict:
    event_type = {"type": "string", "enum": list(EVENT_TYPES)}
    endpoint = {
        "id": {"type": "integer"},
        "url": STRING,
        "events": {"type": "array", "items": event_type},
        "active": {"type": "boolean"},
        "secret_prefix": {**STRING, "description": "The first characters of the secret."},
        "created_at": DATETIME,
    }
    with_secret = _object({**endpoint, "secret": {
        **STRING, "description": "The signing secret: shown in this answer only."}})
    write = _object({
        "url": {**STRING, "maxLength": 2000,
                "description": "An http or https URL; private, loopback and link-local "
                               "addresses are refused in production."},
        "events": {"type": "array", "items": event_type, "minItems": 1},
        "active": {"type": "boolean"},
    }, required=(), description="`url` and `events` are required on create.")
    write["examples"] = [{"url": "https://example.com/hooks/invoices",
                          "events": ["invoice.closed", "invoice.paid"]}]
    envelope = _object({
        "id": {"type": "integer"}, "type": event_type, "created": DATETIME,
        "organizer": STRING, "event": NSTRING,
        "data": {"type": "object", "description": "`object`: the invoice (or customer) "
                 "object; `invoice.cancelled` also carries `credit_note`."},
    }, description="The body POSTed to the endpoint, signed in `Portal-Signature`.")
    attempt = _object({
        "number": {"type": "integer"}, "at": DATETIME, "duration_ms": {"type": "integer"},
        "status": {"type": ["integer", "null"]}, "error": NSTRING, "response": STRING,
        "manual": {"type": "boolean"},
    })
    delivery = _object({
        "id": {"type": "integer"}, "event": _ref("WebhookEventBody"),
        "state": _enum(("pending", "sending", "delivered", "failed")),
        "attempts": {"type": "array", "items": _ref("WebhookAttempt")},
        "next_attempt_at": _nullable(DATETIME), "delivered_at": _nullable(DATETIME),
        "created_at": DATETIME,
    })

    def page(item):
        return _object({"count": {"type": "integer", "minimum": 0},
                        "next": {"type": ["string", "null"], "format": "uri"},
                        "previous": {"type": ["string", "null"], "format": "uri"},
                        "results": {"type": "array", "items": _ref(item)}})

    return {
        "Webhook": _object(endpoint),
        "WebhookWithSecret": with_secret,
        "WebhookWrite": write,
        "WebhookPage": page("Webhook"),
        "WebhookEventBody": envelope,
        "WebhookAttempt": attempt,
        "WebhookDelivery": delivery,
        "WebhookDeliveryPage": page("WebhookDelivery"),
    }


def _statement() -> dict:
    line = _object({
        "date": DATE,
        "type": _enum(("invoice", "shipping_invoice", "credit_note", "payment", "refund")),
        "number": STRING, "invoice_id": {"type": "integer"}, "due_date": _nullable(DATE),
        "method": {"type": ["string", "null"],
                   "enum": [*(m.value for m in PaymentMethod), None]},
        "reference": STRING,
        "amount": {**DECIMAL, "description": "Signed: + the customer owes more (an invoice, "
                                             "a refund paid out), − less (a credit note, a "
                                             "payment)."},
        "balance": {**DECIMAL, "description": "The running balance after this line."}})
    aging = _object({key: DECIMAL for key in (*BUCKETS, "total")},
                    description="What is open on the last day of the period, by days past "
                                "due; credits are never past due. `total` equals the closing "
                                "balance.")
    currency = _object({
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "opening_balance": DECIMAL, "closing_balance": DECIMAL,
        "lines": {"type": "array", "items": line}, "aging": aging})
    return _object({
        "customer": _object({"id": {"type": "integer"}, "reference": STRING, "name": STRING}),
        "from": DATE, "to": DATE,
        "currencies": {"type": "array", "items": currency}},
        description="A statement of account (SPEC §10), one part per currency.")


# ---------------------------------------------------------------- operations

REQUEST_ID = {"description": "Echoes the client's X-Request-ID, or a new one.",
              "required": True, "schema": STRING}
RESPONSE_HEADERS = {"X-Request-ID": REQUEST_ID}

ERRORS = {
    400: "Invalid input: every bad field is listed in `error.fields`.",
    401: "No credentials, or wrong ones.",
    403: "The credentials are known but may not do this (a read-only token writing).",
    404: "Unknown, or not visible to these credentials.",
    409: "Not allowed in the invoice's current state, or an Idempotency-Key conflict.",
    429: "Too many wrong credentials from this address; wait and retry.",
}


def _error(status: int) -> dict:
    response = {"description": ERRORS[status], "headers": dict(RESPONSE_HEADERS),
                "content": {"application/json": {"schema": _ref("Error")}}}
    if status == 401:
        response["headers"]["WWW-Authenticate"] = {"schema": STRING}
    if status in (409, 429):
        response["headers"]["Retry-After"] = {
            "schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
    return response


def _json(description: str, schema: dict, headers: dict | None = None) -> dict:
    return {"description": description, "headers": {**RESPONSE_HEADERS, **(headers or {})},
            "content": {"application/json": {"schema": schema}}}


def _param(name: str, where: str, schema: dict, description: str,
           required: bool = False) -> dict:
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema, "description": description}


def _comma_enum(values) -> dict:
    names = [str(v) for v in values]
    return {"type": "string", "pattern": f"^({'|'.join(names)})(,({'|'.join(names)}))*$"}


ORGANIZER = _param("organizer", "path", STRING, "The organizer's slug.")
EVENT = _param("event", "path", STRING, "The event's slug.")
INVOICE_ID = _param("id", "path", {"type": "integer", "minimum": 1,
                                   "maximum": schemas.MAX_ID}, "The invoice's id.")
CUSTOMER_ID = _param("id", "path", {"type": "integer", "minimum": 1,
                                    "maximum": schemas.MAX_ID}, "The customer's id.")
PAYMENT_ID = _param("payment_id", "path", {"type": "integer", "minimum": 1,
                                           "maximum": schemas.MAX_ID}, "The payment's id.")
ORDER_CODE = _param("code", "path", STRING, "The order's code.")
IDEMPOTENCY = _param(IDEMPOTENCY_HEADER, "header",
                     {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
                      "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
                     "Makes the POST safe to retry: the same key and body within 24 hours "
                     "replays the first answer (header `Idempotent-Replayed: true`) and does "
                     "nothing twice; the same key with another request is 409.")
FIELDS = _param("fields", "query", _comma_enum(schemas.INVOICE_FIELDS),
                "Only these top-level fields of the invoice object: names joined by commas, "
                "without spaces, e.g. `id,number,totals`. An empty value or an unknown name is "
                "a 400.")
PAGE = _param("page", "query", {"type": "integer", "minimum": 1, "maximum": schemas.MAX_PAGE},
              "Page number, from 1. A page past the last one is 404.")
PAGE_SIZE = _param("page_size", "query", {"type": "integer", "minimum": 1,
                                          "maximum": schemas.MAX_PAGE_SIZE},
                   f"Results per page (default {schemas.PAGE_SIZE}, at most "
                   f"{schemas.MAX_PAGE_SIZE}).")


CURSOR = {"type": "string", "pattern": f"^{schemas.CURSOR_PATTERN.pattern}$"}
STARTING_AFTER = _param(
    "starting_after", "query", CURSOR,
    "Keyset paging: the invoices after the invoice with this id in the list's order (the "
    "`ordering` asked, default by id), `page_size` of them, with `has_more`; empty for the "
    "start of the list. Follow `next` and `previous`, which carry the cursor: a walk sees "
    "every invoice once, even while invoices are added. An id that is not in the list (with "
    "its filters) is a 400; so is `page` or `ending_before` alongside.")
ENDING_BEFORE = _param(
    "ending_before", "query", CURSOR,
    "Keyset paging backwards: the `page_size` invoices just before the invoice with this id, "
    "still in the list's order; empty for the end of the list. Not with `starting_after` or "
    "`page`.")


def _invoice_filters(organizer_wide: bool) -> list[dict]:
    # The one lenient case: a text filter left empty filters nothing. A typed parameter (a
    # number, date, boolean, choice or field list) must hold a valid value; "" is a 400.
    text = {"type": "string", "maxLength": schemas.MAX_FILTER_LENGTH,
            "description": "Exact match; an empty value filters nothing."}
    params = [
        PAGE, PAGE_SIZE, STARTING_AFTER, ENDING_BEFORE,
        _param("type", "query", _comma_enum(InvoiceType), "Only these types (comma list)."),
        _param("status", "query", _comma_enum(InvoiceStatus),
               "Only these statuses (comma list)."),
        _param("is_cancellation", "query", {"type": "boolean"},
               "Only credit notes that cancel an invoice whole (true), or all others."),
        _param("order", "query", text, "Only invoices of the order with this code."),
        _param("refers", "query", text, "Only invoices referring to the invoice with this "
               "number."),
        _param("locale", "query", text, "Only invoices in this locale."),
        _param("customer", "query", text, "Only invoices of the customer with this reference."),
        _param("number", "query", text, "Only the invoice with this number."),
        _param("issued_after", "query", DATE, "Only invoices issued on or after this date."),
        _param("issued_before", "query", DATE, "Only invoices issued on or before this date."),
        _param("ordering", "query", _enum(schemas.ORDERINGS),
               "Sort order; ties are broken by id, so pages never repeat or skip. Drafts "
               "(no number, no date) come last. Default: by id."),
        FIELDS,
    ]
    if organizer_wide:
        params.append(_param("event", "query", text, "Only invoices of the event with this "
                             "slug."))
    return params


TOKEN = [{"token": []}]
CUSTOMER_KEY = [{"customerKey": []}]


def _operation(operation_id: str, summary: str, *, tag: str, params: list, responses: dict,
               errors: tuple[int, ...], body: dict | None = None, security=TOKEN,
               description: str | None = None) -> dict:
    operation = {"operationId": operation_id, "summary": summary, "tags": [tag],
                 "security": security, "parameters": params,
                 "responses": {str(k): v for k, v in responses.items()}}
    if description:
        operation["description"] = description
    for status in errors:
        operation["responses"][str(status)] = _error(status)
    if body is not None:
        operation["requestBody"] = body
    return operation


def _body(name: str, required: bool = True, description: str | None = None) -> dict:
    body = {"required": required, "content": {"application/json": {"schema": _ref(name)}}}
    if description:
        body["description"] = description
    return body


READ = (400, 401, 404, 429)
WRITE = (400, 401, 403, 404, 409, 429)
LOCATION = {"Location": {"description": "URL of the new object.", "required": True,
                         "schema": {"type": "string", "format": "uri"}}}

ACTIONS = {
    "close": ("Close a draft: number it, freeze it, make its document of record.",
              "Empty", 200, "Invoice"),
    "send": ("E-mail the invoice (recorded as a sending, delivered after the answer). An open "
             "invoice becomes `sent` at once and goes back to `open` if that delivery fails. "
             "A delivery cut off after the message went out is recorded with the outcome "
             "`unknown` (see the sendings); the next send then answers 409 `delivery_unknown` "
             "unless the body has `\"confirm\": true`.",
             "SendBody", 200, "Invoice"),
    "pay": ("Pay the whole balance: records one payment of it, dated today, method `other`, "
            "and the invoice becomes `paid` (not for proformas; on a credit note: refunded).",
            "Empty", 200, "Invoice"),
    "dispute": ("Mark the invoice disputed, with an optional reason.", "DisputeBody", 200,
                "Invoice"),
    "resolve": ("Resolve a dispute (the invoice becomes `sent`).", "Empty", 200, "Invoice"),
    "cancel": ("Cancel. An invoice or shipping invoice gets a credit note (closed, numbered, "
               "negated), which is the answer; a cancelled proforma answers with itself.",
               "Empty", 200, "Invoice"),
    "archive": ("Archive a paid or cancelled invoice.", "Empty", 200, "Invoice"),
}


def _paths() -> dict:
    event_params = [ORGANIZER, EVENT]
    invoice_params = [ORGANIZER, EVENT, INVOICE_ID]
    invoice_ok = _json("The invoice.", _ref("Invoice"))
    paths: dict[str, dict] = {}

    paths["/organizers/{organizer}/invoices/"] = {"get": _operation(
        "organizer_invoice_list", "Invoices of every event the token may see", tag="Invoices",
        params=[ORGANIZER, *_invoice_filters(True)],
        responses={200: _json("One page of invoices.", _ref("InvoicePage"))}, errors=READ)}
    paths["/organizers/{organizer}/events/{event}/invoices/"] = {
        "get": _operation("invoice_list", "List the event's invoices", tag="Invoices",
                          params=[*event_params, *_invoice_filters(False)],
                          responses={200: _json("One page of invoices.", _ref("InvoicePage"))},
                          errors=READ),
        "post": _operation(
            "invoice_create", "Create a draft", tag="Invoices",
            params=[*event_params, IDEMPOTENCY],
            body=_body("InvoiceWrite", required=False,
                       description="Blank (`{}` or no body), `{\"order\": code}` to copy an "
                                   "order, `customer` or `billing_address` for the buyer, and "
                                   "any writable field."),
            responses={201: _json("The new draft.", _ref("Invoice"), LOCATION)}, errors=WRITE),
    }
    paths["/organizers/{organizer}/events/{event}/invoices/{id}/"] = {
        "get": _operation("invoice_detail", "One invoice", tag="Invoices",
                          params=[*invoice_params, FIELDS],
                          responses={200: _json("The invoice, or the `fields` asked for.",
                                                _ref("InvoiceFields"))}, errors=READ),
        "patch": _operation("invoice_update", "Change a draft", tag="Invoices",
                            params=invoice_params, body=_body("InvoiceWrite", required=False),
                            responses={200: invoice_ok}, errors=WRITE,
                            description="Only drafts change (409 otherwise). Only the fields "
                                        "sent change; `lines` and `discounts` are replaced "
                                        "whole."),
        "delete": _operation("invoice_delete", "Delete a draft", tag="Invoices",
                             params=invoice_params,
                             responses={204: {"description": "Deleted.",
                                              "headers": RESPONSE_HEADERS}},
                             errors=WRITE),
    }
    for action, (summary, body, status, answer) in ACTIONS.items():
        paths[f"/organizers/{{organizer}}/events/{{event}}/invoices/{{id}}/{action}/"] = {
            "post": _operation(f"invoice_{action}", summary.split(". ")[0].split(": ")[0],
                               tag="Invoice lifecycle", description=summary,
                               params=[*invoice_params, IDEMPOTENCY],
                               body=_body(body, required=False),
                               responses={status: _json("The invoice." if action != "cancel"
                                                        else "The credit note, or the "
                                                        "cancelled proforma.", _ref(answer))},
                               errors=WRITE)}
    paths["/organizers/{organizer}/events/{event}/invoices/{id}/sendings/"] = {"get": _operation(
        "invoice_sendings", "The invoice's sendings", tag="Invoices", params=invoice_params,
        description="Each e-mailing of the invoice, oldest first, with the Message-ID it "
                    "goes out with (known from the moment the send is answered).",
        responses={200: _json("The sendings.", _ref("SendingList"))}, errors=READ)}
    payments_path = "/organizers/{organizer}/events/{event}/invoices/{id}/payments/"
    paths[payments_path] = {
        "get": _operation("invoice_payment_list", "The invoice's payments", tag="Payments",
                          params=invoice_params,
                          responses={200: _json("The payments, oldest first, with the amount "
                                                "paid and the balance.", _ref("PaymentList"))},
                          errors=READ),
        "post": _operation(
            "invoice_payment_create", "Record a payment", tag="Payments",
            params=[*invoice_params, IDEMPOTENCY], body=_body("PaymentWrite"),
            description="Allowed while the invoice is open, sent or disputed (409 otherwise: "
                        "drafts, proformas, paid, cancelled, archived). More than the balance "
                        "is a 400 on `amount`. The payment that brings the balance to zero "
                        "makes the invoice `paid`. On a credit note it is a refund paid out.",
            responses={201: _json("The payment.", _ref("Payment"), LOCATION)}, errors=WRITE),
    }
    paths[payments_path + "{payment_id}/"] = {"delete": _operation(
        "invoice_payment_delete", "Delete a payment recorded by mistake", tag="Payments",
        params=[*invoice_params, PAYMENT_ID],
        description="Allowed until the invoice is archived (409 then). A paid invoice goes "
                    "back to the status it had before it was paid.",
        responses={204: {"description": "Deleted.", "headers": RESPONSE_HEADERS}},
        errors=WRITE)}
    paths["/organizers/{organizer}/events/{event}/invoices/{id}/pdf/"] = {"get": _operation(
        "invoice_pdf", "The invoice as PDF", tag="Invoices", params=invoice_params,
        description="A closed invoice answers with its document of record (stored at close, "
                    "never re-made; ETag is its SHA-256). A draft answers with a preview "
                    "marked DRAFT. While the document is still being made: 409 with "
                    "Retry-After.",
        responses={200: _pdf_response(), 304: {"description": "Not modified (If-None-Match).",
                                               "headers": RESPONSE_HEADERS}},
        errors=(400, 401, 404, 409, 429))}

    paths["/organizers/{organizer}/events/{event}/invoices/{id}/check/"] = {"post": _operation(
        "invoice_check", "Check a draft's e-invoice", tag="Invoices",
        params=[*invoice_params, IDEMPOTENCY], body=_body("Empty", required=False),
        description="Runs the validation close runs (XSD + EN 16931 schematron on the CII and "
                    "the UBL) without closing; nothing changes. 409 for a closed invoice.",
        responses={200: _json("The findings.", _ref("EInvoiceCheck"))},
        errors=(400, 401, 404, 409, 429))}
    paths["/organizers/{organizer}/events/{event}/invoices/{id}/xml/"] = {"get": _operation(
        "invoice_xml", "The invoice's e-invoice XML", tag="Invoices",
        params=[*invoice_params, SYNTAX], description=XML_DESCRIPTION,
        responses={200: _xml_response(), 304: {"description": "Not modified (If-None-Match).",
                                               "headers": RESPONSE_HEADERS}},
        errors=(400, 401, 404, 409, 429))}

    paths["/organizers/{organizer}/events/{event}/orders/"] = {
        "get": _operation("order_list", "List the event's orders", tag="Orders",
                          params=[*event_params, PAGE, PAGE_SIZE, _param(
                              "customer", "query",
                              {"type": "string", "maxLength": schemas.MAX_FILTER_LENGTH},
                              "Only orders of the customer with this reference.")],
                          responses={200: _json("One page of orders.", _ref("OrderPage"))},
                          errors=READ),
        "post": _operation("order_create", "Create an order", tag="Orders",
                           params=[*event_params, IDEMPOTENCY], body=_body("OrderWrite"),
                           responses={201: _json("The new order.", _ref("Order"), LOCATION)},
                           errors=WRITE),
    }
    paths["/organizers/{organizer}/events/{event}/orders/{code}/"] = {"get": _operation(
        "order_detail", "One order", tag="Orders", params=[*event_params, ORDER_CODE],
        responses={200: _json("The order.", _ref("Order"))}, errors=READ)}

    paths["/organizers/{organizer}/events/{event}/ledger/"] = {"get": _operation(
        "event_ledger", "Verify the event's ledger", tag="Ledger",
        description="Walks every number sequence of the event: gaps, duplicates, altered "
                    "documents (stored PDF vs its SHA-256) and broken links of the hash chain. "
                    "200 whatever the verdict; `ok` is false on any finding.",
        params=event_params, responses={200: _json("The ledger report.", _ref("LedgerReport"))},
        errors=READ)}

    customer_params = [ORGANIZER, EVENT, CUSTOMER_ID]
    text = {"type": "string", "maxLength": schemas.MAX_FILTER_LENGTH}
    paths["/organizers/{organizer}/events/{event}/customers/"] = {
        "get": _operation("customer_list", "List the organizer's customers", tag="Customers",
                          description="Customers belong to the organizer: every event of it "
                                      "lists the same ones.",
                          params=[*event_params, PAGE, PAGE_SIZE,
                                  _param("reference", "query", text, "Only this reference."),
                                  _param("email", "query", text, "Only this e-mail address.")],
                          responses={200: _json("One page of customers.",
                                                _ref("CustomerPage"))}, errors=READ),
        "post": _operation("customer_create", "Create a customer", tag="Customers",
                           params=[*event_params, IDEMPOTENCY], body=_body("CustomerWrite"),
                           responses={201: _json("The customer with its key: the key is "
                                                 "shown in this answer only.",
                                                 _ref("CustomerWithKey"), LOCATION)},
                           errors=WRITE),
    }
    paths["/organizers/{organizer}/events/{event}/customers/{id}/"] = {
        "get": _operation("customer_detail", "One customer", tag="Customers",
                          params=customer_params,
                          responses={200: _json("The customer.", _ref("Customer"))},
                          errors=READ),
        "patch": _operation("customer_update", "Change a customer", tag="Customers",
                            params=customer_params,
                            body=_body("CustomerWrite", required=False),
                            responses={200: _json("The customer.", _ref("Customer"))},
                            errors=WRITE),
    }
    paths["/organizers/{organizer}/events/{event}/customers/{id}/rotate-key/"] = {
        "post": _operation("customer_rotate_key", "Give the customer a new key",
                           tag="Customers", params=[*customer_params, IDEMPOTENCY],
                           description="The old key stops working at once.",
                           body=_body("Empty", required=False),
                           responses={200: _json("The customer with its new key (shown in "
                                                 "this answer only).",
                                                 _ref("CustomerWithKey"))}, errors=WRITE)}

    paths["/organizers/{organizer}/events/{event}/customers/{id}/statement/"] = {
        "get": _operation(
            "customer_statement", "The customer's statement of account", tag="Customers",
            params=[*customer_params,
                    _param("from", "query", DATE, "First day of the period (default: 1 "
                           "January of the year of `to`)."),
                    _param("to", "query", DATE, "Last day of the period (default: today); "
                           "the aging table is as of this day.")],
            description="Closed invoices and credit notes (never drafts or proformas) and "
                        "their payments in the events the token may see, in date order with a "
                        "running balance, per currency. `Accept: application/pdf` answers "
                        "with the statement as PDF. A bad date, or `from` after `to`, is a "
                        "400 naming the field.",
            responses={200: {"description": "The statement.", "headers": RESPONSE_HEADERS,
                             "content": {
                                 "application/json": {"schema": _ref("Statement")},
                                 "application/pdf": {"schema": {
                                     "type": "string",
                                     "contentMediaType": "application/pdf"}}}}},
            errors=READ)}
    _webhook_paths(paths)

    paths["/customer/invoices"] = {"get": _operation(
        "customer_invoice_list", "The customer's invoices", tag="Customer",
        security=CUSTOMER_KEY,
        description="Closed invoices of the key's customer across all events of its organizer "
                    "(never drafts), in id order.",
        params=[
            _param("ids", "query", {"type": "string", "pattern": "^[0-9]+(,[0-9]+)*$"},
                   f"Only these invoice ids (comma list, at most "
                   f"{schemas.MAX_CUSTOMER_LIMIT})."),
            _param("type", "query", _enum(InvoiceType), "Only this type."),
            _param("after", "query", {"type": "integer", "minimum": 0,
                                      "maximum": schemas.MAX_ID},
                   "Only invoices whose id is greater than this."),
            FIELDS,
            _param("limit", "query", {"type": "integer", "minimum": 1,
                                      "maximum": schemas.MAX_CUSTOMER_LIMIT},
                   f"At most this many invoices (default {schemas.CUSTOMER_LIMIT})."),
            _param("first", "query", {"type": "integer", "minimum": 0,
                                      "maximum": schemas.MAX_PAGE},
                   "Index of the first invoice to return (default 0)."),
        ],
        responses={200: _json("`count` matching invoices; `invoices` holds the slice asked "
                              "for.", _ref("CustomerInvoiceList"))}, errors=READ)}
    paths["/customer/invoices/{id}"] = {"get": _operation(
        "customer_invoice_detail", "One of the customer's invoices", tag="Customer",
        security=CUSTOMER_KEY, params=[INVOICE_ID, FIELDS],
        responses={200: _json("The invoice.", _ref("InvoiceFields"))}, errors=READ)}
    paths["/customer/invoices/{id}/pdf"] = {"get": _operation(
        "customer_invoice_pdf", "One of the customer's invoices as PDF", tag="Customer",
        security=CUSTOMER_KEY, params=[INVOICE_ID],
        description="The document of record; 409 with Retry-After while it is being made.",
        responses={200: _pdf_response(), 304: {"description": "Not modified (If-None-Match).",
                                               "headers": RESPONSE_HEADERS}},
        errors=(400, 401, 404, 409, 429))}

    paths["/customer/invoices/{id}/xml"] = {"get": _operation(
        "customer_invoice_xml", "One of the customer's invoices as e-invoice XML",
        tag="Customer", security=CUSTOMER_KEY, params=[INVOICE_ID, SYNTAX],
        description=XML_DESCRIPTION,
        responses={200: _xml_response(), 304: {"description": "Not modified (If-None-Match).",
                                               "headers": RESPONSE_HEADERS}},
        errors=(400, 401, 404, 409, 429))}

    paths["/openapi.json"] = {"get": {
        "operationId": "openapi", "summary": "This document", "tags": ["Reference"],
        "security": [], "responses": {"200": _json("OpenAPI 3.1.", {"type": "object"})}}}
    paths["/docs"] = {"get": {
        "operationId": "docs", "summary": "This document, rendered", "tags": ["Reference"],
        "security": [], "responses": {"200": {
            "description": "An HTML page.", "headers": RESPONSE_HEADERS,
            "content": {"text/html": {"schema": STRING}}}}}}
    return paths


WEBHOOK_ID = _param("id", "path", {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID},
                    "The webhook endpoint's id.")
DELIVERY_ID = _param("delivery_id", "path", {"type": "integer", "minimum": 1,
                                             "maximum": schemas.MAX_ID}, "The delivery's id.")
OWNER = (400, 401, 403, 404, 429)
OWNER_NOTE = ("Webhooks need a read-write token for every event (an owner's); other tokens "
              "of the organizer are 403.")


def _webhook_paths(paths: dict) -> None:
    base = "/organizers/{organizer}/webhooks/"
    one = [ORGANIZER, WEBHOOK_ID]
    endpoint_ok = _json("The webhook endpoint.", _ref("Webhook"))
    paths[base] = {
        "get": _operation("webhook_list", "List the organizer's webhook endpoints",
                          tag="Webhooks", params=[ORGANIZER], description=OWNER_NOTE,
                          responses={200: _json("Every endpoint (one page).",
                                                _ref("WebhookPage"))}, errors=OWNER),
        "post": _operation("webhook_create", "Register a webhook endpoint", tag="Webhooks",
                           params=[ORGANIZER, IDEMPOTENCY], body=_body("WebhookWrite"),
                           description=OWNER_NOTE + " Every problem of the body is listed.",
                           responses={201: _json("The endpoint with its signing secret, "
                                                 "shown in this answer only.",
                                                 _ref("WebhookWithSecret"), LOCATION)},
                           errors=(*OWNER, 409)),
    }
    paths[base + "{id}/"] = {
        "get": _operation("webhook_detail", "One webhook endpoint", tag="Webhooks",
                          params=one, responses={200: endpoint_ok}, errors=OWNER),
        "patch": _operation("webhook_update", "Change a webhook endpoint", tag="Webhooks",
                            params=one, body=_body("WebhookWrite", required=False),
                            responses={200: endpoint_ok}, errors=OWNER),
        "delete": _operation("webhook_delete", "Delete a webhook endpoint", tag="Webhooks",
                             params=one, responses={204: {"description": "Deleted.",
                                                          "headers": RESPONSE_HEADERS}},
                             errors=OWNER),
    }
    paths[base + "{id}/rotate-secret/"] = {"post": _operation(
        "webhook_rotate_secret", "Give the endpoint a new signing secret", tag="Webhooks",
        params=[*one, IDEMPOTENCY], body=_body("Empty", required=False),
        description="Signs every try from now on; the old secret stops at once.",
        responses={200: _json("The endpoint with its new secret (shown in this answer "
                              "only).", _ref("WebhookWithSecret"))}, errors=(*OWNER, 409))}
    paths[base + "{id}/deliveries/"] = {"get": _operation(
        "webhook_deliveries", "The endpoint's deliveries, newest first", tag="Webhooks",
        params=[*one, PAGE, PAGE_SIZE],
        description="Each with its event body and every try (status, time, the first bytes "
                    "of the answer). Events are kept 30 days.",
        responses={200: _json("One page of deliveries.", _ref("WebhookDeliveryPage"))},
        errors=OWNER)}
    paths[base + "{id}/deliveries/{delivery_id}/redeliver/"] = {"post": _operation(
        "webhook_redeliver", "Send a delivery again", tag="Webhooks",
        params=[*one, DELIVERY_ID, IDEMPOTENCY], body=_body("Empty", required=False),
        description="The try runs after the answer; see deliveries/ for its outcome.",
        responses={202: _json("The delivery, queued again.", _ref("WebhookDelivery"))},
        errors=(*OWNER, 409))}
SYNTAX = _param("syntax", "query", {"type": "string", "enum": ["cii", "ubl"]},
                "`cii` (Factur-X / ZUGFeRD, EN 16931; the default) or `ubl` (Peppol BIS "
                "Billing 3.0).")
XML_DESCRIPTION = ("The EN 16931 XML stored with the document of record (the CII is also "
                   "embedded in the PDF as factur-x.xml); never re-made, ETag is its SHA-256. "
                   "409 `no_einvoice` for drafts, proformas and events without e-invoicing; "
                   "409 with Retry-After while the document is being made.")


def _xml_response() -> dict:
    return {"description": "The XML.", "headers": {
        **RESPONSE_HEADERS,
        "ETag": {"schema": STRING, "description": "Quoted SHA-256 of the stored XML."}},
        "content": {"application/xml": {"schema": {"type": "string",
                                                   "contentMediaType": "application/xml"}}}}


def _pdf_response() -> dict:
    return {"description": "The PDF.", "headers": {
        **RESPONSE_HEADERS,
        "ETag": {"schema": STRING, "description": "Quoted SHA-256 of a stored document."}},
        "content": {"application/pdf": {"schema": {"type": "string",
                                                   "contentMediaType": "application/pdf"}}}}


def openapi_document(server_url: str = "/api/v1") -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Invoice Portal API",
            "version": "1.0.0",
            "description": (
                "Invoices for event organizers, their customers and their integrations.\n\n"
                "**Organizer endpoints** take `Authorization: Token <token>`; tokens are "
                "read-only or read-write and may be limited to events. **Customer endpoints** "
                "take `X-Customer-Key: <key>`.\n\n"
                "Amounts are strings (`\"399.00\"`) with the currency's decimals. Errors are "
                "`{\"error\": {\"code\", \"message\", \"fields\"?}}`: 400 invalid input "
                "(every field listed), 401 no or bad credentials, 403 not allowed (read-only "
                "token), 404 unknown or not visible to you, 409 not allowed in this state, "
                "429 too many attempts. Every response carries `X-Request-ID` (yours, echoed, "
                "or a new one). Every POST takes an `Idempotency-Key`."),
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": name} for name in (
            "Invoices", "Invoice lifecycle", "Payments", "Orders", "Customers", "Webhooks",
            "Customer", "Ledger", "Reference")],
        "security": TOKEN,
        "paths": _paths(),
        "components": {
            "schemas": _components(),
            "securitySchemes": {
                "token": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "`Token <token>`"},
                "customerKey": {"type": "apiKey", "in": "header", "name": "X-Customer-Key"},
            },
        },
    }
