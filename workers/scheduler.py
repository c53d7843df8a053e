"""``python -m workers.scheduler``: register the schedule idempotently, then run rq-scheduler."""

from __future__ import annotations

from rq_scheduler import Scheduler

from photon import log
from photon.config import Settings
from photon.tasks import context
from photon.tasks.schedule import periodic_jobs, register


def main() -> int:
    settings = Settings.from_env()
    log.setup(settings.log_level)
    scheduler = Scheduler(connection=context.redis_connection(), interval=1)
    register(scheduler, periodic_jobs(settings))
    scheduler.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
