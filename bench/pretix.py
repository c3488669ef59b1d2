"""`make bench-pretix` / `python -m bench.pretix`: the portal side by side with pretix.

pretix 2026.8 (the peer, ../shared/peers/pretix/: setup.sh, seed.py, serve.sh, bench.py) and the
portal serve the same data shape (1,000 closed one-line invoices, 23.00 gross at 19 % VAT, one
organizer `bigevents`, event `sampleconf`), both under gunicorn with 5 workers. One client, the
peer's own load function (bench.py `load`: C threads in a closed loop, D seconds after a
warm-up, only 200s count), drives every target, each measurement in a fresh process, in
interleaved rounds:

- pretix:          its API, list (first page, 50), detail, download (the stored PDF);
- portal native:   `/api/v1/…/invoices/?page_size=50`, `…/invoices/<id>/`, `…/invoices/<id>/pdf/`;
- portal dialect:  pretix's very paths under `/compat/pretix` (the id is the full number);
- the floor:       bench/floor.py's 50 rows as JSON and as HTML (bench/README.md);
- customer page:   the portal's `/my/invoices` (HTML, signed in with a customer key).

It prints req/s, p50, p99 per target (median over rounds) and the ratios portal ÷ pretix and
portal ÷ floor (the median of the per-round ratios), and writes bench/results/pretix-<db>.json.
Every server it starts is stopped at the end, on an error and on Ctrl-C too.

Internal sub-commands, each run in a process of its own: `build` (the portal data set) and
`load` (one measurement with bench.py's load function).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import json
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
PEER_DIR = Path(os.environ.get("PRETIX_PEER_DIR", "/tmp/pretix-peer"))
PG_SERVER = os.environ.get("BENCH_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "bench_pretix"
ORGANIZER, EVENT, PREFIX = "bigevents", "sampleconf", "/api/v1"
INVOICES = 1000


def peer_tools() -> Path:
    """The peer's folder: $PRETIX_PEER_TOOLS, else ../shared/peers/pretix from the checkout
    (a worktree sits one level deeper than the main checkout)."""
    if os.environ.get("PRETIX_PEER_TOOLS"):
        return Path(os.environ["PRETIX_PEER_TOOLS"])
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "peers" / "pretix" / "bench.py").exists():
            return base / "shared" / "peers" / "pretix"
    raise SystemExit("pretix peer tools not found: set PRETIX_PEER_TOOLS")


def log(*parts) -> None:
    print(f"[pretix-bench {time.strftime('%H:%M:%S')}]", *parts, flush=True)


# ---------------------------------------------------------------- the client (sub-command)


def peer_client():
    """bench.py, the peer's client, imported from its folder (standard library only)."""
    spec = importlib.util.spec_from_file_location("pretix_peer_bench", peer_tools() / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_command(args) -> int:
    """One measurement: bench.py's `load` on one URL; its JSON on stdout."""
    client = peer_client()
    result = client.load(args.base, json.loads(args.headers), args.path, args.concurrency,
                         args.duration, args.warmup)
    print(json.dumps(result))
    return 0


def measure(base: str, path: str, headers: dict, *, concurrency: int, duration: float,
            warmup: float) -> dict:
    cmd = [sys.executable, "-m", "bench.pretix", "load", "--base", base, "--path", path,
           "--headers", json.dumps(headers), "--concurrency", str(concurrency),
           "--duration", str(duration), "--warmup", str(warmup)]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         timeout=duration + warmup + 180)
    if out.returncode != 0:
        return {"req_per_s": 0.0, "latency": {}, "statuses": {}, "errors": 1,
                "error_sample": [out.stderr[-500:]], "path": path}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the portal data set (sub-command)


def build_command(args) -> int:
    """Migrate an empty database and fill it with the pretix shape through the services."""
    os.environ.update({"PORTAL_ENV": "production", "SECRET_KEY": "bench-build",
                       "DATABASE_URL": args.url, "PORTAL_INSTANCE_PATH": str(DATA / "instance")})
    os.environ.pop("CELERY_BROKER_URL", None)  # the stored PDFs are made here, in-process
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    from . import dataset
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url})
    with app.app_context():
        upgrade()
        started = time.monotonic()
        info = dataset.build_closed(dataset.PRETIX_SHAPE)
        info["build_seconds"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        info["pdfs"] = dataset.store_pdfs(info["invoice_ids"][:args.pdfs])
        info["pdf_seconds"] = round(time.monotonic() - started, 1)
        info["jobs_dropped"] = dataset.drop_pending_jobs()
        info["invoice_id"] = info["invoice_ids"][0]
        info["invoices"] = len(info.pop("invoice_ids"))
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(info))
    return 0


