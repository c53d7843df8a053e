"""``python -m workers.scheduler``: register the schedule idempotently, then run rq-scheduler.

A lost Redis (restarting, unreachable) does not end the process: it waits, with backoff, and
carries on under a new scheduler name (the old one may still look alive in Redis), registering
the schedule again if Redis came back empty.
"""

from __future__ import annotations

import logging
import time

import redis

from photon import log
from photon.config import Settings
from photon.tasks import context
from photon.tasks.schedule import PeriodicScheduler, periodic_jobs

MAX_BACKOFF = 10.0


def main() -> int:
    settings = Settings.from_env()
    log.setup(settings.log_level)
    logger = logging.getLogger(__name__)
    backoff = 0.5
    while True:
        started = time.monotonic()
        scheduler = PeriodicScheduler(
            periodic_jobs(settings), connection=context.redis_connection(), interval=1
        )
        try:
            scheduler.run()
            return 0
        except redis.RedisError as exc:
            if time.monotonic() - started > 60:
                backoff = 0.5  # it ran fine for a while: this is a new outage
            logger.warning("scheduler: Redis unavailable (%s); retrying in %.1fs", exc, backoff)
            time.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)


if __name__ == "__main__":
    raise SystemExit(main())
