"""The Decision-Making agent's jobs: decide, train, and score."""

from __future__ import annotations

import logging

from rq import get_current_job

from photon.agents.decision import agent as decider
from photon.agents.execution.settings import PaperSettings
from photon.errors import PhotonError
from photon.extensions import db, get_redis
from photon.models import Symbol, TradingDecision
from photon.providers import get_providers
from photon.realtime import announce
from photon.store import agent_status, decisions, watchlist
from photon.tasks import context
from photon.tasks.enqueue import ATTEMPT_KEY, queue_paper_execution, queue_training
from photon.types import Agent

log = logging.getLogger(__name__)


def decide_symbol(user_id: int, symbol_id: int) -> dict:
    """One analysis a user asked for; the result arrives as a ``decision`` event."""
    job = get_current_job()
    # A retried (or doubled) job has the same id: its decision is stored once, announced once.
    request_id = f"job:{job.id}" if job is not None else None
    with context.app().app_context():
        try:
            done = decisions.by_request(db.session, request_id) if request_id else None
            if done is not None:
                # Stored and announced by the earlier run; make sure its order is queued.
                queue_paper_execution(db.session, get_redis(), user_id, [done])
                return {"decision_id": done.id, "action": done.action, "rerun": True}
            try:
                decision = decider.decide_now(
                    db.session, get_providers(), user_id, symbol_id, request_id=request_id
                )
            except PhotonError as exc:
                db.session.rollback()
                _record(user_id, exc.message)
                return {"error": exc.message}
            if decision is None:
                return {"decision_id": None, "rerun": True}
            made = [decision]
            hand_on(user_id, made, context.redis_url())
            _record(user_id, None, decided=1)
            return {"decision_id": made[0].id, "action": made[0].action}
        finally:
            db.session.remove()


def decide_fresh_bars(user_id: int) -> dict:
    """Decide on fresh bars for a user whose decision maker runs (after each market update)."""
    with context.app().app_context():
        try:
            made, problems = decider.decide_fresh(db.session, get_providers(), user_id)
            hand_on(user_id, made, context.redis_url())
            _record(user_id, "; ".join(problems) or None, decided=len(made))
            return {"decisions": [d.id for d in made], "problems": problems}
        finally:
            db.session.remove()


def hand_on(user_id: int, made: list[TradingDecision], redis_url: str | None = None) -> None:
    """After decisions are stored: tell the user's clients, hand BUY/SELL to paper execution if
    it runs, and queue training for symbols whose model is due. Inside an app context; the web
    process passes no ``redis_url`` and emits itself."""
    announce.decisions(made, redis_url)
    queue_paper_execution(db.session, get_redis(), user_id, made)
    queue_training(
        db.session, get_redis(), get_providers(), {d.symbol_id: d.symbol for d in made}.values()
    )


def retrain_models() -> dict:
    """Queue training for every watched symbol whose model is due (counted in bars), so one
    that nobody decides on still gets its model."""
    with context.app().app_context():
        try:
            symbols = watchlist.watched_by_anyone(db.session)
            return {"queued": queue_training(db.session, get_redis(), get_providers(), symbols)}
        finally:
            db.session.remove()


def train_symbol(symbol_id: int) -> dict:
    """Train (walk-forward: past bars only) and store a model for one symbol."""
    with context.app().app_context():
        try:
            symbol = db.session.get(Symbol, symbol_id)
            if symbol is None:
                return {"symbol_id": symbol_id, "version": None}
            now = get_providers().market_now(symbol.source, symbol.ticker)
            row = decider.retrain(db.session, get_providers(), symbol, now)
            newest = decider.newest_complete_bar(db.session, symbol, now)
            if row is None and newest is not None:
                # Too little history: try again only once more bars have come in.
                get_redis().set(ATTEMPT_KEY.format(symbol_id), newest.isoformat(), ex=30 * 86400)
            result = {"symbol": symbol.ticker, "version": row.version if row else None}
        finally:
            db.session.remove()
    log.info("training: %s", result)
    return result


def score_decisions() -> dict:
    """Score decisions whose horizon has passed, for the realised hit rate."""
    with context.app().app_context():
        try:
            return {"scored": decider.score_due(db.session)}
        finally:
            db.session.remove()


def _record(user_id: int, error: str | None, **counts: int) -> None:
    """Count a run on the user's decision-maker status and tell the user's clients."""
    # Locked until the commit: two workers deciding for one user count both runs.
    status = agent_status.get(db.session, user_id, Agent.DECISION_MAKER, lock=True)
    totals = {k: (status.counters or {}).get(k, 0) + v for k, v in counts.items()}
    agent_status.record_run(status, error, counters=totals)
    written = agent_status.snapshot(status)
    db.session.commit()
    paper = PaperSettings.from_config(context.app().config["PHOTON"])
    announce.agent(
        db.session, user_id, Agent.DECISION_MAKER, paper, context.redis_url(), snapshot=written
    )
