"""E-invoice timings, in-process (`python -m bench.einvoice [repeat] [--closes N]`): build +
validate both XMLs, and post-process a rendered PDF into the Factur-X PDF/A-3b. Prints p50/p90
in ms as JSON. With `--closes N`: N closes in a row on a fresh PostgreSQL database
(BENCH_POSTGRES_URL), with e-invoicing on and off, one thread, jobs not run (closes only).

The schematron stylesheets compile once per process; that one-off cost is printed apart.
Runs on one core for a few seconds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from bench.pdf import sample_invoice_dict
from portal.domain import einvoice
from portal.services.documents import context_from_dict, pdfa, render_invoice_pdf, validate, xml
from tests.einvoice_table import VALID, frozen


def _p(samples: list[float], q: float) -> float:
    return round(statistics.quantiles(samples, n=100)[int(q * 100) - 1] * 1000, 1)


def run(repeat: int = 30) -> dict:
    started = time.perf_counter()
    validate.rules()
    compile_ms = round((time.perf_counter() - started) * 1000)
    data = frozen(VALID["shipping_and_payment"])
    build, check = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = einvoice.build(data)
        cii, ubl = xml.to_cii(model), xml.to_ubl(model)
        t1 = time.perf_counter()
        findings = validate.validate(cii) + validate.validate(ubl)
        t2 = time.perf_counter()
        assert not validate.fatal(findings)
        build.append(t1 - t0)
        check.append(t2 - t0)
    rendered = render_invoice_pdf(context_from_dict(sample_invoice_dict(5)))
    post = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        pdfa.make_facturx(rendered, cii, title="Invoice BENCH-00001")
        post.append(time.perf_counter() - t0)
    return {"compile_once_ms": compile_ms,
            "build_both_xml_ms": {"p50": _p(build, .5), "p90": _p(build, .9)},
            "build_and_validate_both_xml_ms": {"p50": _p(check, .5), "p90": _p(check, .9)},
            "pdfa_postprocess_ms": {"p50": _p(post, .5), "p90": _p(post, .9)},
            "repeat": repeat}


def closes(n: int) -> dict:
    """Closes per second, one thread, e-invoicing on vs off, on a fresh PostgreSQL database."""
    import os

    from flask_migrate import upgrade

    from bench.__main__ import database
    from portal import create_app, jobs
    from portal.extensions import db
    from portal.models import Invoice
    from portal.services import invoices
    from tests.factories import ACTOR, Factory

    out = {}
    with database("postgresql") as url:
        os.environ.setdefault("SECRET_KEY", "bench-einvoice")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with app.app_context():
            upgrade()
            make = Factory()
            for label, on in (("einvoicing_on", True), ("einvoicing_off", False)):
                event = make.event()
                event.einvoicing = on
                customer = make.customer(event.organizer)
                ids = [make.invoice(event, customer).id for _ in range(n)]
                jobs.commit()
                validate.rules()  # compiled once per process, not part of a close
                started = time.perf_counter()
                for invoice_id in ids:
                    invoices.close_invoice(db.session.get(Invoice, invoice_id), actor=ACTOR)
                    db.session.commit()
                    jobs.discard_pending()
                out[label] = round(n / (time.perf_counter() - started), 1)
            db.session.remove()
            db.engine.dispose()
    return {"closes_per_second": out, "closes": n}


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--closes" in args:
        print(json.dumps(closes(int(args[args.index("--closes") + 1])), indent=2))
    else:
        print(json.dumps(run(int(args[0]) if args else 30), indent=2))
