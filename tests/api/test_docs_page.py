"""The rendered API reference at /api/v1/docs, in a real browser under the real CSP."""

from __future__ import annotations

import threading

import pytest

from portal.api.openapi import openapi_document
from tests.browser import conftest as browser_setup

pytestmark = pytest.mark.browser

# The live server of tests/browser, shared rather than copied.
live_server = browser_setup.live_server


def _in_own_thread(work):
    """Run `work` in a thread of its own: Playwright's sync API cannot start a second time on
    a thread where the browser suite's session-wide Playwright is already running."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _render_reference(base_url: str) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_setup.CHROMIUM, headless=True,
                                    args=browser_setup.CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15000)
        problems = []
        page.on("console", lambda message: problems.append(message.text)
                if message.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(f"{base_url}/api/v1/docs")
        page.wait_for_selector("section.operation")
        close = page.locator("#op-invoice_close")
        browser_setup.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(browser_setup.ARTIFACTS / "api-docs.png"))
        close.scroll_into_view_if_needed()
        page.screenshot(path=str(browser_setup.ARTIFACTS / "api-docs-close.png"))
        page.click("#toc a[href='#schema-Invoice']")
        seen = {
            "operations": page.locator("section.operation").count(),
            "models": page.locator("section.model").count(),
            "close_method": close.locator(".method").inner_text(),
            "close_text": close.inner_text(),
            "invoice_visible": page.locator("#schema-Invoice").is_visible(),
            "problems": problems,
        }
        browser.close()
        return seen


def test_the_reference_page_renders_every_operation(live_server):
    _, base_url = live_server
    seen = _in_own_thread(lambda: _render_reference(base_url))
    document = openapi_document()
    assert seen["operations"] == sum(len(item) for item in document["paths"].values())
    assert seen["models"] == len(document["components"]["schemas"])
    assert seen["close_method"] == "POST"
    assert "/organizers/{organizer}/events/{event}/invoices/{id}/close/" in seen["close_text"]
    assert "Idempotency-Key" in seen["close_text"]
    assert seen["invoice_visible"]
    assert seen["problems"] == [], "no CSP violation, script error or failed load"
