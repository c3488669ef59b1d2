"""Every back-office URL × every kind of visitor → the expected status.

Visitors: the organizer's owner, manager and viewer; a manager limited to event 1; the owner
of another organizer; and someone not signed in. What lies outside a visitor's reach answers
404, exactly like something that does not exist; a visible object with too small a role 403;
anonymous visitors are sent to the login page. Each case runs on a fresh world, so POSTs that
succeed (303, or 200 where a secret is shown once) really did their work.
"""

from __future__ import annotations

import pytest

from .conftest import Browser, commit_fixtures, invoice_form, line_row

ROLES = ("owner", "manager", "viewer", "limited", "outsider", "anonymous")

READ = (200, 200, 200, 200, 404, 302)          # anything in event 1 or organizer-wide
READ_E2 = (200, 200, 200, 404, 404, 302)       # event 2: not for the event-limited member
ACT_FORM = (200, 200, 403, 200, 404, 302)      # forms that change things (manager)
ACT = (303, 303, 403, 303, 404, 302)
ACT_E2 = (303, 303, 403, 404, 404, 302)
SHOWN_ONCE = (200, 200, 403, 200, 404, 302)    # a POST that answers with a secret
OWNER = (200, 403, 403, 403, 404, 302)         # event settings
OWNER_E2 = (200, 403, 403, 404, 404, 302)
OWNER_ACT = (303, 403, 403, 403, 404, 302)
ADMIN = (200, 403, 403, 403, 404, 302)         # tokens and members: owners of every event
ADMIN_ACT = (303, 403, 403, 403, 404, 302)
NOBODY = (404, 404, 404, 404, 404, 302)        # another organizer's objects through ours
NOBODY_ACT = (404, 404, 403, 404, 404, 302)    # …where the viewer's role is refused first
SIGNED_IN = (200, 200, 200, 200, 200, 302)


def _token(w, make):
    token = make.token(w.organizer)
    commit_fixtures()
    return w.org_url(f"/tokens/{token.id}/revoke")


