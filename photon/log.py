"""One log format for every process (web, worker, scheduler, CLI)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Chatter at INFO that says nothing a user acts on: alembic lists its plugins on every import.
QUIET = ("alembic.runtime.plugins",)
# RQ logs four lines for every job it runs (every second in the demo); our jobs log their own
# one-line summary. Its start, stop and retry lines stay.
RQ_PER_JOB = frozenset(
    {
        "Worker %s: %s: %s (%s)",
        "Worker %s: %s: %s",
        "Worker %s: job %s result is kept for %s seconds",
        "Worker %s: cleaning registries for queue: %s",
        "Worker %s: cleaning group registries",
        "Successfully completed %s job in %ss on worker %s",
        "Successfully completed job %s in %ss on worker %s",
    }
)


class _NoPerJobChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in RQ_PER_JOB


def setup(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    if logging.getLogger().level > logging.DEBUG:
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("rq.worker").addFilter(_NoPerJobChatter())


class OnlyWork(logging.Filter):
    """Alembic's migration logger says which backend it uses before every command; keep only
    the lines that report a migration actually running."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith("Running ")
