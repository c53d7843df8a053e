"""The periodic jobs, as data, and their idempotent registration with rq-scheduler.

Each entry gets a stable job id derived from its definition, so restarting the scheduler finds
the jobs it already registered instead of adding them again; entries no longer listed (or whose
definition changed) are cancelled. Every entry runs through ``photon.tasks.periodic.run``, which
claims the interval, so a run queued twice for one interval still runs once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rq_scheduler import Scheduler

from photon.config import Settings
from photon.tasks.queues import DECISIONS, DEFAULT_TIMEOUT, FAILURE_TTL, MONITOR, RESULT_TTL

log = logging.getLogger(__name__)
JOB_PREFIX = "photon-periodic-"
RUNNER = "photon.tasks.periodic.run"


@dataclass(frozen=True)
class Periodic:
    func: str
    interval: int
    queue: str
    timeout: int = DEFAULT_TIMEOUT
    result_ttl: int = RESULT_TTL

    @property
    def job_id(self) -> str:
        definition = json.dumps(
            [RUNNER, self.func, self.interval, self.queue, self.timeout, self.result_ttl]
        ).encode()
        return JOB_PREFIX + hashlib.sha1(definition).hexdigest()[:16]


def periodic_jobs(settings: Settings) -> list[Periodic]:
    """The schedule. Intervals come from settings, so changing one re-registers that entry."""
    return [
        Periodic(
            "photon.tasks.monitor.periodic_market_update",
            settings.monitor_interval,
            MONITOR,
            timeout=max(30, settings.monitor_interval * 2),
        ),
        Periodic("photon.tasks.decisions.score_decisions", 900, DECISIONS, timeout=600),
        Periodic("photon.tasks.decisions.retrain_models", 3600, DECISIONS, timeout=600),
    ]


def register(
    scheduler: Scheduler, jobs: list[Periodic], *, quiet: bool = False
) -> dict[str, list[str]]:
    """Add the listed jobs that are missing, cancel the ones no longer listed, keep the rest."""
    wanted = {job.job_id: job for job in jobs}
    existing = {job.id: job for job in scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)}
    cancelled = [job_id for job_id in existing if job_id not in wanted]
    for job_id in cancelled:
        scheduler.cancel(existing[job_id])
        existing[job_id].delete()  # cancel() only unschedules; the hash would stay forever
    added = []
    for job_id, job in wanted.items():
        if job_id in existing:
            continue
        scheduled = scheduler.schedule(
            scheduled_time=datetime.now(UTC),
            func=RUNNER,
            args=[job.func, job.interval],
            interval=job.interval,
            repeat=None,
            queue_name=job.queue,
            timeout=job.timeout,
            result_ttl=max(job.result_ttl, 2 * job.interval),  # the next repeat reads the hash
            id=job_id,
        )
        # rq-scheduler has no failure_ttl argument; the job hash carries it to every repeat.
        scheduled.failure_ttl = max(FAILURE_TTL, 2 * job.interval)
        scheduled.save()
        added.append(job_id)
    if added or cancelled or not quiet:
        log.info(
            "schedule: %d kept, %d added, %d cancelled",
            len(wanted) - len(added),
            len(added),
            len(cancelled),
        )
    return {"added": added, "cancelled": cancelled, "kept": [j for j in wanted if j in existing]}


class PeriodicScheduler(Scheduler):
    """rq-scheduler that registers ``jobs`` again every ``recheck`` seconds: a Redis that was
    restarted (or flushed) has lost the schedule, and registering is idempotent, so checking
    often costs one read and never doubles a job."""

    def __init__(
        self, jobs: list[Periodic], *args: Any, recheck: float = 10.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._periodic = jobs
        self._recheck = recheck
        self._next_check = 0.0

    def enqueue_jobs(self) -> list:
        # Runs under rq-scheduler's lock, so two schedulers never register at the same moment.
        if time.monotonic() >= self._next_check:
            self._next_check = time.monotonic() + self._recheck
            register(self, self._periodic, quiet=True)
        return super().enqueue_jobs()
