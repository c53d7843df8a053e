"""What the web process and the jobs tell clients, built once: each function gathers one
event's data with ``payloads`` and emits it to the right room.

``redis_url`` is None in the web process (its own Socket.IO server emits) and the Redis URL in a
worker, which publishes for the web process to relay.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from photon.agents.execution import books
from photon.agents.execution.settings import PaperSettings
from photon.agents.monitor import MonitorRun
from photon.models import AgentStatus, PaperOrder, Symbol, TradingDecision
from photon.realtime import payloads
from photon.realtime.events import (
    AGENT_STATUS,
    BAR,
    DECISION,
    ORDER,
    QUOTE,
    emit,
    symbol_room,
    user_room,
)
from photon.store import agent_status, watchlist
from photon.types import Agent, Bar, Quote


def status_fields(
    session: Session,
    user_id: int,
    agent: str,
    paper: PaperSettings,
    symbols_watched: int | None = None,
    last_orders: int = books.LAST_ORDERS,
    status: AgentStatus | None = None,
) -> dict[str, Any]:
    """The ``agent_status`` data of one user's agent, as REST returns it and events send it:
    with the paper portfolio for the execution agent. Reads only; ``status`` (a run's
    ``agent_status.snapshot``) instead of the stored row."""
    if status is None:
        status = agent_status.find(session, user_id, agent)
    if symbols_watched is None:
        symbols_watched = len(watchlist.watched_symbols(session, user_id))
    portfolio = None
    if agent == Agent.EXECUTION:
        portfolio = books.portfolio_summary(session, user_id, paper, last_orders=last_orders)
    return payloads.agent_status_fields(status, symbols_watched, portfolio)


def status(fields: dict[str, Any], user_id: int, redis_url: str | None = None) -> None:
    """Emit ``status_fields`` output to the user."""
    schema = (
        payloads.ExecutionStatusSchema()
        if fields["agent"] == Agent.EXECUTION
        else payloads.AgentStatusSchema()
    )
    emit(AGENT_STATUS, schema.dump(fields), user_room(user_id), redis_url=redis_url)


def agent(
    session: Session,
    user_id: int,
    agent_name: str,
    paper: PaperSettings,
    redis_url: str | None = None,
    symbols_watched: int | None = None,
    snapshot: AgentStatus | None = None,
) -> None:
    fields = status_fields(session, user_id, agent_name, paper, symbols_watched, status=snapshot)
    status(fields, user_id, redis_url)


def monitor_run(
    session: Session, run: MonitorRun, paper: PaperSettings, redis_url: str | None
) -> None:
    """A market update: every fetched quote to its symbol's room, and each user's monitor
    status."""
    for result in run.cycle.quotes:
        quote(result.symbol, result.quote, redis_url)
    for user_id, written in run.statuses.items():
        watched = len(run.symbols_by_user.get(user_id, []))
        agent(session, user_id, Agent.MARKET_MONITOR, paper, redis_url, watched, written)


def quote(symbol: Symbol, value: Quote | Any, redis_url: str | None = None) -> None:
    emit(QUOTE, payloads.quote(symbol, value), symbol_room(symbol.ticker), redis_url=redis_url)


def bar(symbol: Symbol, value: Bar | Any, closed: bool, redis_url: str | None = None) -> None:
    emit(BAR, payloads.bar(symbol, value, closed), symbol_room(symbol.ticker), redis_url=redis_url)


def decisions(made: Iterable[TradingDecision], redis_url: str | None = None) -> None:
    for row in made:
        emit(DECISION, payloads.decision(row), user_room(row.user_id), redis_url=redis_url)


def order(row: PaperOrder, redis_url: str | None = None) -> None:
    emit(ORDER, payloads.order(row), user_room(row.user_id), redis_url=redis_url)
