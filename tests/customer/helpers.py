"""Helpers of the customer-area tests (the browser tests use them too)."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from portal.models import Customer, Event, Invoice
from portal.services import invoices
from tests.factories import ACTOR, Factory

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str = "/") -> str:
    """The CSRF token of the form on `url`, read the way a browser gets it."""
    html = client.get(url).get_data(as_text=True)
    match = CSRF.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


@contextmanager
def captured(name: str) -> Iterator[list[str]]:
    """The messages logged to logger `name` meanwhile, at INFO and up.

    Alembic's logging setup (run by the test database fixture) disables the loggers that
    existed then, so the logger is switched back on for the while.
    """
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    logger, handler = logging.getLogger(name), Collect()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def close(make: Factory, event: Event, customer: Customer, *, on: dt.date, **data) -> Invoice:
    """A closed invoice issued on `on`."""
    invoice = make.invoice(event, customer, **data)
    invoices.close_invoice(invoice, actor=ACTOR, today=on)
    return invoice


def sign_in(client, customer: Customer):
    response = client.get(f"/my/access/{customer.plain_key}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/my/invoices")
    return response