@contextlib.contextmanager
def fresh_database(kind: str, keep: bool):
    """A fresh database of `kind` with a fixed name (dropped first, so a rerun after a crash
    starts clean); dropped afterwards unless `keep`."""
    if kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / "pretix.sqlite3"

        def remove():
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        remove()
        try:
            yield f"sqlite:///{path}"
        finally:
            if not keep:
                remove()
        return
    from sqlalchemy import create_engine, text
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    try:
        yield PG_SERVER.rsplit("/", 1)[0] + f"/{PG_DATABASE}"
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def start_builds(urls: dict[str, str], pdfs: int) -> dict:
    """Build the data sets of all databases at once, each in a process of its own (while
    pretix is set up); `finish_builds` collects them."""
    procs = {}
    for kind, url in urls.items():
        err = open(DATA / f"pretix-build-{kind}.log", "w")  # noqa: SIM115 - closed in finish
        procs[kind] = (subprocess.Popen(
            [sys.executable, "-m", "bench.pretix", "build", "--url", url, "--pdfs", str(pdfs)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True), err)
    return procs


def stop_builds(procs: dict) -> None:
    for proc, err in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        err.close()


def finish_builds(procs: dict) -> dict[str, dict]:
    infos = {}
    for kind, (proc, err) in procs.items():
        out, _ = proc.communicate(timeout=900)
        err.close()
        if proc.returncode != 0:
            tail = (DATA / f"pretix-build-{kind}.log").read_text()[-3000:]
            raise RuntimeError(f"building the {kind} data set failed:\n{tail}")
        infos[kind] = json.loads(out.strip().splitlines()[-1])
    return infos


@contextlib.contextmanager
def servers(specs: list[tuple[str, str]], workers: int):
    """gunicorn for each (WSGI target, database URL) as `make bench` starts them (production
    settings, bench/__main__.py's environment), all at once; yields their base URLs. All are
    stopped at the end (SIGTERM to each process group, then SIGKILL after 30 s)."""
    from .__main__ import start_gunicorn
    from .load import wait_ready
    started = []
    try:
        for target, url in specs:
            started.append(start_gunicorn(target, url, workers))
        for _proc, _out, base in started:
            wait_ready(base, "/healthz", timeout=120)
        yield [base for _proc, _out, base in started]
    finally:
        for proc, _out, _base in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, out, _base in started:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            out.close()


# ---------------------------------------------------------------- pretix


def pretix_invoices(peer: Path) -> int:
    db_path = peer / "data" / "db.sqlite3"
    if not db_path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM pretixbase_invoice").fetchone()[0]
    except sqlite3.Error:
        return 0


def _alive(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def pretix(skip_setup: bool):
    """Install (setup.sh, idempotent), seed (seed.py -n 1000, when fewer invoices are there)
    and serve pretix (serve.sh); yields (base URL, token). Stopped afterwards when this run
    started it; a pretix that was running already is reused and left running."""
    tools = peer_tools()
    env = {**os.environ, "PRETIX_PEER_DIR": str(PEER_DIR),
           "PRETIX_CONFIG_FILE": str(PEER_DIR / "pretix.cfg")}
    setup_log = DATA / "pretix-setup.log"
    running = _alive(PEER_DIR / "server.pid")
    if not running and not (skip_setup and (PEER_DIR / "venv" / "bin" / "gunicorn").exists()):
        log(f"pretix: setup.sh (PRETIX_PEER_DIR={PEER_DIR}; log {setup_log})")
        with open(setup_log, "w") as out:
            subprocess.run(["bash", str(tools / "setup.sh")], env=env, stdout=out,
                           stderr=subprocess.STDOUT, check=True, cwd=tools)
    if not running and (pretix_invoices(PEER_DIR) < INVOICES
                        or not (PEER_DIR / "token.txt").exists()):
        log(f"pretix: seed.py -n {INVOICES} (about 45 s the first time)")
        with open(DATA / "pretix-seed.log", "w") as out:
            subprocess.run([str(PEER_DIR / "venv" / "bin" / "python"), str(tools / "seed.py"),
                            "-n", str(INVOICES)], env=env, stdout=out,
                           stderr=subprocess.STDOUT, check=True, cwd=tools)
    started = False
    if not running:
        out = subprocess.run(["bash", str(tools / "serve.sh")], env=env, capture_output=True,
                             text=True, check=True, cwd=tools)
        log("pretix:", out.stdout.strip().splitlines()[-1])
        started = True
    else:
        log(f"pretix: already running (PID {(PEER_DIR / 'server.pid').read_text().strip()}), "
            "reused and left running")
    try:
        port = (PEER_DIR / "server.port").read_text().strip()
        token = (PEER_DIR / "token.txt").read_text().strip()
        yield f"http://127.0.0.1:{port}", token
    finally:
        if started:
            out = subprocess.run(["bash", str(tools / "serve.sh"), "stop"], env=env,
                                 capture_output=True, text=True, cwd=tools)
            log("pretix:", out.stdout.strip() or out.stderr.strip())


def pretix_version() -> str | None:
    out = subprocess.run([str(PEER_DIR / "venv" / "bin" / "python"), "-c",
                          "import pretix; print(pretix.__version__)"],
                         capture_output=True, text=True)
    return out.stdout.strip() or None


# ---------------------------------------------------------------- targets


def pretix_paths(number: str) -> dict[str, str]:
    """The paths bench.py asks for (same f-strings as its main)."""
    q = urllib.parse.quote
    invoices = f"{PREFIX}/organizers/{ORGANIZER}/events/{EVENT}/invoices/"
    return {"list": invoices, "detail": f"{invoices}{q(number)}/",
            "download": f"{invoices}{q(number)}/download/"}


def native_paths(invoice_id: int) -> dict[str, str]:
    invoices = f"{PREFIX}/organizers/{ORGANIZER}/events/{EVENT}/invoices/"
    return {"list": f"{invoices}?page_size=50", "detail": f"{invoices}{invoice_id}/",
            "download": f"{invoices}{invoice_id}/pdf/"}


def get(base: str, path: str, headers: dict) -> tuple[int, bytes]:
    from .load import request
    parsed = urllib.parse.urlsplit(base)
    status, _headers, body = request(f"{parsed.scheme}://{parsed.netloc}", "GET",
                                     parsed.path.rstrip("/") + path, headers=headers)
    return status, body


def check_target(name: str, base: str, path: str, headers: dict, *, pdf=False) -> dict:
    """One request before the rounds: the status, the size, and for a list its count."""
    status, body = get(base, path, headers)
    info = {"status": status, "bytes": len(body)}
    if status == 200 and pdf:
        info["is_pdf"] = body[:4] == b"%PDF"
    elif status == 200 and body[:1] == b"{":
        data = json.loads(body)
        if "results" in data:
            info.update(count=data.get("count"), items=len(data["results"]))
            if data["results"]:
                info["keys"] = sorted(data["results"][0])
    if status != 200:
        info["body"] = body[:300].decode(errors="replace")
        log(f"  !! {name}: {path} answered {status}: {info['body']}")
    return info


def compat_check(base: str, token: str, number: str) -> dict:
    """bench.py itself, unmodified, against the dialect: a short run of its list, detail and
    download tests (the same program pretix is measured with elsewhere). `--invoice` names the
    invoice, because bench.py would take the first listed one's `number`, a key pretix 2026.8
    has and the dialect (after the seed document, SPEC §12: `invoice_no`) has not."""
    cmd = [sys.executable, str(peer_tools() / "bench.py"), "--base-url", f"{base}/compat/pretix",
           "--token", token, "--invoice", number, "--only", "list,detail,download",
           "--duration", "1",
           "--warmup", "0.3", "--concurrency", "2", "--fresh-count", "0",
           "--cached-downloads", "3"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        return {"ok": False, "returncode": out.returncode, "stdout": out.stdout[-500:],
                "stderr": out.stderr[-500:]}
    result = json.loads(out.stdout)
    statuses = {"list": result["list"]["statuses"], "detail": result["detail"]["statuses"],
                "download": result["download"]["load"]["statuses"],
                "cached_download": result["download"]["cached"]["statuses"]}
    ok = all(set(s) == {"200"} for s in statuses.values())
    return {"ok": ok, "dataset": result.get("dataset"), "invoice": result.get("invoice"),
            "statuses": statuses, "pdf_bytes": result["download"]["cached"]["pdf_bytes"]}


# ---------------------------------------------------------------- rounds and figures


SCENARIOS = [("list", "API list, page of 50"), ("detail", "API detail"),
             ("download", "stored PDF download"), ("customer", "customer list page (HTML)")]


def _summary(samples: list[dict]) -> dict:
    def med(values):
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 2) if values else None
    return {"req_per_s": med([s["req_per_s"] for s in samples]),
            "p50_ms": med([s["latency"].get("p50_ms") for s in samples]),
            "p99_ms": med([s["latency"].get("p99_ms") for s in samples]),
            "non_200": sum(sum(n for code, n in s.get("statuses", {}).items() if code != "200")
                           for s in samples),
            "errors": sum(s.get("errors", 0) for s in samples),
            "rounds": [s["req_per_s"] for s in samples]}


def _ratio(rounds: list[dict], a: str, b: str) -> float | None:
    values = [r[a]["req_per_s"] / r[b]["req_per_s"] for r in rounds
              if a in r and b in r and r[b]["req_per_s"]]
    return round(statistics.median(values), 3) if values else None


def run_rounds(targets: list[tuple[str, str, str, str, dict]], args) -> list[dict]:
    """targets: (key, scenario, base, path, headers). Each round measures every target once,
    scenario by scenario, in an order rotated by one from round to round."""
    rounds = []
    for number in range(args.rounds):
        load = os.getloadavg()[0]
        log(f"round {number + 1}/{args.rounds} (load average {load:.2f})")
        measured = {"load_average": round(load, 2)}
        for scenario, _title in SCENARIOS:
            group = [t for t in targets if t[1] == scenario]
            shift = number % len(group) if group else 0
            for key, _scenario, base, path, headers in group[shift:] + group[:shift]:
                result = measure(base, path, headers, concurrency=args.concurrency,
                                 duration=args.duration, warmup=args.warmup)
                measured[key] = result
                lat = result.get("latency", {})
                log(f"  {key:34} {result['req_per_s']:8.1f} req/s  p50 {lat.get('p50_ms', 0):7.1f}"
                    f"  p99 {lat.get('p99_ms', 0):7.1f} ms  {result.get('statuses')}")
        rounds.append(measured)
    return rounds


def figures(kind: str, rounds: list[dict]) -> dict:
    keys = sorted({k for r in rounds for k in r if k != "load_average"})
    out = {"targets": {k: _summary([r[k] for r in rounds if k in r]) for k in keys},
           "ratios": {}}
    for scenario in ("list", "detail", "download"):
        for side in ("native", "dialect"):
            key = f"{kind}:{side}:{scenario}"
            out["ratios"][f"{side} {scenario} / pretix"] = _ratio(rounds, key,
                                                                  f"pretix:{scenario}")
    for side in ("native", "dialect"):
        out["ratios"][f"{side} list / floor JSON"] = _ratio(rounds, f"{kind}:{side}:list",
                                                            f"{kind}:floor:list")
    out["ratios"]["customer page / floor HTML"] = _ratio(rounds, f"{kind}:portal:customer",
                                                         f"{kind}:floor:customer")
    return out


def goals(kind: str, fig: dict) -> list[dict]:
    """The issue's targets, reported (never asserted)."""
    r, t = fig["ratios"], fig["targets"]
    rows = []
    for side in ("native", "dialect"):
        rows.append((f"{side} list >= 10x pretix", r[f"{side} list / pretix"], 10, ">="))
        rows.append((f"{side} list >= 40 % of floor JSON", r[f"{side} list / floor JSON"], 0.4,
                     ">="))
        rows.append((f"{side} detail >= 5x pretix", r[f"{side} detail / pretix"], 5, ">="))
        rows.append((f"{side} download >= 5x pretix", r[f"{side} download / pretix"], 5, ">="))
    rows.append(("customer page >= 40 % of floor HTML", r["customer page / floor HTML"], 0.4,
                 ">="))
    if kind == "sqlite":
        for side in ("native", "dialect"):
            for scenario in ("list", "detail", "download"):
                rows.append((f"{side} {scenario} p99 < 50 ms (c=8)",
                             t.get(f"{kind}:{side}:{scenario}", {}).get("p99_ms"), 50, "<"))
    return [{"goal": name, "measured": value, "met": None if value is None else
             (value >= bound if op == ">=" else value < bound)} for name, value, bound, op in rows]


LABELS = {"pretix": "pretix", "native": "portal native", "dialect": "portal dialect",
          "floor": "floor", "portal": "portal"}


def print_table(kind: str, fig: dict, goal_rows: list[dict]) -> None:
    t, r = fig["targets"], fig["ratios"]
    print(f"\n== {kind}: median over rounds (ratios: median of the per-round ratios) ==")
    print(f"{'scenario':28} {'target':16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'/pretix':>8} {'/floor':>7} {'non-200':>8}")

    def row(title, key, label, to_pretix=None, to_floor=None):
        s = t.get(key)
        if not s:
            return
        fmt = (lambda v: f"{v:.2f}x" if v is not None else "-")  # noqa: E731
        print(f"{title:28} {label:16} {s['req_per_s'] or 0:9.1f} {s['p50_ms'] or 0:8.1f} "
              f"{s['p99_ms'] or 0:8.1f} {fmt(to_pretix) if to_pretix != '' else '':>8} "
              f"{fmt(to_floor) if to_floor != '' else '':>7} {s['non_200'] + s['errors']:8d}")

    for scenario, title in SCENARIOS[:3]:
        row(title, f"pretix:{scenario}", "pretix", "", "")
        for side in ("native", "dialect"):
            row("", f"{kind}:{side}:{scenario}", LABELS[side], r[f"{side} {scenario} / pretix"],
                r.get(f"{side} list / floor JSON", "") if scenario == "list" else "")
        if scenario == "list":
            row("", f"{kind}:floor:list", "floor 50 JSON", "", "")
    row(SCENARIOS[3][1], f"{kind}:portal:customer", "portal", "",
        r["customer page / floor HTML"])
    row("", f"{kind}:floor:customer", "floor 50 HTML", "", "")
    print("targets (reported, not asserted):")
    for g in goal_rows:
        mark = {True: "met", False: "MISSED", None: "n/a"}[g["met"]]
        print(f"  {g['goal']:40} {g['measured'] if g['measured'] is not None else '-':>8}  {mark}")


# ---------------------------------------------------------------- the run


def _git_head() -> str | None:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True)
    return out.stdout.strip() or None


def _sigterm(_signum, _frame):
    raise KeyboardInterrupt


def run(args) -> int:
    kinds = {"sqlite": ["sqlite"], "postgresql": ["postgresql"],
             "both": ["sqlite", "postgresql"]}[args.db]
    DATA.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with `&`
    started_at = dt.datetime.now(dt.UTC)
    wall = time.monotonic()
    from .__main__ import customer_cookie
    with contextlib.ExitStack() as stack:
        urls = {kind: stack.enter_context(fresh_database(kind, args.keep_data)) for kind in kinds}
        log(f"portal: building {INVOICES:,} closed one-line invoices (23.00 at 19 %) through the "
            f"services on {', '.join(kinds)} …")
        builds = start_builds(urls, args.pdfs)
        stack.callback(stop_builds, builds)
        pretix_base, pretix_token = stack.enter_context(pretix(args.skip_setup))
        infos = finish_builds(builds)
        for kind, info in infos.items():
            log(f"  {kind}: built in {info['build_seconds']} s, {info['pdfs']} stored PDFs in "
                f"{info['pdf_seconds']} s, first {info['first_number']}")
        api = {"Accept": "application/json"}
        pretix_headers = {**api, "Authorization": f"Token {pretix_token}"}
        status, body = get(pretix_base, pretix_paths("x")["list"], pretix_headers)
        if status != 200:
            raise RuntimeError(f"pretix's list answered {status}: {body[:300]!r}")
        first = json.loads(body)["results"][0]["number"]  # as bench.py picks it
        targets = [(f"pretix:{s}", s, pretix_base, p, pretix_headers)
                   for s, p in pretix_paths(first).items()]
        checks = {f"pretix:{s}": check_target(f"pretix {s}", pretix_base, p, pretix_headers,
                                              pdf=s == "download")
                  for s, p in pretix_paths(first).items()}
        compat = {}
        bases = iter(stack.enter_context(servers(
            [(target, urls[kind]) for kind in kinds for target in ("wsgi:app", "bench.floor:app")],
            args.workers)))
        for kind in kinds:
            info = infos[kind]
            portal, floor = next(bases), next(bases)
            log(f"{kind}: portal {portal}, floor {floor} ({args.workers} workers each)")
            token = {**api, "Authorization": f"Token {info['token']}"}
            customer = {"Cookie": customer_cookie(portal, info["customer_key"])}
            mine = [(f"{kind}:native:{s}", s, portal, p, token)
                    for s, p in native_paths(info["invoice_id"]).items()]
            mine += [(f"{kind}:dialect:{s}", s, f"{portal}/compat/pretix", p, token)
                     for s, p in pretix_paths(info["first_number"]).items()]
            mine += [
                (f"{kind}:floor:list", "list", floor,
                 f"/events/{info['event_id']}/invoices?page_size=50", {}),
                (f"{kind}:portal:customer", "customer", portal, "/my/invoices", customer),
                (f"{kind}:floor:customer", "customer", floor,
                 f"/customer/{info['customer_id']}/invoices?limit=50", {}),
            ]
            for key, scenario, base, path, headers in mine:
                checks[key] = check_target(key, base, path, headers, pdf=scenario == "download")
            compat[kind] = compat_check(portal, info["token"], info["first_number"])
            theirs = set(checks["pretix:list"].get("keys", []))
            ours = set(checks[f"{kind}:dialect:list"].get("keys", []))
            compat[kind]["list_item_keys_pretix_has_dialect_lacks"] = sorted(theirs - ours)
            compat[kind]["list_item_keys_dialect_has_pretix_lacks"] = sorted(ours - theirs)
            log(f"  bench.py unmodified against the {kind} dialect: "
                f"{'ok' if compat[kind]['ok'] else 'FAILED'} {compat[kind].get('statuses')}")
            targets += mine
        # Unwinding (end, error or Ctrl-C) stops every server; a second Ctrl-C must not cut
        # that short, so from then on both signals are ignored (this callback runs first).
        stack.callback(signal.signal, signal.SIGTERM, signal.SIG_IGN)
        stack.callback(signal.signal, signal.SIGINT, signal.SIG_IGN)
        log("priming every target (unmeasured) …")
        client = peer_client()
        for _key, _scenario, base, path, headers in targets:
            client.load(base, headers, path, args.concurrency, 0.3, 0.3)
        rounds = run_rounds(targets, args)
    # every server is stopped here (ExitStack), the databases dropped unless --keep-data
    meta = {"started_at": started_at.isoformat(), "wall_seconds": round(time.monotonic() - wall),
            "args": vars(args), "portal_commit": _git_head(), "pretix_version": pretix_version(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "client": "bench.py load() (python threads, http.client keep-alive), one process "
                      "per measurement", "workers": {"pretix": 5, "portal": args.workers,
                                                     "floor": args.workers},
            "shape": f"{INVOICES} closed invoices, 1 line, 23.00 gross at 19 % VAT",
            "pretix_first_invoice": first}
    for kind in kinds:
        fig = figures(kind, rounds)
        goal_rows = goals(kind, fig)
        print_table(kind, fig, goal_rows)
        mine = [k for k in checks if k.startswith("pretix:") or k.startswith(f"{kind}:")]
        report = {**meta, "database": kind, "build": infos[kind], **fig, "goals": goal_rows,
                  "checks": {k: checks[k] for k in mine}, "compat_check": compat[kind],
                  "rounds": [{k: v for k, v in r.items()
                              if k == "load_average" or k.startswith("pretix:")
                              or k.startswith(f"{kind}:")} for r in rounds]}
        out = RESULTS / f"pretix-{kind}.json"
        out.write_text(json.dumps(report, indent=2, default=str))
        # a dated copy too, so a later (or shorter) run does not lose this one
        dated = RESULTS / f"pretix-{kind}-{started_at:%Y%m%dT%H%M%SZ}.json"
        dated.write_text(out.read_text())
        print(f"JSON written to {out} (and {dated.name})")
    print(f"wall time {round(time.monotonic() - wall)} s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pretix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command")
    build = sub.add_parser("build", help="(internal) build the portal data set in --url")
    build.add_argument("--url", required=True)
    build.add_argument("--pdfs", type=int, default=10)
    one = sub.add_parser("load", help="(internal) one measurement with bench.py's load()")
    one.add_argument("--base", required=True)
    one.add_argument("--path", required=True)
    one.add_argument("--headers", default="{}")
    for p in (parser, one):
        p.add_argument("--concurrency", type=int, default=8)
        p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
        p.add_argument("--warmup", type=float, default=1.0,
                       help="seconds of unmeasured load before each measurement")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=5,
                        help="gunicorn workers of the portal and the floor (pretix: 5)")
    parser.add_argument("--pdfs", type=int, default=10,
                        help="invoices whose document of record is rendered and stored")
    parser.add_argument("--skip-setup", action="store_true",
                        help="do not rerun pretix's setup.sh when its venv exists")
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the portal databases (bench/.data/pretix.sqlite3, "
                             f"{PG_DATABASE})")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build_command(args)
    if args.command == "load":
        return load_command(args)
    try:
        return run(args)
    except KeyboardInterrupt:
        log("interrupted: servers stopped")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
