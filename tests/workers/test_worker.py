"""Real worker processes: SIGTERM stops them cleanly, and a kill -9 mid-job loses nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa
from rq import Queue, Worker
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from photon.extensions import db
from photon.models import AgentStatus, MarketData
from photon.tasks.queues import MONITOR

# These tests start real worker processes.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ERROR_KEYS = {"code", "status", "message", "errors"}
MONITOR_URL = "/api/trading/agents/market-monitor/"


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_DATA_SOURCE": "replay", "PHOTON_REPLAY_TICK": "60"}


def add(client, headers, symbol: str) -> int:
    response = client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


# --- the agents' control endpoints ------------------------------------------------------------


# --- the periodic schedule --------------------------------------------------------------------

# --- nothing lives forever in Redis, and repeats survive their own TTLs ---------------------------


def _worker(env: dict, log_path: Path, *args: str) -> subprocess.Popen:
    log = open(log_path, "w")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.worker", *args],
            cwd=ROOT,
            env={**os.environ, **env, "PHOTON_LOG_LEVEL": "INFO"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def _kill_all(proc: subprocess.Popen) -> None:
    """kill -9 the worker and everything under it (RQ's work horse has a group of its own)."""
    try:
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    for process in family:
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=10)


def _until(predicate, timeout: float, what: str, log_path: Path | None = None):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            log = log_path.read_text() if log_path else ""
            raise AssertionError(f"timed out waiting for {what}\n{log}")
        time.sleep(0.05)
    return value


def test_sigterm_stops_an_idle_worker_cleanly(app_env, redis_client, tmp_path):
    log_path = tmp_path / "worker.log"
    proc = _worker(app_env, log_path)
    try:
        _until(lambda: "Listening on" in log_path.read_text(), 30, "the worker to listen", log_path)
        assert len(Worker.all(connection=redis_client)) == 1
        time.sleep(1.0)  # RQ installs its signal handlers just after it starts listening
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            _kill_all(proc)
    assert Worker.all(connection=redis_client) == [], "the worker left a stale registration"
    assert "Warm shut down requested" in log_path.read_text()


def test_sigterm_mid_job_lets_the_running_cycle_finish(
    client, auth, app, app_env, backend, redis_client, tmp_path
):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    job_id = client.post(MONITOR_URL, json={"action": "start"}, headers=headers).json["job_id"]
    log_path = tmp_path / "worker.log"
    with _write_lock(backend, app_env["DATABASE_URL"]) as blocked:
        proc = _worker(app_env, log_path)
        try:
            _until(lambda: blocked(proc), 30, "the job to wait on the database", log_path)
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            assert proc.poll() is None, "the worker must not die under a running job"
        except BaseException:
            _kill_all(proc)
            raise
    # The lock is gone: the cycle completes within HerokuWorker's grace, then the worker exits.
    try:
        assert proc.wait(timeout=8) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            _kill_all(proc)
    assert Job.fetch(job_id, connection=redis_client).get_status() == JobStatus.FINISHED
    assert client.get(MONITOR_URL, headers=headers).json["cycles"] == 1
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert [q["symbol"] for q in latest] == ["BTCUSDT"]
    assert Worker.all(connection=redis_client) == []


def test_a_worker_killed_mid_job_loses_nothing(
    client, auth, app, app_env, backend, redis_client, tmp_path
):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    started = client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    job_id = started.json["job_id"]
    log_path = tmp_path / "worker.log"

    with _write_lock(backend, app_env["DATABASE_URL"]) as blocked:
        proc = _worker(app_env, log_path)
        try:
            _until(
                lambda: (
                    job_id in StartedJobRegistry(MONITOR, connection=redis_client).get_job_ids()
                ),
                30,
                "the job to start",
                log_path,
            )
            _until(lambda: blocked(proc), 30, "the job to wait on the database", log_path)
            _kill_all(proc)  # the machine dies: worker and work horse, no cleanup at all
        finally:
            if proc.poll() is None:
                _kill_all(proc)
    with app.app_context():
        # The killed cycle wrote nothing: no quotes, no counted cycle.
        assert db.session.scalar(select(func.count()).select_from(MarketData)) == 0
        assert (
            db.session.scalars(
                select(AgentStatus.cycles).where(AgentStatus.agent == "market-monitor")
            ).one()
            == 0
        )
        db.session.remove()

    # The next scheduled run (a fresh real worker) fills in, and a rerun of the same tick
    # updates in place.
    for _run in range(2):
        Queue(MONITOR, connection=redis_client).enqueue(
            "photon.tasks.monitor.periodic_market_update"
        )
        done = subprocess.run(
            [sys.executable, "-m", "workers.worker", "--burst"],
            cwd=ROOT,
            env={**os.environ, **app_env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert sorted(q["symbol"] for q in latest) == ["AAPL", "BTCUSDT"]
    assert all(q["source"] == "replay" for q in latest)
    status = client.get(MONITOR_URL, headers=headers).json
    assert status["state"] == "running" and status["cycles"] == 2
    with app.app_context():
        rows = db.session.execute(select(MarketData.symbol_id, MarketData.ts)).all()
        assert len(rows) == len(set(rows)) >= 2
        # The unique constraint is what makes reruns safe: a duplicate is refused outright.
        symbol_id, ts = rows[0]
        with pytest.raises(IntegrityError):
            db.session.add(MarketData(symbol_id=symbol_id, ts=ts, price=1.0, source="replay"))
            db.session.flush()
        db.session.rollback()


class _write_lock:
    """Hold the database's write lock; ``blocked(proc)`` tells when the worker waits on it."""

    def __init__(self, backend: str, url: str):
        self.backend, self.url = backend, url

    def __enter__(self):
        if self.backend == "sqlite":
            self.conn = sqlite3.connect(
                self.url.removeprefix("sqlite:///"), timeout=5, isolation_level=None
            )
            self.conn.execute("BEGIN IMMEDIATE")  # no other writer until we end it
            return _sleeping_horse
        self.engine = sa.create_engine(self.url.replace("postgresql://", "postgresql+psycopg2://"))
        self.conn = self.engine.connect()
        self.transaction = self.conn.begin()
        self.conn.execute(sa.text("LOCK TABLE market_data IN EXCLUSIVE MODE"))

        def waiting(_proc) -> bool:
            return bool(
                self.conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted "
                        "AND relation = 'market_data'::regclass"
                    )
                ).scalar()
            )

        return waiting

    def __exit__(self, *_exc):
        if self.backend == "sqlite":
            self.conn.execute("ROLLBACK")
            self.conn.close()
        else:
            self.transaction.rollback()
            self.conn.close()
            self.engine.dispose()


def _sleeping_horse(proc: subprocess.Popen) -> bool:
    """SQLite shows no lock waiters: the work horse is blocked once it sleeps and burns no CPU."""
    try:
        horses = psutil.Process(proc.pid).children()
        if not horses:
            return False
        before = sum(horses[0].cpu_times()[:2])
        time.sleep(0.5)
        return (
            sum(horses[0].cpu_times()[:2]) == before
            and horses[0].status() == psutil.STATUS_SLEEPING
        )
    except psutil.NoSuchProcess:
        return False
