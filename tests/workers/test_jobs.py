"""Agents' control endpoints, the periodic schedule, RQ job lifetimes, and real worker processes
(SIGTERM, kill -9 mid-job) on the replay source."""

from __future__ import annotations

import dataclasses
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
from rq import Queue, SimpleWorker, Worker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq_scheduler import Scheduler
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from photon.config import Settings
from photon.extensions import db
from photon.models import AgentStatus, MarketData
from photon.tasks.queues import MONITOR, QUEUES
from photon.tasks.schedule import JOB_PREFIX, periodic_jobs, register

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


def user_id(client, headers) -> int:
    return client.get("/api/auth/me/", headers=headers).json["id"]


# --- the agents' control endpoints ------------------------------------------------------------

def test_market_monitor_start_stop_and_status(client, auth, app, redis_client):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    status = client.get(MONITOR_URL, headers=headers)
    assert status.status_code == 200
    assert status.json["state"] == "stopped" and status.json["agent"] == "market-monitor"
    assert status.json["cycles"] == 0 and status.json["job_id"] is None
    assert status.json["symbols_watched"] == 1

    started = client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    assert started.status_code == 200, started.json
    assert started.json["state"] == "running" and started.json["job_id"]
    job = Job.fetch(started.json["job_id"], connection=redis_client)
    assert job.func_name == "photon.tasks.monitor.start_market_monitoring"
    assert job.args == (user_id(client, headers),) and job.origin == MONITOR
    assert job.get_status() == JobStatus.QUEUED

    again = client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    assert again.status_code == 200 and again.json["state"] == "running"
    with app.app_context():
        rows = db.session.scalars(select(AgentStatus).where(
            AgentStatus.agent == "market-monitor")).all()
        assert [(r.state, r.user_id) for r in rows] == [("running", user_id(client, headers))]

    stopped = client.post(MONITOR_URL, json={"action": "stop"}, headers=headers)
    assert stopped.status_code == 200 and stopped.json["state"] == "stopped"
    assert stopped.json["job_id"] is None
    assert client.get(MONITOR_URL, headers=headers).json["state"] == "stopped"
    assert client.post(MONITOR_URL, json={"action": "stop"}, headers=headers).status_code == 200

    for body in ({"action": "dance"}, {}, {"action": None}):
        bad = client.post(MONITOR_URL, json=body, headers=headers)
        assert bad.status_code == 422, body
        assert set(bad.json) == ERROR_KEYS and bad.json["code"] == 422
    anonymous = client.get(MONITOR_URL)
    assert anonymous.status_code == 401 and set(anonymous.json) == ERROR_KEYS


def test_a_started_monitor_runs_its_first_cycle_at_once(client, auth, run_jobs, redis_client):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    run_jobs()
    status = client.get(MONITOR_URL, headers=headers).json
    assert status["state"] == "running" and status["cycles"] == 1
    assert status["last_run_at"] and status["last_success_at"] and status["last_error"] is None
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert sorted(q["symbol"] for q in latest) == ["AAPL", "BTCUSDT"]
    # A stopped monitor is left out of the periodic cycle.
    client.post(MONITOR_URL, json={"action": "stop"}, headers=headers)
    Queue(MONITOR, connection=redis_client).enqueue("photon.tasks.monitor.periodic_market_update")
    run_jobs()
    assert client.get(MONITOR_URL, headers=headers).json["cycles"] == 1


@pytest.mark.parametrize("url, agent", [
    ("/api/trading/agents/decision-maker/", "decision-maker"),
    ("/api/trading/agents/execution/", "execution"),
])
def test_other_agents_show_their_real_status_rows(client, auth, app, url, agent):
    headers = auth.headers("alice")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["agent"] == agent and body["state"] == "stopped"
    assert body["cycles"] == 0 and body["last_run_at"] is None and body["last_error"] is None
    with app.app_context():
        row = db.session.scalars(select(AgentStatus).where(AgentStatus.agent == agent)).one()
        assert row.user_id == user_id(client, headers) and row.state == "stopped"
        # The API shows the row, not a made-up default: change the row, see the change.
        row.state, row.cycles, row.last_error = "degraded", 7, "replay: hiccup"
        db.session.commit()
    body = client.get(url, headers=headers).json
    assert (body["state"], body["cycles"], body["last_error"]) == ("degraded", 7, "replay: hiccup")
    assert client.get(url).status_code == 401


