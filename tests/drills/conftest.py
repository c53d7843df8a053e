"""Fault drills: Photon's real processes (web, worker, scheduler) on a real Redis and database,
with the fault injected from outside, the way it happens in production.

``Processes`` starts ``python -m ...`` (or ``python wsgi.py``) in sessions of their own, logs each
to a file the failure message shows, and kills whatever is left at teardown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import POSTGRES_URL
from tests.realtime.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
# Drills run once, on the production database when the run has one.
DRILL_BACKEND = "postgres" if POSTGRES_URL else "sqlite"


class Processes:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, env: dict[str, str], *command: str) -> subprocess.Popen:
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "a") as log:
            proc = subprocess.Popen(
                [sys.executable, *command],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running[name] = proc
        return proc

    def web(self, name: str, env: dict[str, str]) -> str:
        """Start ``python wsgi.py`` on a free port; return its URL once it answers /health."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        self.start(name, {**env, "PORT": str(port), "PHOTON_HOST": "127.0.0.1"}, "wsgi.py")
        self.until(lambda: _answers(url), 30, f"{name} to serve")
        return url

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.running.pop(name)
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=15)

    def alive(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self.running.items()}

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-6000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def until(self, predicate: Callable[[], object], timeout: float, what: str) -> object:
        deadline = time.monotonic() + timeout
        while not (value := predicate()):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s: {what}\n{self.logs()}")
            time.sleep(0.1)
        return value

    def stop_all(self) -> None:
        for name in list(self.running):
            proc = self.running[name]
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
                except ProcessLookupError:
                    pass
        self.running.clear()


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


@pytest.fixture
def processes(tmp_path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


def error_shape(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"code", "status", "message", "errors"}, body
    return body
