"""One log format for every process (web, worker, scheduler, stream, CLI): JSON lines.

Each line carries the request id (``X-Request-ID``) of the request it was written in, or the id
of the RQ job. Whatever a line says, anything shaped like a token, a password field or a
secret is masked before it is written: a log file is read by more people than a database.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

from flask import g, has_request_context
from rq import get_current_job

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
REDACTED = "[redacted]"
SECRETS = (
    # JWTs: three base64url parts, the first always starting {" encoded.
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # "password": "...", password=..., and the like, in JSON, query strings and reprs.
    re.compile(
        r"""(?i)((?:password|passwd|secret|token|refresh|access|authorization)"""
        r"""['"]?\s*[:=]\s*['"]?)(?:Bearer\s+)?[^\s'",&}]+"""
    ),
)


def redact(text: str) -> str:
    text = SECRETS[0].sub(REDACTED, text)
    return SECRETS[1].sub(lambda m: m.group(1) + REDACTED, text)


def _job_id() -> str | None:
    job = get_current_job()
    return job.id if job is not None else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if has_request_context() and getattr(g, "request_id", None):
            line["request_id"] = g.request_id
        job = _job_id()
        if job:
            line["job_id"] = job
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class _NoPerJobChatter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg not in RQ_PER_JOB


def setup(level: str = "INFO") -> None:
    """JSON lines on stderr, at ``level``; idempotent, since every app factory calls it."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        for old in list(root.handlers):
            root.removeHandler(old)
        root.addHandler(handler)
    root.setLevel(level.upper())
    if root.level > logging.DEBUG:
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
        rq_log = logging.getLogger("rq.worker")
        if not any(isinstance(f, _NoPerJobChatter) for f in rq_log.filters):
            rq_log.addFilter(_NoPerJobChatter())


class OnlyWork(logging.Filter):
    """Alembic's migration logger says which backend it uses before every command; keep only
    the lines that report a migration actually running."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage().startswith("Running ")
