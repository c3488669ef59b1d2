"""The PDF rendering benchmark: a representative invoice rendered in-process (`make bench`).

Kept out of the documents service: it is a measurement of the service, not a use of it.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

from portal.services.documents import (
    context_from_dict,
    count_pages,
    postprocess_pdf,
    render_invoice_pdf,
)


def sample_invoice_dict(n_lines: int, *, locale: str = "en") -> dict:
    """A representative invoice dict (SPEC §6 shape) with `n_lines` lines, for benchmarks."""
    lines, net, tax = [], Decimal(0), Decimal(0)
    for i in range(1, n_lines + 1):
        line_net = Decimal("56.33") * 3
        line_tax = (line_net * Decimal("0.19")).quantize(Decimal("0.01"))
        net, tax = net + line_net, tax + line_tax
        lines.append({"position": i, "sku": f"SKU-{i:04d}",
                      "description": f"Conference ticket ({i}) – Straße, şğı, €",
                      "quantity": "3.00", "unit": "pcs", "unit_price": "56.330",
                      "tax_code": "VAT", "tax_rate": "19.00", "discount_rate": None,
                      "discount_amount": None, "weight": None, "request_note": "",
                      "net_amount": f"{line_net:.2f}", "tax_amount": f"{line_tax:.2f}",
                      "gross_amount": f"{line_net + line_tax:.2f}"})
    today = dt.date(2026, 11, 2).isoformat()
    return {
        "id": 1, "number": "BENCH-00001", "type": "invoice", "locale": locale,
        "currency": "EUR", "prices_include_tax": False, "issue_date": today,
        "due_date": "2026-11-16", "expires_at": None, "order": "ABC12", "customer": "C-1001",
        "refers": None, "is_cancellation": False, "package_number": None,
        "reference": {"type": None, "number": None},
        "seller": {"company": "Big Events LLC", "street1": "Demo Street 12", "city": "Berlin",
                   "postal_code": "10115", "country": "DE", "vat_id": "DE123456789"},
        "billing_address": {"company": "Sample Company Ltd", "first_name": "Ayşe",
                            "last_name": "Yılmaz", "street1": "Çiçek Sokağı 5",
                            "city": "İstanbul", "postal_code": "34000", "country": "TR"},
        "shipping_address": None, "lines": lines, "discounts": [], "shipping_method": None,
        "payment_method": None, "shipping": None,
        "totals": {"prediscount_net": f"{net:.2f}", "prediscount_gross": f"{net + tax:.2f}",
                   "discount": "0.00", "subtotal_net": f"{net:.2f}",
                   "subtotal_gross": f"{net + tax:.2f}", "net": f"{net:.2f}",
                   "tax": f"{tax:.2f}", "gross": f"{net + tax:.2f}",
                   "quantity": f"{3 * n_lines:.2f}", "weight": "0.000"},
        "taxes": [{"code": "VAT", "rate": "19.00", "taxable": f"{net:.2f}",
                   "amount": f"{tax:.2f}"}],
        "texts": {"introductory": "Thank you for your purchase.", "additional": "",
                  "payment": "Please transfer the amount to IBAN DE02 1203 0000 0000 2020 51.",
                  "footer": "Big Events LLC · Registration No. 123456", "terms": ""},
    }


def benchmark_render(n_lines: int, *, repeat: int = 1) -> dict:
    """Render a sample invoice of `n_lines` lines: time per page and bytes (for bench/)."""
    context = context_from_dict(sample_invoice_dict(n_lines))
    best, pdf = None, b""
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        pdf = postprocess_pdf(render_invoice_pdf(context), context)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    pages = count_pages(pdf)
    return {"lines": n_lines, "pages": pages, "bytes": len(pdf), "ms": round(best * 1000, 1),
            "ms_per_page": round(best * 1000 / pages, 1)}
