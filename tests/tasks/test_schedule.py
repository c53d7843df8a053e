"""The periodic schedule is data, registered idempotently; job results and failures expire,
and repeats outlive their own TTLs."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from rq_scheduler import Scheduler

from photon import metrics
from photon.config import Settings
from photon.tasks import periodic
from photon.tasks.queues import MONITOR, QUEUES
from photon.tasks.schedule import JOB_PREFIX, RUNNER, periodic_jobs, register

ROOT = Path(__file__).resolve().parents[2]
ERROR_KEYS = {"code", "status", "message", "errors"}
MONITOR_URL = "/api/trading/agents/market-monitor/"


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_DATA_SOURCE": "replay", "PHOTON_REPLAY_TICK": "60"}


def _settings(**changes) -> Settings:
    return dataclasses.replace(Settings.from_env({"PHOTON_ENV": "test"}), **changes)


def _scheduled(scheduler: Scheduler) -> dict[str, Job]:
    return {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}


def _job_keys(redis_client) -> dict[str, int]:
    keys = [k.decode() for k in redis_client.scan_iter("rq:job:*")]
    keys += [k.decode() for k in redis_client.scan_iter("rq:results:*")]
    return {key: redis_client.ttl(key) for key in keys}


def _burst(redis_client) -> None:
    queues = [Queue(name, connection=redis_client) for name in QUEUES]
    SimpleWorker(queues, connection=redis_client).work(burst=True)


def test_schedule_registration_is_idempotent_across_restarts(redis_client):
    settings = _settings(monitor_interval=60)
    first = register(Scheduler(connection=redis_client), periodic_jobs(settings))
    assert len(first["added"]) == 3 and first["cancelled"] == [] and first["kept"] == []
    for _restart in range(2):
        again = register(Scheduler(connection=redis_client), periodic_jobs(settings))
        assert again == {"added": [], "cancelled": [], "kept": first["added"]}
    jobs = _scheduled(Scheduler(connection=redis_client))
    assert sorted(jobs) == sorted(first["added"])
    by_func = {job.args[0]: job for job in jobs.values()}
    assert {job.func_name for job in jobs.values()} == {RUNNER}
    assert set(by_func) == {
        "photon.tasks.monitor.periodic_market_update",
        "photon.tasks.decisions.score_decisions",
        "photon.tasks.decisions.retrain_models",
    }
    assert by_func["photon.tasks.monitor.periodic_market_update"].meta["interval"] == 60


def test_changing_an_interval_replaces_only_that_entry(redis_client):
    scheduler = Scheduler(connection=redis_client)
    before = register(scheduler, periodic_jobs(_settings(monitor_interval=60)))
    old = next(
        j
        for j in before["added"]
        if Job.fetch(j, connection=redis_client).args[0].endswith("market_update")
    )
    after = register(
        Scheduler(connection=redis_client), periodic_jobs(_settings(monitor_interval=30))
    )
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
            f"{next_run - time.time():.0f}s; the schedule would lose it"
        )
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


def test_a_run_queued_twice_in_one_interval_runs_once(worker_env, redis_client, app):
    """Two schedulers, or one killed between queueing a run and moving the next, queue the same
    interval twice: the first run claims the interval and the second is skipped, counted."""
    monitor = next(j for j in periodic_jobs(_settings(monitor_interval=60)) if j.queue == MONITOR)
    queue = Queue(MONITOR, connection=redis_client)
    doubled = [queue.enqueue(RUNNER, monitor.func, monitor.interval) for _ in range(2)]
    _burst(redis_client)
    assert [job.return_value() for job in doubled][1] == {"skipped": True}
    assert "skipped" not in doubled[0].return_value()
    runs = periodic.runs(redis_client, monitor.func)
    assert len(runs) == 1 and runs[0]["pid"] > 0
    counts = metrics.read(redis_client, "periodic_runs")
    assert counts == {
        ("periodic_market_update", "ran"): 1.0,
        ("periodic_market_update", "skipped"): 1.0,
    }


def test_the_next_interval_runs_again(worker_env, redis_client, app):
    queue = Queue(MONITOR, connection=redis_client)
    func = "photon.tasks.monitor.periodic_market_update"
    queue.enqueue(RUNNER, func, 1)
    _burst(redis_client)
    time.sleep(periodic.CLAIM_SHARE * 1 + 0.05)
    queue.enqueue(RUNNER, func, 1)
    _burst(redis_client)
    assert len(periodic.runs(redis_client, func)) == 2
