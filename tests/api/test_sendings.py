"""API: an invoice's sendings with their outcome and Message-ID; a send after an unknown
outcome answers 409 `delivery_unknown` unless confirmed."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Invoice, Sending


def test_sendings_show_the_outcome_and_a_send_after_unknown_needs_confirm(api, world, make):
    invoice = make.closed(world.event, world.customer)
    db.session.add(Sending(invoice=invoice, to="ap@example.com", outcome="unknown",
                           message_id="<cut.2@localhost>", error="cut off"))
    db.session.commit()

    listed = api.get(world.invoice_url(invoice, "sendings/"))
    assert listed.status_code == 200
    (only,) = listed.get_json()["results"]
    assert (only["outcome"], only["message_id"], only["to"]) == (
        "unknown", "<cut.2@localhost>", "ap@example.com")
    assert only["delivered_at"] is None and only["at"].endswith("Z")

    refused = api.post(world.invoice_url(invoice, "send/"), {"to": "ap@example.com"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "delivery_unknown" and "<cut.2@localhost>" in error["message"]

    bad = api.post(world.invoice_url(invoice, "send/"), {"confirm": "yes"})
    assert bad.status_code == 400
    assert bad.get_json()["error"]["fields"] == {"confirm": ["Enter true or false."]}

    sent = api.post(world.invoice_url(invoice, "send/"), {"confirm": True})
    assert sent.status_code == 200 and sent.get_json()["status"] == "sent"
    outcomes = [s["outcome"] for s in api.get(world.invoice_url(invoice, "sendings/"))
                .get_json()["results"]]
    assert outcomes == ["unknown", "sent"]
    assert db.session.get(Invoice, invoice.id).status == "sent"


def test_sendings_of_another_organizers_invoice_are_not_found(as_token, world, make):
    invoice = make.closed(world.event, world.customer)
    stranger = as_token(world.stranger)
    assert stranger.get(world.invoice_url(invoice, "sendings/")).status_code == 404
