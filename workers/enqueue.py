"""Enqueueing from the web process: every job gets a timeout and finite result/failure TTLs."""

from __future__ import annotations

from rq import Queue
from rq.job import Job

from workers.queues import DEFAULT_TIMEOUT, FAILURE_TTL, RESULT_TTL


def enqueue(connection, queue: str, func: str, *args, job_id: str | None = None,
            timeout: int = DEFAULT_TIMEOUT) -> Job:
    """Enqueue ``func`` (a dotted path, so the web process never imports job code) with ids."""
    return Queue(queue, connection=connection).enqueue(
        func, *args, job_id=job_id, job_timeout=timeout, result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
    )