CASES = [
    # dashboard and account
    ("GET", lambda w, m: "/org/", None, SIGNED_IN),
    ("GET", lambda w, m: "/org/account", None, SIGNED_IN),
    # invoices
    ("GET", lambda w, m: w.url("/invoices"), None, READ),
    ("GET", lambda w, m: w.url("/invoices?status=open&ordering=-total"), None, READ),
    ("GET", lambda w, m: w.url("/invoices", w.event2), None, READ_E2),
    ("GET", lambda w, m: w.url("/"), None, (302, 302, 302, 302, 404, 302)),
    ("GET", lambda w, m: w.url(f"/invoices/{w.open.id}"), None, READ),
    ("GET", lambda w, m: w.url(f"/invoices/{w.draft.id}"), None, READ),
    ("GET", lambda w, m: w.url(f"/invoices/{w.open2.id}", w.event2), None, READ_E2),
    ("GET", lambda w, m: w.url(f"/invoices/{w.open2.id}"), None, NOBODY),
    ("GET", lambda w, m: w.url(f"/invoices/{w.foreign.id}"), None, NOBODY),
    ("GET", lambda w, m: w.url("/invoices/999999"), None, NOBODY),
    ("GET", lambda w, m: w.url(f"/invoices/{w.draft.id}/pdf"), None, READ),
    ("GET", lambda w, m: w.url(f"/invoices/{w.open2.id}/pdf", w.event2), None,
     (409, 409, 409, 404, 404, 302)),  # visible, its PDF still being made
    ("GET", lambda w, m: w.url(f"/invoices/{w.foreign.id}/pdf"), None, NOBODY),
    ("GET", lambda w, m: w.url("/invoices/new"), None, ACT_FORM),
    # payments and statements
    ("GET", lambda w, m: w.org_url(f"/customers/{w.customer.id}/statement"), None, READ),
    ("GET", lambda w, m: w.org_url(f"/customers/{w.foreign_customer.id}/statement"), None,
     NOBODY),
    ("POST", lambda w, m: w.url(f"/invoices/{w.open.id}/payments"),
     lambda w: {"amount": "1.00", "method": "cash"}, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.foreign.id}/payments"),
     lambda w: {"amount": "1.00", "method": "cash"}, NOBODY_ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.paid.id}/payments/{w.paid.payments[0].id}/delete"),
     None, ACT),
    ("GET", lambda w, m: w.url(f"/invoices/{w.draft.id}/edit"), None, ACT_FORM),
    ("GET", lambda w, m: w.url(f"/invoices/{w.foreign.id}/edit"), None, NOBODY_ACT),
    ("POST", lambda w, m: w.url("/invoices/new"),
     lambda w: invoice_form("C-1", [line_row()]), ACT),
    ("POST", lambda w, m: w.url("/invoices/new", w.event2),
     lambda w: invoice_form("C-1", [line_row()]), ACT_E2),
    ("POST", lambda w, m: w.url("/invoices/from-order"), lambda w: {"order": "ORD1"}, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.draft.id}/edit"),
     lambda w: invoice_form("C-1", [line_row("Changed")]), ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.draft.id}/close"), None, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.open.id}/send"), lambda w: {"to": ""}, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.open.id}/pay"), None, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.open.id}/dispute"),
     lambda w: {"reason": "x"}, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.disputed.id}/resolve"), None, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.open.id}/cancel"), None, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.paid.id}/archive"), None, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.draft.id}/delete"), None, ACT),
    ("POST", lambda w, m: w.url(f"/invoices/{w.open2.id}/pay", w.event2), None, ACT_E2),
    ("POST", lambda w, m: w.url(f"/invoices/{w.foreign.id}/pay"), None, NOBODY_ACT),
    # orders
    ("GET", lambda w, m: w.url("/orders"), None, READ),
    ("GET", lambda w, m: w.url("/orders", w.event2), None, READ_E2),
    ("GET", lambda w, m: w.url(f"/orders/{w.order.id}"), None, READ),
    ("GET", lambda w, m: w.url(f"/orders/{w.order.id}", w.event2), None, NOBODY),
    ("GET", lambda w, m: w.url("/orders/new"), None, ACT_FORM),
    ("POST", lambda w, m: w.url("/orders/new"), lambda w: {
        "command": "save", "code": "NEW1", "customer": "C-1", "placed_at": "",
        "lines-0-name": "Ticket", "lines-0-quantity": "1", "lines-0-unit_price": "10",
        "lines-0-tax_rate": "19", "lines-0-tax_code": "VAT", "lines-0-sku": ""}, ACT),
    # customers (organizer-wide; visible to every member)
    ("GET", lambda w, m: w.org_url("/customers"), None, READ),
    ("GET", lambda w, m: w.org_url("/customers/new"), None, ACT_FORM),
    ("GET", lambda w, m: w.org_url(f"/customers/{w.customer.id}"), None, READ),
    ("GET", lambda w, m: w.org_url(f"/customers/{w.foreign_customer.id}"), None, NOBODY),
    ("POST", lambda w, m: w.org_url("/customers/new"),
     lambda w: {"reference": "C-NEW", "name": "New One", "email": "", "locale": ""}, SHOWN_ONCE),
    ("POST", lambda w, m: w.org_url(f"/customers/{w.customer.id}"),
     lambda w: {"reference": "C-1", "name": "Jane Renamed", "email": "", "locale": "en"}, ACT),
    ("POST", lambda w, m: w.org_url(f"/customers/{w.customer.id}/rotate-key"), None, SHOWN_ONCE),
    ("POST", lambda w, m: w.org_url(f"/customers/{w.foreign_customer.id}/rotate-key"), None,
     NOBODY_ACT),
    # event settings
    ("GET", lambda w, m: w.url("/settings"), None, OWNER),
    ("GET", lambda w, m: w.url("/settings", w.event2), None, OWNER_E2),
    ("POST", lambda w, m: w.url("/settings"), lambda w: {
        "name": "Renamed", "currency": "EUR", "locale": "en", "due_days": "30",
        "invoice_prefix": "R-", "proforma_prefix": "R-PF-", "shipping_prefix": "R-DN-"},
     OWNER_ACT),
    # API tokens and members
    ("GET", lambda w, m: w.org_url("/tokens"), None, ADMIN),
    ("POST", lambda w, m: w.org_url("/tokens"), lambda w: {"name": "shop", "access": "read_only"},
     ADMIN),
    ("POST", _token, None, ADMIN_ACT),
    ("GET", lambda w, m: w.org_url("/members"), None, ADMIN),
    ("POST", lambda w, m: w.org_url("/members"),
     lambda w: {"email": "new.person@acme.example", "name": "New", "role": "viewer"}, ADMIN),
    ("POST", lambda w, m: w.org_url(f"/members/{w.membership(w.viewer).id}"),
     lambda w: {f"m{w.membership(w.viewer).id}-role": "manager"}, ADMIN_ACT),
    ("POST", lambda w, m: w.org_url(f"/members/{w.membership(w.viewer).id}/remove"), None,
     ADMIN_ACT),
    # an organizer nobody here belongs to, and one that does not exist
    ("GET", lambda w, m: f"/org/{w.other.slug}/customers", None, (404, 404, 404, 404, 200, 302)),
    ("GET", lambda w, m: "/org/nosuch/events/conf/invoices", None, NOBODY),
]


def _params():
    for index, (method, path, data, expected) in enumerate(CASES):
        for role, status in zip(ROLES, expected, strict=True):
            yield pytest.param(method, path, data, role, status, id=f"{index:02d}-{method}-{role}")


@pytest.mark.parametrize(("method", "path", "data", "role", "status"), list(_params()))
def test_permission_matrix(client, world, make, method, path, data, role, status):
    user = None if role == "anonymous" else getattr(world, role)
    browser = Browser(client, user)
    url = path(world, make)
    if method == "GET":
        response = browser.get(url)
    else:
        response = browser.post(url, data(world) if data else {})
    assert response.status_code == status, (method, url, role, response.status_code)
    if status == 302:
        assert response.headers["Location"].startswith("/login?next=") or \
            response.headers["Location"].startswith(world.url("/"))
    if status == 404:
        assert "Not found" in response.get_data(as_text=True)
