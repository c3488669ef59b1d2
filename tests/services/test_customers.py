"""The customer's magic link: on the public address, wherever it is made."""

from __future__ import annotations

import pytest

from portal.services.customers import magic_link


@pytest.mark.parametrize(("base", "expected"), [
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000/my/access/ck_a-B_9"),
    ("https://portal.example.com/", "https://portal.example.com/my/access/ck_a-B_9"),
    ("https://example.com/invoices/", "https://example.com/invoices/my/access/ck_a-B_9"),
])
def test_the_link_is_on_the_public_base_url_without_a_request(app, monkeypatch, base, expected):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base)
    assert magic_link("ck_a-B_9") == expected


def test_inside_a_request_the_link_is_still_on_the_public_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example.com")
    with app.test_request_context("/", base_url="http://10.0.0.7:8000"):
        assert magic_link("ck_x") == "https://portal.example.com/my/access/ck_x"
