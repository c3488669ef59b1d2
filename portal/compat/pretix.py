"""pretix dialect (SPEC §12): the invoice resource of pretix's REST API, read-only.

Base URL `/compat/pretix`; paths exactly as pretix's document shows them; `Authorization:
Token`. An unknown organizer or event, or one the token may not see, is 403 as pretix answers
("does not exist **or** you have no permission"); an unknown invoice number is 404. Errors in
Django REST framework's shape: `{"detail": "…"}`, or `{"<field>": ["…"]}` for bad filters.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, request

from ..api import auth
from ..downloads import DOWNLOAD_LOAD, pdf_content, pdf_response
from ..errors import ForbiddenError, NotFoundError, ValidationError
from ..services import frozen, invoice_queries
from ..services.invoice_queries import CLOSED_STATUSES, InvoiceFilter, PastEnd
from ..services.representation import fixed
from . import answer, challenge, page_body, page_number

BASE = "/compat/pretix"
bp = Blueprint("compat_pretix", __name__)
bp.after_request(challenge)
PAGE_SIZE = 50

# pretix name -> where it comes from (the mapping table; the docs page shows it).
MAPPING = {
    "invoice_no": "number (the full number, prefix included)",
    "order": "order",
    "is_cancellation": "is_cancellation",
    "invoice_from": "seller, as address lines",
    "invoice_to": "billing_address, as address lines, ending in `VAT ID: …`",
    "date": "issue_date",
    "refers": "refers (full number) or null",
    "locale": "locale",
    "introductory_text": "texts.introductory",
    "additional_text": "texts.additional",
    "payment_provider_text": "texts.payment",
    "footer_text": "texts.footer",
    "lines[].description": "lines[].description",
    "lines[].gross_value": "lines[].gross_amount",
    "lines[].tax_value": "lines[].tax_amount",
    "lines[].tax_rate": "lines[].tax_rate",
}
PATHS = ["GET /api/v1/organizers/{organizer}/events/{event}/invoices/", "GET /api/v1/organizers/{organizer}/events/{event}/invoices/{invoice_no}/", "GET /api/v1/organizers/{organizer}/events/{event}/invoices/{invoice_no}/download/"]
AUTH = "Authorization: Token <api token>"
EXAMPLE_REQUEST = """GET /compat/pretix/api/v1/organizers/bigevents/events/sampleconf/invoices/SC2026-00001/ HTTP/1.1
Accept: application/json, text/javascript
Authorization: Token <api token>"""
EXAMPLE_ANSWER = """{"invoice_no": "SC2026-00001", "order": "ABC12", "is_cancellation": false,
 "invoice_from": "Big Events LLC\\nDemo street 12\\n12345 Demo town\\nDE",
 "invoice_to": "Sample company\\nJohn Doe\\nTest street 12\\n12345 Testington\\nDE\\nVAT ID: EU123456789",
 "date": "2026-11-02", "refers": null, "locale": "en",
 "introductory_text": "", "additional_text": "", "payment_provider_text": "", "footer_text": "",
 "lines": [{"description": "Budget Ticket", "gross_value": "23.00", "tax_value": "0.00",
            "tax_rate": "0.00"}]}"""
ORDERINGS = {"invoice_no": "number", "-invoice_no": "-number", "date": "date", "-date": "-date"}
DEFAULT_ORDERING = "invoice_no"
FILTERS = ("is_cancellation", "order", "refers", "locale")
TRUE, FALSE = ("true", "1", "True"), ("false", "0", "False")


def error_envelope(status: int, code: str, message: str, fields: dict) -> Response:
    return answer(fields if fields else {"detail": message}, status)


def _event(organizer: str, event: str):
    try:
        return auth.event_scope(organizer, event).event
    except NotFoundError:
        raise ForbiddenError("You do not have permission to perform this action.") from None


# ---------------------------------------------------------------- the mapping


def _lines(*parts) -> str:
    return "\n".join(part for part in parts if part)


def invoice_from(seller: dict) -> str:
    city = " ".join(filter(None, [seller.get("postal_code"), seller.get("city")]))
    return _lines(seller.get("legal_name") or seller.get("company"), seller.get("street1"),
                  seller.get("street2"), city, seller.get("country"))


def invoice_to(buyer: dict) -> str:
    name = " ".join(filter(None, [buyer.get("first_name"), buyer.get("last_name")]))
    city = " ".join(filter(None, [buyer.get("postal_code"), buyer.get("city")]))
    vat = f"VAT ID: {buyer['vat_id']}" if buyer.get("vat_id") else ""
    return _lines(buyer.get("company"), name, buyer.get("street1"), buyer.get("street2"), city,
                  buyer.get("state"), buyer.get("country"), vat)


def to_pretix(invoice: dict) -> dict:
    """pretix's invoice object from ours (`representation.invoice_to_dict`'s shape)."""
    texts = invoice["texts"]
    return {
        "invoice_no": invoice["number"],
        "order": invoice["order"],
        "is_cancellation": bool(invoice["is_cancellation"]),
        "invoice_from": invoice_from(invoice["seller"]),
        "invoice_to": invoice_to(invoice["billing_address"]),
        "date": invoice["issue_date"],
        "refers": invoice["refers"],
        "locale": invoice["locale"],
        "introductory_text": texts["introductory"],
        "additional_text": texts["additional"],
        "payment_provider_text": texts["payment"],
        "footer_text": texts["footer"],
        # pretix always writes two decimals, whatever the currency's own.
        "lines": [{"description": line["description"],
                   "gross_value": fixed(Decimal(line["gross_amount"]), 2),
                   "tax_value": fixed(Decimal(line["tax_amount"]), 2),
                   "tax_rate": line["tax_rate"]} for line in invoice["lines"]],
    }


# ---------------------------------------------------------------- the views

EVENT = "/api/v1/organizers/<organizer>/events/<event>/invoices/"


def _list_query(args) -> tuple[InvoiceFilter, str, int]:
    problems: dict[str, list[str]] = {}
    filters = InvoiceFilter(status=CLOSED_STATUSES)
    flag = args.get("is_cancellation")
    if flag:
        if flag in TRUE or flag in FALSE:
            filters.is_cancellation = flag in TRUE
        else:
            problems["is_cancellation"] = ["Select a valid choice: true or false."]
    for key in ("order", "refers", "locale"):
        if args.get(key):
            setattr(filters, key, args[key][:100])
    ordering = args.get("ordering") or DEFAULT_ORDERING
    if ordering not in ORDERINGS:
        problems["ordering"] = ["Valid fields: " + ", ".join(ORDERINGS) + "."]
    number = page_number(args)
    if problems:
        raise ValidationError(problems)
    return filters, ORDERINGS[ordering], number


@bp.get(EVENT)
def invoice_list(organizer, event):
    scope = _event(organizer, event)
    filters, ordering, number = _list_query(request.args)
    page = frozen.invoice_page(invoice_queries.event_invoices(scope), filters,
                               ordering=ordering, page=number, page_size=PAGE_SIZE,
                               past_end=PastEnd.NOT_FOUND)
    return answer(page_body(page, number, PAGE_SIZE, [to_pretix(i) for i in page.items]))


@bp.get(EVENT + "<path:invoice_no>/")
def invoice_detail(organizer, event, invoice_no):
    scope = _event(organizer, event)
    return answer(to_pretix(frozen.one_invoice(
        invoice_queries.event_invoices(scope),
        InvoiceFilter(number=invoice_no, status=CLOSED_STATUSES))))


@bp.get(EVENT + "<path:invoice_no>/download/")
def invoice_download(organizer, event, invoice_no):
    # The document of record; 409 with Retry-After while it is being made (as pretix does).
    # Token, scope, invoice and stored bytes in one SELECT (issue 16).
    filters = InvoiceFilter(number=invoice_no, status=CLOSED_STATUSES)
    try:
        column, params, _shape = pdf_content()
        _, invoice, (content,) = auth.event_invoice(
            organizer, event, filters.conditions(), options=DOWNLOAD_LOAD, columns=[column],
            document=True, params=params)
    except NotFoundError:
        raise ForbiddenError("You do not have permission to perform this action.") from None
    if invoice is None:
        raise NotFoundError()
    return pdf_response(invoice, as_attachment=True, content=content)
