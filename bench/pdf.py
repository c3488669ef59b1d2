"""The PDF rendering benchmark: a representative invoice rendered in-process (`make bench`,
or alone: `python -m bench.pdf [--runs 30] [--lines 5] [--split]`).

Kept out of the documents service: it is a measurement of the service, not a use of it.

One render is the document of record as closing makes it: the context from the frozen
invoice dict, xhtml2pdf, then the Factur-X PDF/A-3b step with a CII embedded. Each stage is
timed on every run (wall clock and CPU time of this process: the machine is shared and noisy,
CPU time moves less); medians and p95 are printed. `--split` times xhtml2pdf's own stages too,
by wrapping its functions with timers: a run of its own, since the wrappers cost a little.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import statistics
import time
from collections import defaultdict
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


def sample_cii() -> bytes:
    """A valid EN 16931 CII to embed as factur-x.xml (the size of a real one)."""
    from portal.domain import einvoice
    from portal.services.documents import xml
    from tests.einvoice_table import VALID, frozen

    return xml.to_cii(einvoice.build(frozen(VALID["per_line"])))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] if len(samples) >= 2 else samples[0]


def _summary(samples: list[float]) -> dict:
    return {"median": _ms(statistics.median(samples)), "p95": _ms(_p95(samples))}


def benchmark_render(n_lines: int, *, repeat: int = 1, warmup: int = 2) -> dict:
    """Render a sample invoice of `n_lines` lines `repeat` times, PDF/A step included: time
    per stage (median and p95, wall clock and CPU), pages and bytes (for bench/)."""
    data, cii = sample_invoice_dict(n_lines), sample_cii()
    wall, cpu = defaultdict(list), defaultdict(list)
    pdf = b""
    for run in range(warmup + max(1, repeat)):
        marks = [(time.perf_counter(), time.process_time())]
        context = context_from_dict(data)
        context["einvoice"] = (cii, b"")
        marks.append((time.perf_counter(), time.process_time()))
        rendered = render_invoice_pdf(context)
        marks.append((time.perf_counter(), time.process_time()))
        pdf = postprocess_pdf(rendered, context)
        marks.append((time.perf_counter(), time.process_time()))
        if run < warmup:  # the first render registers fonts and parses the static CSS
            continue
        for stage, (start, end) in zip(("context", "xhtml2pdf", "pdfa"), zip(marks, marks[1:], strict=False),
                                       strict=True):
            wall[stage].append(end[0] - start[0])
            cpu[stage].append(end[1] - start[1])
        wall["total"].append(marks[-1][0] - marks[0][0])
        cpu["total"].append(marks[-1][1] - marks[0][1])
    pages = count_pages(pdf)
    total = statistics.median(wall["total"])
    return {"lines": n_lines, "pages": pages, "bytes": len(pdf), "runs": len(wall["total"]),
            "ms": _ms(total), "ms_per_page": round(total * 1000 / pages, 1),
            "p95_ms": _ms(_p95(wall["total"])),
            "wall_ms": {stage: _summary(v) for stage, v in wall.items()},
            "cpu_ms": {stage: _summary(v) for stage, v in cpu.items()}}


def split_xhtml2pdf(n_lines: int, *, repeat: int = 20) -> dict:
    """xhtml2pdf's render split into its stages (median ms of CPU time: on a shared machine the
    wall clock of a stage is mostly waiting), by timers wrapped around its functions for the
    length of this call. Nested and recursive calls count once."""
    import html5lib.html5parser
    from reportlab.pdfbase import pdfdoc
    from reportlab.platypus import doctemplate
    from xhtml2pdf import context as pisa_context
    from xhtml2pdf import document as pisa_document

    from portal.services.documents import engine, render

    spent: dict[str, float] = defaultdict(float)
    targets = [(render, "render_template_file", "jinja"),
               (html5lib.html5parser.HTMLParser, "parse", "HTML parse (html5lib)"),
               (pisa_context.pisaContext, "parseCSS", "CSS parse"),
               (pisa_document, "pisaParser", "parse total"),
               (doctemplate.BaseDocTemplate, "build", "layout + write"),
               (pdfdoc.PDFDocument, "GetPDFData", "PDF write (ReportLab)"),
               (engine, "convert", "xhtml2pdf total")]

    def timed(function, label):
        depth = 0

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            nonlocal depth
            if depth:
                return function(*args, **kwargs)
            depth += 1
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.process_time() - started
                depth -= 1
        return wrapper

    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    samples = defaultdict(list)
    context = context_from_dict(sample_invoice_dict(n_lines))
    try:
        for owner, name, label in targets:
            setattr(owner, name, timed(getattr(owner, name), label))
        for run in range(2 + repeat):
            spent.clear()
            render_invoice_pdf(context)
            if run >= 2:
                for label, seconds in spent.items():
                    samples[label].append(seconds)
    finally:
        for owner, name, function in originals:
            setattr(owner, name, function)
    median = {label: statistics.median(v) for label, v in samples.items()}
    out = {
        "jinja": median["jinja"],
        "HTML parse (html5lib)": median["HTML parse (html5lib)"],
        "CSS parse": median["CSS parse"],
        "DOM -> story (CSS, paragraphs)": (median["parse total"]
                                              - median["HTML parse (html5lib)"]
                                              - median["CSS parse"]),
        "layout + draw": median["layout + write"] - median["PDF write (ReportLab)"],
        "PDF write (ReportLab)": median["PDF write (ReportLab)"],
    }
    out["other (page count, setup)"] = median["xhtml2pdf total"] - sum(
        v for k, v in out.items() if k != "jinja")
    return {label: _ms(seconds) for label, seconds in out.items()}


def font_setup_ms() -> float:
    """What registering the fonts costs, once per process (0 if it has happened already)."""
    from portal.services.documents import engine

    started = time.perf_counter()
    engine.setup()
    return _ms(time.perf_counter() - started)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pdf", description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--split", action="store_true", help="time xhtml2pdf's stages too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    setup = font_setup_ms()
    result = benchmark_render(args.lines, repeat=args.runs)
    result["font_setup_once_ms"] = setup
    if args.split:
        result["xhtml2pdf_split_ms"] = split_xhtml2pdf(args.lines, repeat=args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.lines} lines, {result['pages']} page(s), {result['bytes']:,} bytes, "
          f"{result['runs']} runs (fonts registered once per process: {setup} ms)")
    print(f"  {'stage':38} {'wall median':>11} {'wall p95':>9} {'cpu median':>10} {'cpu p95':>8}")
    for stage in ("context", "xhtml2pdf", "pdfa", "total"):
        w, c = result["wall_ms"][stage], result["cpu_ms"][stage]
        print(f"  {stage:38} {w['median']:11.2f} {w['p95']:9.2f} {c['median']:10.2f} "
              f"{c['p95']:8.2f}")
    for label, ms in result.get("xhtml2pdf_split_ms", {}).items():
        print(f"    xhtml2pdf: {label:30} {'':20} {ms:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
