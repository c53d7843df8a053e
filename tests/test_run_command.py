"""`make run`'s launcher starts the real system (embedded Redis, migrations, web, worker and
scheduler through honcho), and Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, timeout: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.slow
def test_run_command_starts_everything_and_ctrl_c_stops_it(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(PORT=str(port), DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}",
               PHOTON_LOG_LEVEL="INFO", PHOTON_ENV="development")
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "photon.devserver"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        health = _wait(f"http://127.0.0.1:{port}/health")
        assert health.status_code == 200, health.text
        assert health.json()["redis"] == "ok"
        registered = requests.post(f"http://127.0.0.1:{port}/api/auth/register/", json={
            "username": "newcomer", "email": "new@example.com", "password": "correct-horse-9",
        }, timeout=10)
        assert registered.status_code == 201
        deadline = time.monotonic() + 30
        while True:
            log.seek(0)
            text = log.read()
            if "Listening on monitor" in text and "Registering birth" in text:
                break
            assert time.monotonic() < deadline, text
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    log.seek(0)
    text = log.read()
    # Nothing of the group survives: no web, worker, scheduler or embedded Redis.
    time.sleep(0.5)
    try:
        os.killpg(proc.pid, 0)
        survivors = True
    except ProcessLookupError:
        survivors = False
    assert not survivors, text
    assert "embedded Redis" in text
