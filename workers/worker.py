"""``python -m workers.worker``: an RQ worker on Photon's queues.

HerokuWorker turns SIGTERM into a clean stop: a running job gets a few seconds, then fails with
``ShutDownImminentException`` and the process exits without leaving a stale registration. One-off
jobs are enqueued with one retry (``photon.tasks.enqueue``), so such a job runs again on the next
worker; periodic jobs simply run at their next tick. Every job is idempotent.

A lost Redis (restarting, unreachable) does not end the process: it waits, with backoff, and
listens again as a new worker (the old registration expires in Redis on its own); RQ gives the
job that was running then to the failed registry when its heartbeat runs out.
"""

from __future__ import annotations

import logging
import signal
import sys
import time

import redis
from rq import Queue
from rq.job import Job
from rq.worker import HerokuWorker

# The job modules, imported here once: RQ forks a process per job, and without this each of
# them imported pandas, LightGBM, TA-Lib and yfinance and built the app again (about 1.3 s of
# every paper fill, measured in ``make run``).
import photon.tasks.decisions
import photon.tasks.execution
import photon.tasks.monitor  # noqa: F401
from photon import log
from photon.app import create_app
from photon.config import Settings
from photon.tasks import context
from photon.tasks.queues import QUEUES

MAX_BACKOFF = 10.0
# A worker killed outright (``kill -9``, a lost machine) leaves its job in RQ's started registry
# until the job's heartbeat runs out, and the next cleaning of the registries by any live worker
# retries it. RQ's defaults (30 s heartbeats plus 60 s, cleaned every 10 min) left a queued
# analysis waiting up to 11 minutes; these bring it to about half a minute.
HEARTBEAT_EVERY = 5
HEARTBEAT_GRACE = 10
CLEAN_EVERY = 15


class PhotonWorker(HerokuWorker):
    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        remaining = job.timeout - working_time if job.timeout and job.timeout > 0 else None
        every = self.job_monitoring_interval
        return int(every if remaining is None else min(remaining, every)) + HEARTBEAT_GRACE


def _preload_providers(settings: Settings) -> None:
    """Import the vendor modules the providers build on, once, before the forks: the registry
    imports them lazily, so every forked job imported yfinance again (a sixth of a decision
    job's CPU in ``bench/scale_out.py``)."""
    if settings.data_source == "replay":
        import photon.market.replay.provider
    else:
        import photon.market.bybit
        import photon.market.yahoo.provider  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    log.setup(Settings.from_env().log_level)
    argv = sys.argv[1:] if argv is None else argv
    burst = "--burst" in argv
    # Built once before the forks; ``create_app`` opens no connection, so nothing that cannot
    # cross a fork is created.
    context.install(create_app())
    _preload_providers(Settings.from_env())
    logger = logging.getLogger(__name__)
    backoff = 0.5
    while True:
        started = time.monotonic()
        try:
            connection = context.redis_connection()
            queues = [Queue(name, connection=connection) for name in QUEUES]
            worker = PhotonWorker(
                queues,
                connection=connection,
                job_monitoring_interval=HEARTBEAT_EVERY,
                maintenance_interval=CLEAN_EVERY,
            )
            logger.info("worker: listening on %s", ", ".join(QUEUES))
            worker.work(burst=burst, with_scheduler=False)
            return 0
        except redis.RedisError as exc:
            if time.monotonic() - started > 60:
                backoff = 0.5  # it worked for a while: this is a new outage
            logger.warning("worker: Redis unavailable (%s); retrying in %.1fs", exc, backoff)
            # Nothing runs while waiting: SIGTERM may simply end the process.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            time.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)


if __name__ == "__main__":
    raise SystemExit(main())
