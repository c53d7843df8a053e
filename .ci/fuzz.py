"""Fuzz the real app with schemathesis: ``python .ci/fuzz.py`` (``.ci/run`` calls it).

Starts ``python wsgi.py`` (eventlet, the production entry point) on a fresh PostgreSQL database
with the replay source (offline), makes the fuzzer's account with a few symbols and decisions
to point at, and runs every operation of ``/api/openapi.json`` through all schemathesis phases
(examples, coverage, fuzzing, stateful) with all its checks. Fails on any response of 500 or
above and on any response that does not match the spec.

Environment: PHOTON_TEST_POSTGRES_URL (a PostgreSQL server), REDIS_URL (a Redis server; the
fuzz uses its database 13), PHOTON_FUZZ_MAX_TIME (seconds for schemathesis, default 300).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database(server: str) -> tuple[str, callable]:
    name = f"photon_fuzz_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        server.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return urlunsplit(urlsplit(server)._replace(path=f"/{name}")), drop


def seed(base: str) -> None:
    """The fuzzer's account, watching symbols the replay knows, with decisions and an order."""
    account = {"username": "fuzzer", "email": "fuzzer@example.com", "password": PASSWORD}
    assert requests.post(f"{base}/api/auth/register/", json=account, timeout=30).status_code == 201
    token = requests.post(
        f"{base}/api/auth/login/", json={"username": "fuzzer", "password": PASSWORD}, timeout=30
    ).json()["access"]
    headers = {"Authorization": f"Bearer {token}"}
    for symbol in ("BTC", "AAPL"):
        added = requests.post(
            f"{base}/api/trading/symbols/", json={"symbol": symbol}, headers=headers, timeout=60
        )
        assert added.status_code == 201, added.text
        decided = requests.post(
            f"{base}/api/trading/decisions/",
            json={"symbol_id": added.json()["id"]},
            headers=headers,
            timeout=120,
        )
        assert decided.status_code == 201, decided.text


def main() -> int:
    pg = os.environ["PHOTON_TEST_POSTGRES_URL"]
    redis_url = urlunsplit(
        urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))._replace(path="/13")
    )
    url, drop = database(pg)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PHOTON_ENV": "test",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "PHOTON_DATA_SOURCE": "replay",
        "PHOTON_LOG_LEVEL": "WARNING",
        "JWT_SECRET_KEY": uuid.uuid4().hex * 2,
        # The fuzzer logs in for every logout it sends; the limits themselves are tested in
        # tests/api/test_hardening.py.
        "PHOTON_LOGIN_RATE_LIMIT": "100000/minute",
        "PHOTON_LOGIN_FAILURE_LIMIT": "100000/minute",
        "PHOTON_REGISTER_RATE_LIMIT": "100000/minute",
        "PHOTON_FUZZ_URL": base,
    }
    log = tempfile.NamedTemporaryFile("w+", prefix="photon-fuzz-", suffix=".log", delete=False)
    try:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "photon.app:create_app", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        web = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/health", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or web.poll() is not None:
                    log.seek(0)
                    print(log.read())
                    return 1
                time.sleep(0.2)
            seed(base)
            fuzz = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "schemathesis.cli",
                    "--config-file",
                    str(ROOT / ".ci" / "schemathesis.toml"),
                    "--no-color",
                    "run",
                    f"{base}/api/openapi.json",
                    "--phases",
                    "examples,coverage,fuzzing,stateful",
                    "--checks",
                    "all",
                    # One worker: the coverage phase's generator is not safe to share between
                    # threads (it failed internally with two).
                    "--workers",
                    "1",
                    "--max-time",
                    os.environ.get("PHOTON_FUZZ_MAX_TIME", "300"),
                    "--request-timeout",
                    "30",
                    "--suppress-health-check",
                    "too_slow,filter_too_much",
                ],
                cwd=ROOT,
                env={**env, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(ROOT / ".ci")},
            )
            return fuzz.returncode
        finally:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=10)
            log.seek(0)
            server_log = log.read()
            tracebacks = server_log.count("Traceback")
            print(f"fuzz: web process log {log.name}: {tracebacks} tracebacks")
    finally:
        drop()


if __name__ == "__main__":
    raise SystemExit(main())
