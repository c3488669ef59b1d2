"""The dialects spend the API's failure budgets (one per address, shared with /api/v1): wrong
tokens or keys past the limit answer 429 with Retry-After, in each dialect's own envelope."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.conftest import make_app

ADDRESS = {"REMOTE_ADDR": "203.0.113.77"}


@pytest.fixture
def limited_app(database_url):
    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                   API_AUTH_FAILURE_LIMIT="3 per minute")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_wrong_credentials_are_limited_through_every_dialect(limited_app):
    client = limited_app.test_client()
    wrong = {"Authorization": "Token wrong-token"}
    calls = [
        ("GET", "/api/v1/organizers/o/events/e/invoices/", wrong),
        ("GET", "/compat/pretix/api/v1/organizers/o/events/e/invoices/", wrong),
        ("GET", "/compat/akinon/o/api/v1/oms/invoices/", wrong),
    ]
    statuses = [client.open(url, method=method, headers=headers, environ_base=ADDRESS)
                .status_code for method, url, headers in calls]
    assert statuses == [401, 401, 401]
    # The budget is the API's: the fourth wrong token, through OM, is refused.
    refused = client.post("/compat/om/o/e/v1/om/invoices", json={"params": {}},
                          headers={**wrong, "X-Request-ID": "limit-1"}, environ_base=ADDRESS)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    body = refused.get_json()
    assert body["error"]["code"] == "rate_limited" and body["requestId"] == "limit-1"
    pretix = client.get("/compat/pretix/api/v1/organizers/o/events/e/invoices/", headers=wrong,
                        environ_base=ADDRESS)
    assert pretix.status_code == 429 and set(pretix.get_json()) == {"detail"}

    # Customer keys have their own budget, the customer API's.
    for expected in (401, 401, 401, 429):
        answer = client.post("/compat/open2b/api/v10/storefront.invoices", json={},
                             headers={"X-Customer-Key": "wrong-key"}, environ_base=ADDRESS)
        assert answer.status_code == expected
        assert answer.get_json()["status"] == "error"
