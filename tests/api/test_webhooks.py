"""The webhook endpoints of the API (SPEC §13): owners only, secret once, every problem listed,
other organizers' endpoints invisible; deliveries and redelivery against a real receiver."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.extensions import db
from portal.models import WebhookEndpoint
from portal.services import webhooks
from tests.factories import ACTOR
from tests.webhooks.conftest import documented_verify, receiver  # noqa: F401 - fixture


def base(world) -> str:
    return f"/api/v1/organizers/{world.organizer.slug}/webhooks/"


def test_create_shows_the_secret_once_and_lists_without_it(api, world):
    response = api.post(base(world), {"url": "https://example.com/hooks",
                                      "events": ["invoice.paid", "invoice.closed"]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["events"] == ["invoice.closed", "invoice.paid"]  # in the documented order
    assert response.headers["Location"].endswith(f"/webhooks/{body['id']}/")
    assert response.headers["Cache-Control"] == "no-store"
    listed = api.get(base(world)).get_json()
    assert listed["count"] == 1 and "secret" not in listed["results"][0]
    detail = api.get(f"{base(world)}{body['id']}/").get_json()
    assert "secret" not in detail
    assert detail["secret_prefix"] == body["secret"][:10]


def test_bad_input_lists_every_problem(api, world):
    response = api.post(base(world), {"url": "not a url", "events": ["invoice.paid", "nope"],
                                      "active": "yes"})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"url", "events.1", "active"}
    response = api.post(base(world), {})
    assert set(response.get_json()["error"]["fields"]) == {"url", "events"}
    assert db.session.scalar(select(WebhookEndpoint.id)) is None


def test_patch_delete_and_rotate(api, world):
    made = api.post(base(world), {"url": "https://example.com/a",
                                  "events": ["invoice.paid"]}).get_json()
    url = f"{base(world)}{made['id']}/"
    changed = api.patch(url, {"active": False, "events": ["customer.created"]})
    assert changed.status_code == 200
    assert (changed.get_json()["active"], changed.get_json()["events"]) == (
        False, ["customer.created"])
    rotated = api.post(url + "rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.get_json()["secret"] != made["secret"]
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_only_owner_tokens_manage_webhooks(as_token, world):
    for token in (world.ro, world.limited):
        response = as_token(token).post(base(world), {"url": "https://example.com/a",
                                                      "events": ["invoice.paid"]})
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "owner_only"
        assert as_token(token).get(base(world)).status_code == 403
    assert as_token().get(base(world)).status_code == 401


def test_another_organizers_endpoints_are_not_found(as_token, world, make):
    theirs, _ = webhooks.create_endpoint(world.stranger.organizer,
                                         {"url": "https://example.com/theirs",
                                          "events": ["invoice.paid"]}, actor=ACTOR)
    mine = as_token(world.rw)
    # Their organizer's URL with our token, and their endpoint's id under our organizer.
    assert mine.get(f"/api/v1/organizers/{world.stranger.organizer.slug}/webhooks/"
                    ).status_code == 404
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""),
                           ("GET", "deliveries/"), ("POST", "rotate-secret/")):
        response = mine.request(method, f"{base(world)}{theirs.id}/{suffix}", {})
        assert response.status_code == 404, (method, suffix)
    assert db.session.get(WebhookEndpoint, theirs.id).url == "https://example.com/theirs"


def test_deliveries_and_redelivery_through_the_api(api, world, receiver):  # noqa: F811
    hook = receiver()
    made = api.post(base(world), {"url": hook.url, "events": ["customer.created"]}).get_json()
    created = api.post(f"{world.base}/customers/", {"reference": "C-WH"})
    assert created.status_code == 201
    assert len(hook.received) == 1
    assert documented_verify()(made["secret"], hook.received[0].body,
                               hook.received[0].headers["Portal-Signature"])
    sent = json.loads(hook.received[0].body)
    assert (sent["type"], sent["data"]["object"]["reference"]) == ("customer.created", "C-WH")
    assert "key" not in sent["data"]["object"]

    page = api.get(f"{base(world)}{made['id']}/deliveries/").get_json()
    assert page["count"] == 1
    [delivery] = page["results"]
    assert delivery["state"] == "delivered"
    assert [(a["number"], a["status"], a["response"]) for a in delivery["attempts"]] == [
        (1, 200, "ok")]
    assert delivery["event"]["id"] == sent["id"]

    again = api.post(f"{base(world)}{made['id']}/deliveries/{delivery['id']}/redeliver/")
    assert again.status_code == 202
    assert len(hook.received) == 2
    assert json.loads(hook.received[1].body)["id"] == sent["id"]
    page = api.get(f"{base(world)}{made['id']}/deliveries/").get_json()
    assert [a["manual"] for a in page["results"][0]["attempts"]] == [False, True]
    missing = api.post(f"{base(world)}{made['id']}/deliveries/{delivery['id'] + 999}/redeliver/")
    assert missing.status_code == 404


def test_deliveries_are_paged_newest_first(api, world, make):
    made = api.post(base(world), {"url": "http://127.0.0.1:9/h",
                                  "events": ["customer.created"]}).get_json()
    for n in range(3):
        assert api.post(f"{world.base}/customers/", {"reference": f"P-{n}"}).status_code == 201
    url = f"{base(world)}{made['id']}/deliveries/"
    first = api.get(url, query_string={"page_size": "2"}).get_json()
    assert first["count"] == 3 and first["previous"] is None
    assert [d["event"]["data"]["object"]["reference"] for d in first["results"]] == ["P-2", "P-1"]
    # Port 9 refuses: each was tried once and waits for its next try.
    assert {(d["state"], len(d["attempts"])) for d in first["results"]} == {("pending", 1)}
    assert first["results"][0]["attempts"][0]["error"].startswith("ConnectionRefusedError")
    second = api.get(first["next"]).get_json()
    assert [d["event"]["data"]["object"]["reference"] for d in second["results"]] == ["P-0"]
    assert second["next"] is None
    bad = api.get(url, query_string={"page_size": "0", "colour": "red"})
    assert bad.status_code == 400
    assert set(bad.get_json()["error"]["fields"]) == {"page_size", "colour"}


def test_a_cancelled_proforma_tells_of_itself_without_a_credit_note(api, world, make,
                                                                   receiver):  # noqa: F811
    hook = receiver()
    api.post(base(world), {"url": hook.url, "events": ["invoice.cancelled", "invoice.closed"]})
    proforma = make.closed(world.event, world.customer, type="proforma")
    response = api.post(world.invoice_url(proforma, "cancel/"))
    assert response.status_code == 200
    [sent] = [json.loads(r.body) for r in hook.received]
    assert sent["type"] == "invoice.cancelled"
    assert sent["data"]["object"]["id"] == proforma.id and "credit_note" not in sent["data"]
