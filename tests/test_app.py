"""App-wide behaviour: configuration safety, headers, request ids, error shapes."""

import pytest

from portal import create_app


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_cookies_are_secure_by_default(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_plain_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql://u@127.0.0.1/x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/x"


def test_security_headers_and_request_id(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert len(response.headers["X-Request-ID"]) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


def test_api_404_is_json_and_html_404_is_a_page(client):
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"
    page = client.get("/nothing-here")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(monkeypatch):
    from flask import request
    monkeypatch.setenv("PORTAL_ENV", "testing")
    for hops, expected in ((0, "10.0.0.1"), (1, "203.0.113.7")):
        app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXIES": hops})
        app.add_url_rule("/ip", "ip", lambda: request.remote_addr)
        response = app.test_client().get("/ip", headers={"X-Forwarded-For": "203.0.113.7"},
                                         environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert response.text == expected


def test_unit_prices_keep_their_extra_decimals_and_amounts_do_not():
    from decimal import Decimal

    from portal.formatting import format_price
    assert format_price(Decimal("0.125"), "EUR", "en") == "€0.125"
    assert format_price(Decimal("56.330"), "EUR", "en") == "€56.33"
    assert format_price(Decimal("1234.5"), "EUR", "de") == "1.234,50\xa0€"
    assert format_price(Decimal("12"), "JPY", "en") == "¥12"
