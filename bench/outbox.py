"""What the job outbox adds to a close: `python -m bench.outbox [--db both] [--closes 300]`.

Closes the same kind of draft (three lines) with and without the outbox row, alternating so
that the machine's noise falls on both alike, each close its own committed transaction on a
fresh database (migrated to head), and prints the statements each close ran and the median
and mean wall time of the step, plus the time of the INSERT itself. The job is not run (its
hand-off happens after the commit and is no part of the close). Target: one insert, < 1 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _database(kind: str):
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-outbox-")
        return f"sqlite:///{folder}/bench.sqlite3", lambda: None
    name = f"bench_outbox_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def measure(kind: str, closes: int) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ["PORTAL_ENV"] = "testing"
    from flask_migrate import upgrade

    from portal import create_app, jobs
    from portal.extensions import db
    from portal.services import invoices as svc
    from portal.services.audit import Actor
    from portal.services.organizers import create_event, create_organizer

    url, drop = _database(kind)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "RATELIMIT_ENABLED": False, "JOBS_RELAY_INTERVAL": 0})
        actor = Actor.system("bench")
        with app.app_context():
            upgrade()
            organizer = create_organizer("bench", "Bench GmbH", actor=actor)
            event_ = create_event(organizer, "conf", "Conf", actor=actor)
            lines = [{"description": f"Item {i}", "quantity": "2", "unit_price": "10.00",
                      "tax_rate": "19.00"} for i in range(3)]
            buyer = {"first_name": "Ada", "last_name": "Buyer", "country": "DE"}
            drafts = [svc.create_draft(event_, {"lines": lines, "billing_address": buyer},
                                       actor=actor).id for _ in range(2 * closes + 1)]
            db.session.commit()
            from portal.models import Invoice

            inserts: list[float] = []
            audit_inserts: list[float] = []  # the close's audit row, for comparison
            started_at: dict[int, tuple[float, list]] = {}

            def before(conn, cursor, statement, *args):
                head = statement.lstrip().upper()
                if head.startswith("INSERT INTO JOBS"):
                    started_at[id(cursor)] = (time.perf_counter(), inserts)
                elif head.startswith("INSERT INTO AUDIT"):
                    started_at[id(cursor)] = (time.perf_counter(), audit_inserts)

            def after(conn, cursor, statement, *args):
                if id(cursor) in started_at:
                    began, into = started_at.pop(id(cursor))
                    into.append(time.perf_counter() - began)

            statements: list[str] = []

            def count(conn, cursor, statement, *args):
                statements.append(statement)

            event.listen(db.engine, "before_cursor_execute", before)
            event.listen(db.engine, "after_cursor_execute", after)
            real_enqueue = svc.enqueue
            times = {"with": [], "without": []}
            counts = {}
            # The first close of an event starts its number sequence: not measured.
            svc.close_invoice(db.session.get(Invoice, drafts[0]), actor=actor)
            jobs.discard_pending()
            db.session.commit()
            for i, invoice_id in enumerate(drafts[1:]):
                mode = "with" if i % 2 else "without"
                svc.enqueue = real_enqueue if mode == "with" else (lambda *a, **k: None)
                invoice = db.session.get(Invoice, invoice_id)
                statements.clear()
                event.listen(db.engine, "before_cursor_execute", count)
                started = time.perf_counter()
                svc.close_invoice(invoice, actor=actor)
                db.session.commit()
                times[mode].append(time.perf_counter() - started)
                event.remove(db.engine, "before_cursor_execute", count)
                counts[mode] = len(statements)
                jobs.discard_pending()  # the job itself is not part of the close
                db.session.expunge_all()
            svc.enqueue = real_enqueue
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
    ms = {mode: [t * 1000 for t in values] for mode, values in times.items()}
    return {
        "db": kind, "closes": closes,
        "statements_without": counts["without"], "statements_with": counts["with"],
        "median_without_ms": statistics.median(ms["without"]),
        "median_with_ms": statistics.median(ms["with"]),
        "mean_without_ms": statistics.fmean(ms["without"]),
        "mean_with_ms": statistics.fmean(ms["with"]),
        "insert_median_ms": statistics.median(inserts) * 1000,
        "insert_p99_ms": sorted(inserts)[int(len(inserts) * 0.99) - 1] * 1000,
        "audit_insert_median_ms": statistics.median(audit_inserts) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--closes", type=int, default=300)
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        r = measure(kind, args.closes)
        print(f"{r['db']:>10}: a close runs {r['statements_without']} statements without the "
              f"outbox, {r['statements_with']} with it; median close "
              f"{r['median_without_ms']:.2f} ms -> {r['median_with_ms']:.2f} ms "
              f"(+{r['median_with_ms'] - r['median_without_ms']:.2f} ms; mean "
              f"{r['mean_without_ms']:.2f} -> {r['mean_with_ms']:.2f}); the INSERT itself: "
              f"median {r['insert_median_ms']:.3f} ms, p99 {r['insert_p99_ms']:.3f} ms "
              f"(the close's audit INSERT: median {r['audit_insert_median_ms']:.3f} ms; "
              f"{r['closes']} closes each)")


if __name__ == "__main__":
    main()
