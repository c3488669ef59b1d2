"""A real gunicorn serving `wsgi:app` in a subprocess, for tests that need the production
server (its access log, its forked workers). Every wait is bounded; the process group is
always stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from portal.config import ROOT

WAIT = 30  # seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, database_url: str, tmp_path: Path, *, workers: int = 2, **settings):
        self.port = free_port()
        self.access_log = tmp_path / "gunicorn-access.log"
        self.error_log = tmp_path / "gunicorn-error.log"
        self.output = tmp_path / "gunicorn-output.log"  # stderr: the app's own log records
        self.env = {**os.environ, "PORTAL_ENV": "testing", "DATABASE_URL": database_url,
                    "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
                    **{key: str(value) for key, value in settings.items()}}
        self.args = [sys.executable, "-m", "gunicorn", "-w", str(workers),
                     "-b", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access_log),
                     "--error-logfile", str(self.error_log),
                     # No control socket in $HOME: runs side by side must not share one.
                     "--no-control-socket", "wsgi:app"]
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        with self.output.open("wb") as output:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise AssertionError(f"gunicorn did not listen within {WAIT}s:\n{self.errors()}")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=WAIT)

    def errors(self) -> str:
        """gunicorn's error log and the processes' output (where the app's records go)."""
        return "\n".join(path.read_text(errors="replace")[-8000:]
                         for path in (self.error_log, self.output) if path.exists())

    def access_lines(self) -> list[str]:
        if not self.access_log.exists():
            return []
        return self.access_log.read_text(errors="replace").splitlines()
