"""`make run`'s launcher starts the real system (embedded Redis, migrations, web, worker and
scheduler through honcho) where it says, and Ctrl-C stops every process it started, Redis last;
`make demo` shows a model decision and a paper order within minutes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 8000
URL_LINE = re.compile(r"photon: web on (http://\S+?)/? ")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait(url: str, timeout: float = 60.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _read(log) -> str:
    log.seek(0)
    return log.read()


def _wait_for_text(log, pattern: str, timeout: float = 60.0) -> re.Match:
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, _read(log))
        if found:
            return found
        assert time.monotonic() < deadline, _read(log)
        time.sleep(0.3)


def _start(env: dict[str, str], log, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "photon.devserver", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _ctrl_c(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise


def _base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "PORT") and not k.startswith("PHOTON_")
    }
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}", PHOTON_ENV="development", **extra)
    return env


@pytest.mark.slow
def test_run_serves_where_it_says_and_ctrl_c_stops_everything_redis_last(tmp_path):
    if not _port_free(DEFAULT_PORT):
        pytest.skip(f"port {DEFAULT_PORT} is taken here; this test runs `make run` as is")
    log = open(tmp_path / "run.log", "w+")
    proc = _start(_base_env(tmp_path), log)
    try:
        url = _wait_for_text(log, URL_LINE.pattern).group(1)
        assert url == f"http://127.0.0.1:{DEFAULT_PORT}"
        redis_port = int(_wait_for_text(log, r"embedded Redis at redis://127.0.0.1:(\d+)").group(1))
        health = _wait(f"{url}/health")
        assert health.status_code == 200, health.text
        assert health.json()["redis"] == "ok"
        home = requests.get(url + "/", timeout=5)
        assert home.status_code == 200 and home.headers["Content-Type"].startswith("text/html")
        assert "Photon" in home.text
        registered = requests.post(
            f"{url}/api/auth/register/",
            json={
                "username": "newcomer",
                "email": "new@example.com",
                "password": "correct-horse-9",
            },
            timeout=10,
        )
        assert registered.status_code == 201
        _wait_for_text(log, "worker: listening on ", timeout=30)
        _wait_for_text(log, "schedule: ", timeout=30)
    finally:
        _ctrl_c(proc)
    text = _read(log)
    # Nothing of the group survives, and the embedded Redis (its own session) is gone too.
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)
    assert _port_free(redis_port), text
    assert "Traceback" not in text and "Warning" not in text, text
    assert "alembic.runtime.plugins" not in text and "Context impl" not in text, text


@pytest.mark.slow
def test_demo_shows_a_model_decision_and_a_paper_order_within_minutes(tmp_path):
    port = _free_port()
    log = open(tmp_path / "demo.log", "w+")
    started = time.monotonic()
    proc = _start(_base_env(tmp_path, PORT=str(port)), log, "--demo")
    try:
        url = _wait_for_text(log, URL_LINE.pattern).group(1)
        _wait(f"{url}/health")
        account = _wait_for_text(log, r"demo account '(\w+)', password '([^']+)'")
        tokens = requests.post(
            f"{url}/api/auth/login/",
            json={"username": account.group(1), "password": account.group(2)},
            timeout=10,
        ).json()
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        seen: dict[str, float] = {}
        deadline = started + 300
        while len(seen) < 3 and time.monotonic() < deadline:
            if (
                "quote" not in seen
                and requests.get(
                    f"{url}/api/trading/market-data/latest/", headers=headers, timeout=10
                ).json()
            ):
                seen["quote"] = time.monotonic() - started
            model = requests.get(
                f"{url}/api/trading/decisions/",
                headers=headers,
                timeout=10,
                params={"page_size": 500},
            ).json()
            if "model decision" not in seen and any(d["model"] == "lightgbm" for d in model):
                seen["model decision"] = time.monotonic() - started
            orders = requests.get(
                f"{url}/api/trading/orders/",
                headers=headers,
                timeout=10,
                params={"status": "filled"},
            ).json()
            if "paper order" not in seen and orders:
                seen["paper order"] = time.monotonic() - started
            time.sleep(1)
        print("demo, seconds from start:", seen)
        assert set(seen) == {"quote", "model decision", "paper order"}, (seen, _read(log))
        portfolio = requests.get(
            f"{url}/api/trading/portfolio/", headers=headers, timeout=10
        ).json()
        assert portfolio["equity"] != portfolio["starting_cash"] or portfolio["positions"]
        replayed = requests.get(
            f"{url}/api/trading/market-data/latest/", headers=headers, timeout=10
        ).json()[0]
        # Replay is honest about time: today's wall clock beside the historical moment.
        assert replayed["source"] == "replay"
        assert replayed["ts"][:4] == time.strftime("%Y", time.gmtime())
        assert replayed["source_time"][:4] in {"2006", "2007", "2020", "2021"}
    finally:
        _ctrl_c(proc)


@pytest.mark.slow
def test_demo_prices_tick_several_times_a_second_in_the_readme_snippet(tmp_path):
    port = _free_port()
    log = open(tmp_path / "demo.log", "w+")
    proc = _start(_base_env(tmp_path, PORT=str(port)), log, "--demo")
    client = None
    try:
        url = _wait_for_text(log, URL_LINE.pattern).group(1)
        _wait(f"{url}/health")
        account = _wait_for_text(log, r"demo account '(\w+)', password '([^']+)'")
        token = requests.post(
            f"{url}/api/auth/login/",
            json={"username": account.group(1), "password": account.group(2)},
            timeout=10,
        ).json()["access"]
        snippet = ROOT / "tests" / "realtime" / "readme_client.py"
        env = {**os.environ, "TOKEN": token, "PHOTON_URL": url, "PYTHONUNBUFFERED": "1"}
        out = open(tmp_path / "client.log", "w+")
        client = subprocess.Popen([sys.executable, str(snippet)], env=env, stdout=out, text=True)
        _wait_for_text(out, "'joined'", timeout=30)
        _wait_for_text(out, r"BTCUSDT \S+ \S+ replay", timeout=30)
        time.sleep(3.0)
        lines = [line.split() for line in _read(out).splitlines() if line.startswith("BTCUSDT ")]
    finally:
        if client is not None:
            client.kill()
            client.wait(timeout=5)
        _ctrl_c(proc)
    stamps = sorted(datetime.fromisoformat(fields[2]).timestamp() for fields in lines)
    span = stamps[-1] - stamps[0]
    rate = (len(stamps) - 1) / span
    print(f"demo: BTCUSDT quotes at {rate:.1f} a second in the README snippet")
    assert rate >= 3, lines
    assert len({fields[1] for fields in lines}) > 1  # the price moves, not just the clock
