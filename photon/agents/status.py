"""AgentStatus rows: one per (user, agent), what that agent is doing for that user."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.models import AgentStatus
from photon.models.agent import DEGRADED, RUNNING, STOPPED
from photon.models.types import utcnow


def get(session: Session, user_id: int, agent: str) -> AgentStatus:
    status = session.scalars(
        select(AgentStatus).where(AgentStatus.user_id == user_id, AgentStatus.agent == agent)
    ).first()
    if status is not None:
        return status
    status = AgentStatus(user_id=user_id, agent=agent, state=STOPPED, cycles=0, counters={})
    try:
        with session.begin_nested():
            session.add(status)
    except IntegrityError:
        # A job and a request created it at the same moment; use theirs.
        status = session.scalars(
            select(AgentStatus).where(AgentStatus.user_id == user_id, AgentStatus.agent == agent)
        ).one()
    return status


def running_user_ids(session: Session, agent: str) -> list[int]:
    return list(
        session.scalars(
            select(AgentStatus.user_id)
            .where(AgentStatus.agent == agent, AgentStatus.state.in_((RUNNING, DEGRADED)))
            .order_by(AgentStatus.user_id)
        )
    )


def start(session: Session, user_id: int, agent: str) -> AgentStatus:
    status = get(session, user_id, agent)
    if status.state not in (RUNNING, DEGRADED):
        status.state = RUNNING
        status.last_error = None
    return status


def stop(session: Session, user_id: int, agent: str) -> AgentStatus:
    status = get(session, user_id, agent)
    status.state = STOPPED
    return status


def record_run(
    status: AgentStatus, error: str | None, at: datetime | None = None, counters: dict | None = None
) -> None:
    """Count a cycle. An error degrades a running agent; the next clean cycle restores it."""
    at = at or utcnow()
    status.last_run_at = at
    status.cycles = (status.cycles or 0) + 1
    if counters:
        status.counters = {**(status.counters or {}), **counters}
    if error:
        status.last_error = error
        if status.state in (RUNNING, DEGRADED):
            status.state = DEGRADED
    else:
        status.last_success_at = at
        if status.state == DEGRADED:
            status.state = RUNNING


def payload(status: AgentStatus, extra: dict | None = None) -> dict:
    return {
        "agent": status.agent,
        "state": status.state,
        "last_run_at": status.last_run_at.isoformat() if status.last_run_at else None,
        "last_success_at": status.last_success_at.isoformat() if status.last_success_at else None,
        "last_error": status.last_error,
        "cycles": status.cycles or 0,
        **(extra or {}),
    }


def of_users(session: Session, user_ids: Iterable[int], agent: str) -> dict[int, AgentStatus]:
    ids = list(user_ids)
    if not ids:
        return {}
    rows = session.scalars(
        select(AgentStatus).where(AgentStatus.agent == agent, AgentStatus.user_id.in_(ids))
    )
    return {row.user_id: row for row in rows}
