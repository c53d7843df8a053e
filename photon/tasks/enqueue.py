"""Enqueueing: every job gets a timeout and finite result and failure TTLs, and is named by a
dotted path so that enqueueing never imports the job's code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

from photon.agents.decision import agent as decider
from photon.market.registry import Providers
from photon.models import Symbol, TradingDecision
from photon.store import agent_status
from photon.tasks.queues import DECISIONS, DEFAULT_TIMEOUT, EXECUTION, FAILURE_TTL, RESULT_TTL
from photon.types import SIDES, Agent

PENDING = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def enqueue(
    connection: redis.Redis,
    queue: str,
    func: str,
    *args: int,
    job_id: str | None = None,
    timeout: int = DEFAULT_TIMEOUT,
) -> Job:
    """Enqueue ``func`` (a dotted path) with ids as its arguments."""
    return Queue(queue, connection=connection).enqueue(
        func,
        *args,
        job_id=job_id,
        job_timeout=timeout,
        result_ttl=RESULT_TTL,
        failure_ttl=FAILURE_TTL,
        # A worker stopped by SIGTERM fails its running job; the jobs are idempotent, so one
        # immediate retry finishes it on the next worker instead of losing it.
        retry=Retry(max=1),
    )


def enqueue_once(
    connection: redis.Redis,
    queue: str,
    func: str,
    *args: int,
    job_id: str,
    timeout: int = DEFAULT_TIMEOUT,
) -> Job | None:
    """Enqueue unless a job with ``job_id`` is still waiting or running (then None)."""
    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        existing = None
    if existing is not None and existing.get_status(refresh=False) in PENDING:
        return None
    return enqueue(connection, queue, func, *args, job_id=job_id, timeout=timeout)


def queue_paper_execution(
    session: Session, connection: redis.Redis, user_id: int, made: Iterable[TradingDecision]
) -> list[str]:
    """One execution job per BUY/SELL decision, when the user's paper execution runs.

    The job id is derived from the decision, so a decision queued twice still runs once; the
    execution agent's unique order-per-decision makes a rerun harmless too.
    """
    tradeable = [d for d in made if d.action in SIDES]
    if not tradeable or not agent_status.is_running(session, user_id, Agent.EXECUTION):
        return []
    queued = []
    for decision in tradeable:
        job = enqueue_once(
            connection,
            EXECUTION,
            "photon.tasks.execution.execute_decision",
            decision.id,
            job_id=f"execute-{decision.id}",
        )
        if job is not None:
            queued.append(job.id)
    return queued


def queue_auto_decisions(session: Session, connection: redis.Redis) -> list[str]:
    """One pending auto-decide per user whose decision maker runs: a slow queue must not pile
    up copies."""
    queued = []
    for user_id in agent_status.running_user_ids(session, Agent.DECISION_MAKER):
        job = enqueue_once(
            connection,
            DECISIONS,
            "photon.tasks.decisions.decide_fresh_bars",
            user_id,
            job_id=f"auto-decide-{user_id}",
        )
        if job is not None:
            queued.append(job.id)
    return queued


ATTEMPT_KEY = "photon:train-attempt:{}"


def queue_training(
    session: Session, connection: redis.Redis, providers: Providers, symbols: Iterable[Symbol]
) -> list[str]:
    """One training job per symbol whose model is due; a symbol whose history was too short
    is tried again after ``RETRAIN_EVERY_BARS // 7`` more bars."""
    queued = []
    for symbol in symbols:
        now = providers.market_now(symbol.source, symbol.ticker)
        if not decider.training_due(session, symbol, now):
            continue
        attempted = connection.get(ATTEMPT_KEY.format(symbol.id))
        newest = decider.newest_complete_bar(session, symbol, now)
        if attempted and newest is not None:
            interval = decider.decision_interval(symbol)
            wait = decider.bars(interval, decider.RETRAIN_EVERY_BARS[interval] // 7)
            if newest < datetime.fromisoformat(attempted.decode()) + wait:
                continue
        job = enqueue_once(
            connection,
            DECISIONS,
            "photon.tasks.decisions.train_symbol",
            symbol.id,
            job_id=f"train-{symbol.id}",
            timeout=1800,
        )
        if job is not None:
            queued.append(job.id)
    return queued
