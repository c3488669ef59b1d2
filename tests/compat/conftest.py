"""Fixtures of the dialect tests: the API tests' world (one organizer, two events, tokens of
every kind, a stranger), and `seed_http`, which lets a client written with `requests`, as the
seed documents write them, talk to the app: every URL under `PORTAL` goes to the app (through
the same WSGI stack as a server's requests), everything else is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.api.conftest import Api, World, api, as_token, world  # noqa: F401 - fixtures

PORTAL = "https://portal.test"


class AppAdapter(BaseAdapter):
    """A `requests` transport into the Flask app (its test client), bytes in, bytes out."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("content-length", "host")}
        answer = self.client.open(url.path, query_string=url.query, method=request.method,
                                  headers=headers, data=request.body or b"",
                                  base_url=f"{url.scheme}://{url.netloc}")
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.get_data()
        response.encoding = "utf-8"
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


@pytest.fixture
def seed_http(client, monkeypatch):
    adapter = AppAdapter(client)

    def get_adapter(self, url):
        if not url.startswith(PORTAL + "/"):
            raise AssertionError(f"a seed client left the portal: {url}")
        return adapter

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)
    return PORTAL