# --- the periodic schedule --------------------------------------------------------------------

def _settings(**changes) -> Settings:
    return dataclasses.replace(Settings.from_env({"PHOTON_ENV": "test"}), **changes)


def _scheduled(scheduler: Scheduler) -> dict[str, Job]:
    return {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}


def test_schedule_registration_is_idempotent_across_restarts(redis_client):
    settings = _settings(monitor_interval=60)
    first = register(Scheduler(connection=redis_client), periodic_jobs(settings))
    assert len(first["added"]) == 3 and first["cancelled"] == [] and first["kept"] == []
    for _restart in range(2):
        again = register(Scheduler(connection=redis_client), periodic_jobs(settings))
        assert again == {"added": [], "cancelled": [], "kept": first["added"]}
    jobs = _scheduled(Scheduler(connection=redis_client))
    assert sorted(jobs) == sorted(first["added"])
    by_func = {job.func_name: job for job in jobs.values()}
    assert set(by_func) == {"photon.tasks.monitor.periodic_market_update", "photon.tasks.decisions.score_decisions",
                            "photon.tasks.decisions.retrain_models"}
    assert by_func["photon.tasks.monitor.periodic_market_update"].meta["interval"] == 60


def test_changing_an_interval_replaces_only_that_entry(redis_client):
    scheduler = Scheduler(connection=redis_client)
    before = register(scheduler, periodic_jobs(_settings(monitor_interval=60)))
    old = next(j for j in before["added"]
               if Job.fetch(j, connection=redis_client).func_name.endswith("market_update"))
    after = register(Scheduler(connection=redis_client),
                     periodic_jobs(_settings(monitor_interval=30)))
    assert after["cancelled"] == [old] and len(after["added"]) == 1
    assert sorted(after["kept"]) == sorted(set(before["added"]) - {old})
    jobs = _scheduled(scheduler)
    assert len(jobs) == 3 and old not in jobs
    assert jobs[after["added"][0]].meta["interval"] == 30
    # The cancelled definition leaves nothing behind in Redis either.
    assert redis_client.ttl(f"rq:job:{old}") != -1


def test_every_scheduled_job_has_a_timeout_and_finite_ttls(redis_client):
    register(Scheduler(connection=redis_client), periodic_jobs(_settings()))
    jobs = _scheduled(Scheduler(connection=redis_client))
    assert len(jobs) == 3
    for job in jobs.values():
        assert job.timeout not in (None, -1) and job.timeout > 0, job.func_name
        assert job.result_ttl not in (None, -1) and job.result_ttl > 0, job.func_name
        assert job.failure_ttl not in (None, -1) and job.failure_ttl > 0, job.func_name


# --- nothing lives forever in Redis, and repeats survive their own TTLs ---------------------------

def _job_keys(redis_client) -> dict[str, int]:
    keys = [k.decode() for k in redis_client.scan_iter("rq:job:*")]
    keys += [k.decode() for k in redis_client.scan_iter("rq:results:*")]
    return {key: redis_client.ttl(key) for key in keys}


def _burst(redis_client) -> None:
    queues = [Queue(name, connection=redis_client) for name in QUEUES]
    SimpleWorker(queues, connection=redis_client).work(burst=True)


def test_periodic_jobs_results_expire_but_outlive_the_next_run(worker_env, redis_client, app):
    scheduler = Scheduler(connection=redis_client)
    register(scheduler, periodic_jobs(_settings()))
    scheduler.enqueue_jobs()  # all three are due at once after registration
    assert sum(Queue(name, connection=redis_client).count for name in QUEUES) == 3
    _burst(redis_client)
    for job_id, job in _scheduled(scheduler).items():
        assert job.get_status() == JobStatus.FINISHED, (job.func_name, job.exc_info)
        ttl = redis_client.ttl(f"rq:job:{job_id}")
        assert ttl > 0, f"{job.func_name}'s job hash never expires"
        # rq-scheduler finds the next repeat through this hash: if it expires first, the
        # scheduler drops the entry silently and the job never runs again.
        next_run = scheduler.connection.zscore(scheduler.scheduled_jobs_key, job_id)
        assert ttl > next_run - time.time(), (
            f"{job.func_name}: result kept {ttl}s but the next run is in "
            f"{next_run - time.time():.0f}s; the schedule would lose it")
    assert all(ttl > 0 for ttl in _job_keys(redis_client).values()), _job_keys(redis_client)


