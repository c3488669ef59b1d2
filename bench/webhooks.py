"""What a webhook adds to a lifecycle step in the request (issue 19; target: one insert).

`python -m bench.webhooks [--db sqlite|postgresql] [--steps 200]`

Marks closed invoices paid (`pay_invoice` + the commit, as a request does; the delivery jobs
queued after the commit are dropped, they run after the answer) in five set-ups, and prints
the SQL statements per step by kind and the median time per step:

- `no webhook code`: the outbox hook switched off (the portal before issue 19);
- `no endpoint`: webhooks on, the organizer has none;
- `endpoint, other types`: one endpoint, not subscribed to what `pay` emits;
- `1 endpoint`: one endpoint subscribed to `invoice.paid`;
- `3 endpoints`: three subscribed to `invoice.paid`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import Counter

os.environ.setdefault("PORTAL_ENV", "testing")
os.environ.setdefault("RATELIMIT_STORAGE_URI", "memory://")


def run(db_url: str, steps: int, answer: bool) -> list[tuple[str, Counter, float]]:
    from flask_migrate import upgrade
    from sqlalchemy import event

    from portal import create_app, jobs
    from portal.extensions import db
    from portal.services import invoices, webhook_events, webhooks
    from portal.services.representation import invoice_to_dict
    from tests.factories import ACTOR, Factory

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "TESTING": True,
                      "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    rows = []
    with app.app_context():
        upgrade()
        make = Factory()
        setups = [("no webhook code", [], False), ("no endpoint", [], True),
                  ("endpoint, other types", [["invoice.created"]], True),
                  ("1 endpoint", [["invoice.paid"]], True),
                  ("3 endpoints", [["invoice.paid"]] * 3, True)]
        original = webhook_events.from_audit
        prepared = []
        for label, endpoints, hooked in setups:
            organizer = make.organizer()
            event_ = make.event(organizer)
            customer = make.customer(organizer)
            for types in endpoints:
                webhooks.create_endpoint(organizer, {"url": "http://127.0.0.1:9/h",
                                                     "events": types}, actor=ACTOR)
            ids = []
            for _ in range(steps):
                invoice = make.invoice(event_, customer)
                invoices.close_invoice(invoice, actor=ACTOR)
                ids.append(invoice.id)
            jobs.discard_pending()
            db.session.commit()
            db.session.remove()
            prepared.append((label, hooked, ids, Counter(), []))

        current: list[Counter] = []

        def count(conn, cursor, statement, parameters, context, executemany):
            word = statement.lstrip().split(None, 1)[0].upper()
            if current and word not in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"):
                current[0][word] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            # Round robin, one step of each set-up in turn: the machine's drift hits all alike.
            for index in range(steps):
                for _label, hooked, ids, statements, times in prepared:
                    webhook_events.from_audit = original if hooked else (
                        lambda entry, invoice: None)
                    current[:] = [statements]
                    started = time.perf_counter()
                    invoice = db.session.get(invoices.Invoice, ids[index])
                    invoices.pay_invoice(invoice, actor=ACTOR)
                    if answer:  # the API answers with the invoice object, built from the same rows
                        invoice_to_dict(invoice)
                    jobs.discard_pending()  # delivery runs after the answer, not in it
                    db.session.commit()
                    times.append(time.perf_counter() - started)
                    current[:] = []
                    db.session.remove()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
            webhook_events.from_audit = original
        for label, _hooked, _ids, statements, times in prepared:
            per_step = Counter({k: v / steps for k, v in statements.items()})
            rows.append((label, per_step, statistics.median(times) * 1000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    from bench.__main__ import database

    for answer in (False, True):
        with database(args.db) as url:
            rows = run(url, args.steps, answer)
        base_statements = rows[0][1]
        base_ms = rows[0][2]
        print(f"pay_invoice + commit{' + the API answer (invoice_to_dict)' if answer else ''}, "
              f"{args.steps} steps per row, {args.db}, median time")
        print(f"{'set-up':<24}{'SELECT':>8}{'INSERT':>8}{'UPDATE':>8}{'ms/step':>10}  added")
        for label, per_step, ms in rows:
            added = {k: per_step[k] - base_statements[k] for k in ("SELECT", "INSERT", "UPDATE")}
            said = ", ".join(f"{v:+.0f} {k}" for k, v in added.items() if round(v))
            print(f"{label:<24}{per_step['SELECT']:>8.1f}{per_step['INSERT']:>8.1f}"
                  f"{per_step['UPDATE']:>8.1f}{ms:>10.2f}  {said or '—'} ({ms - base_ms:+.2f} ms)")
        print()


if __name__ == "__main__":
    main()
