"""Enqueueing from the web process: every job gets a timeout and finite result/failure TTLs."""

from __future__ import annotations

from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from workers.queues import DEFAULT_TIMEOUT, FAILURE_TTL, RESULT_TTL

PENDING = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def enqueue(connection, queue: str, func: str, *args, job_id: str | None = None,
            timeout: int = DEFAULT_TIMEOUT) -> Job:
    """Enqueue ``func`` (a dotted path, so the web process never imports job code) with ids."""
    return Queue(queue, connection=connection).enqueue(
        func, *args, job_id=job_id, job_timeout=timeout, result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        # A worker stopped by SIGTERM fails its running job; the jobs are idempotent, so one
        # immediate retry finishes it on the next worker instead of losing it.
        retry=Retry(max=1),
    )


def enqueue_once(connection, queue: str, func: str, *args, job_id: str,
                 timeout: int = DEFAULT_TIMEOUT) -> Job | None:
    """Enqueue unless a job with ``job_id`` is still waiting or running (then None)."""
    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        existing = None
    if existing is not None and existing.get_status(refresh=False) in PENDING:
        return None
    return enqueue(connection, queue, func, *args, job_id=job_id, timeout=timeout)


def queue_paper_execution(session, connection, user_id: int, decisions) -> list[str]:
    """One execution job per BUY/SELL decision, when the user's paper execution runs.

    The job id is derived from the decision, so a decision queued twice still runs once; the
    execution agent's unique order-per-decision makes a rerun harmless too.
    """
    from photon.agents import status as agent_status
    from photon.models.agent import EXECUTION
    from workers.queues import EXECUTION as EXECUTION_QUEUE

    tradeable = [d for d in decisions if d.action in ("BUY", "SELL")]
    if not tradeable or user_id not in agent_status.running_user_ids(session, EXECUTION):
        return []
    queued = []
    for decision in tradeable:
        job = enqueue_once(connection, EXECUTION_QUEUE, "workers.execution.execute_decision",
                           decision.id, job_id=f"execute-{decision.id}")
        if job is not None:
            queued.append(job.id)
    return queued
