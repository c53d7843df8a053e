"""AgentStatus rows: one per (user, agent), what that agent is doing for that user."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.models import AgentStatus
from photon.models.types import utcnow
from photon.types import ACTIVE_STATES, AgentState


def _query(user_id: int, agent: str):
    return select(AgentStatus).where(AgentStatus.user_id == user_id, AgentStatus.agent == agent)


def _locked(query: Select) -> Select:
    # Read the row as it is once locked, not as this session last saw it.
    return query.with_for_update().execution_options(populate_existing=True)


def find(session: Session, user_id: int, agent: str) -> AgentStatus:
    """The stored status, or an unsaved ``stopped`` one: reading never writes."""
    status = session.scalars(_query(user_id, agent)).first()
    if status is None:
        status = AgentStatus(
            user_id=user_id, agent=agent, state=AgentState.STOPPED, cycles=0, counters={}
        )
    return status


def get(session: Session, user_id: int, agent: str, lock: bool = False) -> AgentStatus:
    """The stored status, created (``stopped``) on first use; the caller commits.

    ``lock`` holds the row until that commit (``FOR UPDATE`` on PostgreSQL): two workers that
    count a run of the same agent at once then count two, not one."""
    query = _query(user_id, agent)
    status = session.scalars(_locked(query) if lock else query).first()
    if status is not None:
        return status
    status = AgentStatus(
        user_id=user_id, agent=agent, state=AgentState.STOPPED, cycles=0, counters={}
    )
    try:
        with session.begin_nested():
            session.add(status)
    except IntegrityError:
        # A job and a request created it at the same moment; use theirs.
        status = session.scalars(_query(user_id, agent)).one()
    return status


def running_user_ids(session: Session, agent: str) -> list[int]:
    """Users for whom ``agent`` works: running or degraded."""
    return list(
        session.scalars(
            select(AgentStatus.user_id)
            .where(AgentStatus.agent == agent, AgentStatus.state.in_(ACTIVE_STATES))
            .order_by(AgentStatus.user_id)
        )
    )


def is_running(session: Session, user_id: int, agent: str) -> bool:
    return find(session, user_id, agent).state in ACTIVE_STATES


def start(session: Session, user_id: int, agent: str) -> AgentStatus:
    status = get(session, user_id, agent)
    if status.state not in ACTIVE_STATES:
        status.state = AgentState.RUNNING
        status.last_error = None
    return status


def stop(session: Session, user_id: int, agent: str) -> AgentStatus:
    status = get(session, user_id, agent)
    status.state = AgentState.STOPPED
    return status


def set_running(session: Session, user_id: int, agent: str, running: bool) -> AgentStatus:
    return start(session, user_id, agent) if running else stop(session, user_id, agent)


def record_run(
    status: AgentStatus, error: str | None, at: datetime | None = None, counters: dict | None = None
) -> None:
    """Count a cycle. An error degrades a working agent; the next clean cycle makes it
    ``running`` again. A stopped agent stays stopped."""
    at = at or utcnow()
    status.last_run_at = at
    status.cycles = (status.cycles or 0) + 1
    if counters:
        status.counters = {**(status.counters or {}), **counters}
    working = status.state in ACTIVE_STATES
    if error:
        status.last_error = error
        if working:
            status.state = AgentState.DEGRADED
    else:
        status.last_success_at = at
        if working:
            status.state = AgentState.RUNNING


def of_users(
    session: Session, user_ids: Iterable[int], agent: str, lock: bool = False
) -> dict[int, AgentStatus]:
    """The stored statuses of ``user_ids``; ``lock`` as in ``get``, taken in user order so that
    two cycles never wait on each other."""
    ids = list(user_ids)
    if not ids:
        return {}
    query = (
        select(AgentStatus)
        .where(AgentStatus.agent == agent, AgentStatus.user_id.in_(ids))
        .order_by(AgentStatus.user_id)
    )
    rows = session.scalars(_locked(query) if lock else query)
    return {row.user_id: row for row in rows}


def snapshot(status: AgentStatus) -> AgentStatus:
    """A detached copy of ``status`` as it stands: what a run wrote, to announce after its
    commit. Reading the row again then could show another worker's later run instead, and
    both runs would announce the same one."""
    columns = AgentStatus.__table__.columns.keys()
    return AgentStatus(**{name: getattr(status, name) for name in columns})
