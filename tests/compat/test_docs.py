"""The dialects' reference page: every dialect's base URL, auth, mapping and an example."""

from __future__ import annotations

from portal.compat import akinon, om, open2b, pretix


def test_the_page_documents_every_dialect(client):
    response = client.get("/compat/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for base in ("/compat/pretix", "/compat/akinon/{organizer}", "/compat/open2b",
                 "/compat/om/{organizer}/{event}"):
        assert f"<code>{base}</code>" in page
    for module in (pretix, akinon, open2b, om):
        for field in module.MAPPING:
            assert f"<code>{field}</code>" in page
        assert module.PATHS[0] in page
    assert "X-Customer-Key: &lt;customer key&gt;" in page
    assert "&#34;total_amount&#34;: &#34;399.00&#34;, &#34;net_amount&#34;: &#34;399.00&#34;" in page
    assert "messageId" in page and "invoice_no" in page
    # Linked from the JSON API's reference.
    assert 'href="/compat/"' in client.get("/api/v1/docs").get_data(as_text=True)
