"""`make bench` / `python -m bench`: build a data set, serve the portal and the floor under
gunicorn, drive load with wrk from a second process, print a table and write JSON.

See bench/README.md for what each scenario means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def database(kind: str):
    """A fresh, empty database of `kind`; dropped afterwards."""
    if kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# Production runs jobs on Celery: the app servers queue PDF and mail jobs and never render.
# The bench does the same (a Redis db of its own, no worker: jobs only pile up, and the
# queue is emptied afterwards), so closing is measured as production would see it.
BENCH_BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15")


def portal_env(url: str) -> dict:
    return {**os.environ, "DATABASE_URL": url, "PORTAL_ENV": "production",
            "SECRET_KEY": "bench-" + uuid.uuid4().hex, "SESSION_COOKIE_SECURE": "0",
            "PORTAL_INSTANCE_PATH": str(DATA / "instance"), "RATELIMIT_ENABLED": "1",
            "CELERY_BROKER_URL": BENCH_BROKER}


def flush_broker() -> None:
    import redis
    redis.Redis.from_url(BENCH_BROKER).flushdb()


def build_dataset(url: str, args, invoices: int) -> dict:
    os.environ.update({"PORTAL_ENV": "production", "SECRET_KEY": "bench-build",
                       "DATABASE_URL": url, "PORTAL_INSTANCE_PATH": str(DATA / "instance")})
    os.environ.pop("CELERY_BROKER_URL", None)  # the data set's own PDFs are made in-process
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    from . import dataset
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        started = time.monotonic()
        info = dataset.build(invoices, args.events, min(args.customers, max(invoices // 10, 10)),
                             args.lines)
        info["build_seconds"] = round(time.monotonic() - started, 1)
        # What the periodic job (portal.compact_tallies) does in production between the
        # bulk load and the first request: one kept-count row per event, status and type.
        from portal.services.tallies import compact_tallies
        compact_tallies()
        db.session.commit()
        info["pdf_invoices"] = [info["event0_invoice_id"]]
        try:
            dataset.store_pdfs(info["pdf_invoices"])
            info["pdf_ok"] = True
        except Exception as exc:  # the documents service may be missing in a partial checkout
            print(f"  (no stored PDF: {exc})")
            info["pdf_ok"] = False
        db.session.remove()
        db.engine.dispose()
    return info


def start_gunicorn(target: str, url: str, workers: int):
    """gunicorn serving `target` on a free port with the bench's environment, in a process
    group of its own (stop it with os.killpg): (process, its open log, base URL)."""
    port = free_port()
    log = open(DATA / f"gunicorn-{port}.log", "w")  # noqa: SIM115 - the caller closes it
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--access-logfile", "/dev/null", "--error-logfile", "-", target],
        cwd=ROOT, env=portal_env(url), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)
    return proc, log, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def gunicorn(target: str, url: str, workers: int):
    proc, log, base = start_gunicorn(target, url, workers)
    try:
        from .load import wait_ready
        wait_ready(base, "/healthz")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        log.close()


def organizer_cookie(base: str, email: str, password: str) -> str:
    from urllib.parse import urlencode

    from .load import request, session_cookie
    status, headers, body = request(base, "GET", "/login")
    cookie = session_cookie(headers)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    status, headers, _ = request(base, "POST", "/login", headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        body=urlencode({"email": email, "password": password, "csrf_token": token}))
    if status not in (302, 303):
        raise RuntimeError(f"organizer login failed: {status}")
    return session_cookie(headers) or cookie


def customer_cookie(base: str, key: str) -> str:
    from .load import request, session_cookie
    status, headers, _ = request(base, "GET", f"/my/access/{key}")
    if status not in (302, 303):
        raise RuntimeError(f"customer sign-in failed: {status}")
    return session_cookie(headers)


def run_scenarios(kind: str, url: str, info: dict, args) -> list:
    from .load import close_drafts, wrk
    org, event = info["organizer"], info["event"]
    api = f"/api/v1/organizers/{org}/events/{event}"
    token = {"Authorization": f"Token {info['token']}"}
    results = []
    with gunicorn("wsgi:app", url, args.workers) as portal, \
            gunicorn("bench.floor:app", url, args.workers) as floor:
        customer = {"Cookie": customer_cookie(portal, info["customer_key"])}
        organizer = {"Cookie": organizer_cookie(portal, info["email"], info["password"])}
        event_id = info["event_ids"][0]
        pairs = [
            ("customer list page", f"{portal}/my/invoices", customer,
             f"{floor}/customer/{info['customer_id']}/invoices"),
            ("customer detail page", f"{portal}/my/invoices/{info['invoice_id']}", customer,
             f"{floor}/invoices/{info['invoice_id']}"),
            ("organizer list page (status=paid)",
             f"{portal}/org/{org}/events/{event}/invoices?status=paid", organizer,
             f"{floor}/events/{event_id}/page?status=paid"),
            ("API list (page_size=50)", f"{portal}{api}/invoices/?page_size=50", token,
             f"{floor}/events/{event_id}/invoices?page_size=50"),
            ("API detail", f"{portal}{api}/invoices/{info['event0_invoice_id']}/", token,
             f"{floor}/invoices/{info['event0_invoice_id']}.json"),
        ]
        if info.get("pdf_ok"):
            pdf_id = info["pdf_invoices"][0]
            pairs.append(("stored PDF download", f"{portal}{api}/invoices/{pdf_id}/pdf/", token,
                          f"{floor}/pdf/{pdf_id}"))
        for name, target, headers, floor_url in pairs:
            print(f"  [{kind}] {name} …", flush=True)
            result = wrk(name, target, duration=args.duration, concurrency=args.concurrency,
                         headers=headers)
            result.floor_rps = wrk(name, floor_url, duration=args.duration,
                                   concurrency=args.concurrency).rps
            results.append(result)
        print(f"  [{kind}] closing drafts through the API …", flush=True)
        closing = f"/api/v1/organizers/{org}/events/{info['closing_event']}/invoices"
        result, closed = close_drafts(portal, lambda i: f"{closing}/{i}/close/",
                                      info["draft_ids"], token=info["token"],
                                      duration=args.duration, concurrency=args.concurrency)
        result.gapless = check_gapless(url, info["closing_event"])
        results.append(result)
    flush_broker()
    return results


def check_gapless(url: str, event_slug: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT i.sequence_value FROM invoices i JOIN events e ON e.id = i.event_id "
            "WHERE e.slug = :s AND i.number IS NOT NULL ORDER BY i.sequence_value"),
            {"s": event_slug}).scalars().all()
    engine.dispose()
    return rows == list(range(1, len(rows) + 1))


def scale_check(kind: str, sizes: list[int], args) -> list[dict]:
    """API list and customer list latency at growing table sizes."""
    from .load import wrk
    rows = []
    for size in sizes:
        with database(kind) as url:
            print(f"  [{kind}] scale: building {size:,} invoices …", flush=True)
            info = build_dataset(url, args, size)
            with gunicorn("wsgi:app", url, args.workers) as portal:
                api = f"/api/v1/organizers/{info['organizer']}/events/{info['event']}"
                customer = {"Cookie": customer_cookie(portal, info["customer_key"])}
                token = {"Authorization": f"Token {info['token']}"}
                a = wrk("API list", f"{portal}{api}/invoices/?page_size=50",
                        duration=args.duration, concurrency=args.concurrency, headers=token)
                c = wrk("customer list", f"{portal}/my/invoices", duration=args.duration,
                        concurrency=args.concurrency, headers=customer)
            rows.append({"invoices": size, "api_list_p50_ms": a.p50_ms, "api_list_p99_ms": a.p99_ms,
                         "api_list_rps": a.rps, "customer_list_p50_ms": c.p50_ms,
                         "customer_list_p99_ms": c.p99_ms, "customer_list_rps": c.rps,
                         "errors": a.errors + c.errors})
    return rows


def render_benchmark() -> dict | None:
    os.environ.setdefault("PORTAL_ENV", "production")
    try:
        from .pdf import benchmark_render
    except ImportError:
        return None
    return {n: benchmark_render(n) for n in (5, 150)}


def print_table(kind: str, results) -> None:
    print(f"\n{kind}: {'scenario':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'floor':>9} "
          f"{'ratio':>6} {'errors':>6}")
    for r in results:
        ratio = f"{r.ratio:.2f}" if r.ratio else "-"
        floor = f"{r.floor_rps:9.0f}" if r.floor_rps else "        -"
        print(f"{'':{len(kind) + 2}}{r.scenario:38} {r.rps:9.1f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
              f"{floor} {ratio:>6} {r.errors:6d}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default=None,
                        help="default: sqlite, plus postgresql when DATABASE_URL points at it")
    parser.add_argument("--scale", default="10000,100000",
                        help="comma list of sizes for the scale check ('' to skip)")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 to the scale check")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    kinds = {"sqlite": ["sqlite"], "postgresql": ["postgresql"], "both": ["sqlite", "postgresql"],
             None: ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL", "")
                                 .startswith("postgresql") else [])}[args.db]
    sizes = [int(s) for s in args.scale.split(",") if s.strip()]
    if args.million:
        sizes.append(1_000_000)
    DATA.mkdir(parents=True, exist_ok=True)
    report = {"started_at": dt.datetime.now(dt.UTC).isoformat(), "args": vars(args),
              "machine": {"cpus": os.cpu_count()}, "databases": {}}
    for kind in kinds:
        with database(kind) as url:
            print(f"[{kind}] building {args.invoices:,} invoices × {args.lines} lines …",
                  flush=True)
            info = build_dataset(url, args, args.invoices)
            print(f"[{kind}] built in {info['build_seconds']} s", flush=True)
            results = run_scenarios(kind, url, info, args)
        scale = scale_check(kind, sizes, args) if sizes else []
        print_table(kind, results)
        for row in scale:
            print(f"  scale {row['invoices']:>9,}: API list p50 {row['api_list_p50_ms']:.2f} ms "
                  f"p99 {row['api_list_p99_ms']:.2f} ms | customer list p50 "
                  f"{row['customer_list_p50_ms']:.2f} ms p99 {row['customer_list_p99_ms']:.2f} ms")
        report["databases"][kind] = {
            "build_seconds": info["build_seconds"],
            "scenarios": [{**r.as_dict(), **({"gapless": r.gapless} if hasattr(r, "gapless")
                                             else {})} for r in results],
            "scale": scale,
        }
    render = render_benchmark()
    if render:
        report["pdf_render"] = render
        for n, figures in render.items():
            print(f"PDF render, {n} lines: {figures}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else RESULTS / "latest.json"
    out.write_text(json.dumps(report, indent=2, default=str))
    print(f"\nJSON written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main", "select"]