def test_job_results_and_failures_expire(worker_env, redis_client, app, monkeypatch):
    from photon.tasks.enqueue import enqueue
    from tests.conftest import install_worker_app

    ok = enqueue(redis_client, MONITOR, "photon.tasks.monitor.periodic_market_update")
    _burst(redis_client)
    assert ok.get_status() == JobStatus.FINISHED
    # The database is unreachable: the job fails for real.
    monkeypatch.setenv("DATABASE_URL", "sqlite:////nonexistent-dir/photon.db")
    install_worker_app({**worker_env, "DATABASE_URL": "sqlite:////nonexistent-dir/photon.db"})
    bad = enqueue(redis_client, MONITOR, "photon.tasks.monitor.periodic_market_update")
    _burst(redis_client)
    assert bad.get_status() == JobStatus.FAILED
    assert bad.id in FailedJobRegistry(MONITOR, connection=redis_client).get_job_ids()
    keys = _job_keys(redis_client)
    assert keys.get(f"rq:job:{ok.id}", 0) > 0 and keys.get(f"rq:job:{bad.id}", 0) > 0, keys
    assert all(ttl > 0 for ttl in keys.values()), keys


# --- real worker processes --------------------------------------------------------------------

def _worker(env: dict, log_path: Path, *args: str) -> subprocess.Popen:
    log = open(log_path, "w")
    try:
        return subprocess.Popen([sys.executable, "-m", "workers.worker", *args], cwd=ROOT,
                                env={**os.environ, **env, "PHOTON_LOG_LEVEL": "INFO"},
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
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
        _until(lambda: "Listening on" in log_path.read_text(), 30, "the worker to listen",
               log_path)
        assert len(Worker.all(connection=redis_client)) == 1
        time.sleep(1.0)  # RQ installs its signal handlers just after it starts listening
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            _kill_all(proc)
    assert Worker.all(connection=redis_client) == [], "the worker left a stale registration"
    assert "Warm shut down requested" in log_path.read_text()


def test_sigterm_mid_job_lets_the_running_cycle_finish(client, auth, app, app_env, backend,
                                                      redis_client, tmp_path):
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


def test_a_worker_killed_mid_job_loses_nothing(client, auth, app, app_env, backend,
                                               redis_client, tmp_path):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    started = client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    job_id = started.json["job_id"]
    log_path = tmp_path / "worker.log"

    with _write_lock(backend, app_env["DATABASE_URL"]) as blocked:
        proc = _worker(app_env, log_path)
        try:
            _until(lambda: job_id in StartedJobRegistry(MONITOR, connection=redis_client)
                   .get_job_ids(), 30, "the job to start", log_path)
            _until(lambda: blocked(proc), 30, "the job to wait on the database", log_path)
            _kill_all(proc)  # the machine dies: worker and work horse, no cleanup at all
        finally:
            if proc.poll() is None:
                _kill_all(proc)
    with app.app_context():
        # The killed cycle wrote nothing: no quotes, no counted cycle.
        assert db.session.scalar(select(func.count()).select_from(MarketData)) == 0
        assert db.session.scalars(select(AgentStatus.cycles).where(
            AgentStatus.agent == "market-monitor")).one() == 0
        db.session.remove()

    # The next scheduled run (a fresh real worker) fills in, and a rerun of the same tick
    # updates in place.
    for _run in range(2):
        Queue(MONITOR, connection=redis_client).enqueue("photon.tasks.monitor.periodic_market_update")
        done = subprocess.run([sys.executable, "-m", "workers.worker", "--burst"], cwd=ROOT,
                              env={**os.environ, **app_env}, capture_output=True, text=True,
                              timeout=60)
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
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=5,
                                        isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")  # no other writer until we end it
            return _sleeping_horse
        self.engine = sa.create_engine(
            self.url.replace("postgresql://", "postgresql+psycopg2://"))
        self.conn = self.engine.connect()
        self.transaction = self.conn.begin()
        self.conn.execute(sa.text("LOCK TABLE market_data IN EXCLUSIVE MODE"))

        def waiting(_proc) -> bool:
            return bool(self.conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted "
                "AND relation = 'market_data'::regclass")).scalar())

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
        return (sum(horses[0].cpu_times()[:2]) == before
                and horses[0].status() == psutil.STATUS_SLEEPING)
    except psutil.NoSuchProcess:
        return False
