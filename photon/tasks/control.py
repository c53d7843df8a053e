"""Starting, stopping and configuring a user's agents: what the agents API does, in one place.

Each change is committed, then announced to the user's clients as an ``agent_status`` in the
same shape the API answers with.
"""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app

from photon.agents.execution import agent as execution
from photon.agents.execution.settings import PaperSettings
from photon.errors import ServiceUnavailable
from photon.extensions import db, get_redis
from photon.realtime import announce
from photon.store import agent_status, watchlist
from photon.tasks.enqueue import enqueue
from photon.tasks.queues import DECISIONS, MONITOR
from photon.tasks.stream import signals
from photon.types import Agent


def paper_settings() -> PaperSettings:
    return PaperSettings.from_config(current_app.config["PHOTON"])


def status(user_id: int, agent: str) -> dict[str, Any]:
    """The agent's status for the user (with the paper portfolio for execution). Reads only."""
    return announce.status_fields(db.session, user_id, agent, paper_settings())


def _changed(user_id: int, agent: str) -> dict[str, Any]:
    db.session.commit()
    fields = status(user_id, agent)
    announce.status(fields, user_id)
    return fields


def _queue(queue: str, func: str, *args: int) -> str:
    try:
        return enqueue(get_redis(), queue, func, *args).id
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"The job queue is unavailable: {exc}") from exc


def set_monitor(user_id: int, action: str) -> dict[str, Any]:
    """Start (and run one cycle at once, so quotes appear) or stop the market monitor; the
    stream process follows the change."""
    agent_status.set_running(db.session, user_id, Agent.MARKET_MONITOR, action == "start")
    fields = _changed(user_id, Agent.MARKET_MONITOR)
    signals.watch_changed()
    job_id = None
    if action == "start":
        job_id = _queue(MONITOR, "photon.tasks.monitor.start_market_monitoring", user_id)
    return {**fields, "job_id": job_id}


def set_decision_maker(user_id: int, action: str) -> dict[str, Any]:
    """Turn auto-decide on fresh bars on or off."""
    agent_status.set_running(db.session, user_id, Agent.DECISION_MAKER, action == "start")
    return {**_changed(user_id, Agent.DECISION_MAKER), "job_id": None}


def queue_analysis(user_id: int, symbol_id: int) -> dict[str, Any]:
    """Queue one decision for a watched symbol; its result arrives as a ``decision`` event."""
    watchlist.get(db.session, user_id, symbol_id)
    job_id = _queue(DECISIONS, "photon.tasks.decisions.decide_symbol", user_id, symbol_id)
    return {**status(user_id, Agent.DECISION_MAKER), "job_id": job_id}


def set_execution(
    user_id: int,
    action: str,
    starting_cash: float | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start or stop paper execution, reset the paper portfolio, or store overrides."""
    if action in ("start", "stop"):
        agent_status.set_running(db.session, user_id, Agent.EXECUTION, action == "start")
    elif action == "reset":
        execution.reset(db.session, user_id, starting_cash, paper_settings())
    else:
        execution.configure(db.session, user_id, settings or {}, paper_settings())
    return _changed(user_id, Agent.EXECUTION)
