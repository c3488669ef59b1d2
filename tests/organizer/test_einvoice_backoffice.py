"""SPEC §11 in the back office: "Check e-invoice" on a draft, a refused close listing the rule,
and the XML links with both SHA-256s on a closed invoice."""

from __future__ import annotations

import hashlib
import re

from portal import jobs
from portal.extensions import db
from portal.models import Invoice, InvoiceDocument
from tests.factories import line

from .conftest import commit_fixtures, text

TRAP = {"lines": [line("Sticker", "1000", "0.024")],
        "rounding": {"mode": "half_up", "rule": "per_item"}}


def test_check_button_and_refused_close_list_the_rule(as_manager, make, world):
    draft = make.invoice(world.event1, world.customer, **TRAP)
    commit_fixtures()
    page = text(as_manager.get(world.url(f"/invoices/{draft.id}")))
    assert f'action="/org/acme/events/conf/invoices/{draft.id}/einvoice-check"' in page
    checked = text(as_manager.follow(as_manager.post(world.url(f"/invoices/{draft.id}/einvoice-check"))))
    assert "closing would be refused" in checked and "BR-S-09:" in checked
    refused = as_manager.post(world.url(f"/invoices/{draft.id}/close"))
    page = text(as_manager.follow(refused))
    assert 'class="flash flash-error"' in page and "BR-CO-17:" in page and "BR-S-09:" in page
    again = db.session.get(Invoice, draft.id)
    db.session.refresh(again)
    assert (again.status, again.number) == ("draft", None)
    good = make.invoice(world.event1, world.customer)
    commit_fixtures()
    ok = text(as_manager.follow(as_manager.post(world.url(f"/invoices/{good.id}/einvoice-check"))))
    assert "The e-invoice passes XSD and the EN 16931 rules" in ok


def test_closed_invoice_shows_xml_links_and_hashes(as_viewer, world):
    jobs.run_now("portal.render_document", world.open.id)
    jobs.commit()
    document = db.session.get(InvoiceDocument, world.open.id)
    page = text(as_viewer.get(world.url(f"/invoices/{world.open.id}")))
    assert hashlib.sha256(document.cii).hexdigest() in page
    assert hashlib.sha256(document.ubl).hexdigest() in page
    response = as_viewer.get(world.url(f"/invoices/{world.open.id}/xml?syntax=ubl"))
    assert response.status_code == 200 and response.get_data() == document.ubl
    assert as_viewer.get(world.url(f"/invoices/{world.open.id}/xml?syntax=x")).status_code == 400


def test_einvoicing_setting_and_three_decimal_currencies(as_owner, make, world):
    from portal.models import Event

    from .test_settings import settings_data

    page = text(as_owner.get(world.url("/settings")))
    assert re.search(r'<input[^>]*\bchecked\b[^>]*name="einvoicing"', page)
    refused = as_owner.post(world.url("/settings"), settings_data(currency="KWD", einvoicing="y"))
    assert refused.status_code == 400 and "KWD has 3" in text(refused)
    saved = as_owner.post(world.url("/settings"), settings_data(currency="KWD"))
    assert saved.status_code == 303
    event = db.session.get(Event, world.event1.id)
    db.session.refresh(event)
    assert (event.currency, event.einvoicing) == ("KWD", False)
    back = as_owner.post(world.url("/settings"), settings_data(currency="EUR", einvoicing="y"))
    assert back.status_code == 303
    db.session.refresh(event)
    assert (event.currency, event.einvoicing) == ("EUR", True)
    # a new event is on unless its currency cannot be
    assert make.event(currency="EUR").einvoicing is True
    assert make.event(currency="BHD").einvoicing is False
