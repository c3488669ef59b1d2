"""Driving load from a second process: wrk for GETs, Python threads for the close scenario."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass
class Result:
    scenario: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    floor_rps: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.rps / self.floor_rps if self.floor_rps else None

    def as_dict(self) -> dict:
        return {**asdict(self), "ratio_to_floor": round(self.ratio, 3) if self.ratio else None}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                              output)
    if socket_errors:
        errors += sum(int(x) for x in socket_errors.groups())
    return rps, p50, p99, requests, errors


def wrk(scenario: str, url: str, *, duration: int, concurrency: int,
        headers: dict[str, str] | None = None) -> Result:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    cmd = ["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}", f"-d{duration}s", "--latency",
           "--timeout", "10s"]
    for key, value in (headers or {}).items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60,
                         check=True).stdout
    return Result(scenario, *parse_wrk(out))


def request(base: str, method: str, path: str, *, headers=None, body=None):
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def close_drafts(base: str, path_for, draft_ids: list[int], *, token: str, duration: int,
                 concurrency: int) -> tuple[Result, list[int]]:
    """Close drafts through the API from `concurrency` threads for `duration` seconds."""
    pending = list(reversed(draft_ids))
    lock = threading.Lock()
    latencies: list[float] = []
    closed: list[int] = []
    errors = 0
    deadline = time.monotonic() + duration
    parsed = urllib.parse.urlsplit(base)

    def worker():
        nonlocal errors
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                if not pending:
                    return
                invoice_id = pending.pop()
            started = time.perf_counter()
            conn.request("POST", path_for(invoice_id), body=b"{}",
                         headers={"Authorization": f"Token {token}",
                                  "Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if response.status == 200:
                    latencies.append(elapsed)
                    closed.append(invoice_id)
                else:
                    errors += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else 0.0

    return Result("close_drafts (API)", len(closed) / elapsed, pct(0.5), pct(0.99),
                  len(closed), errors), closed


def wait_ready(base: str, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, _, _ = request(base, "GET", path)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not come up")


def session_cookie(headers: dict) -> str:
    raw = headers.get("Set-Cookie") or headers.get("set-cookie") or ""
    return raw.split(";", 1)[0]


__all__ = ["Result", "wrk", "close_drafts", "request", "wait_ready", "session_cookie", "json"]
