"""``python -m workers.worker``: an RQ worker on Photon's queues.

HerokuWorker turns SIGTERM into a clean stop: a running job gets a few seconds, then fails with
``ShutDownImminentException`` and the process exits without leaving a stale registration. One-off
jobs are enqueued with one retry (``photon.tasks.enqueue``), so such a job runs again on the next
worker; periodic jobs simply run at their next tick. Every job is idempotent.
"""

from __future__ import annotations

import logging
import sys

from rq import Queue
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


def main(argv: list[str] | None = None) -> int:
    log.setup(Settings.from_env().log_level)
    argv = sys.argv[1:] if argv is None else argv
    burst = "--burst" in argv
    # Built once before the forks; ``create_app`` opens no connection, so nothing that cannot
    # cross a fork is created.
    context.install(create_app())
    connection = context.redis_connection()
    queues = [Queue(name, connection=connection) for name in QUEUES]
    worker = HerokuWorker(queues, connection=connection)
    logging.getLogger(__name__).info("worker: listening on %s", ", ".join(QUEUES))
    worker.work(burst=burst, with_scheduler=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
