"""RQ jobs: thin. They take ids, build the app context inside the worker, call an agent in
``photon.agents``, and emit events."""

from __future__ import annotations

import logging

from workers.context import get_app

log = logging.getLogger(__name__)


def periodic_market_update() -> dict:
    """Every PHOTON_MONITOR_INTERVAL s: quotes for the union of running monitors' symbols."""
    return _monitor(None)


def start_market_monitoring(user_id: int) -> dict:
    """Run one cycle for a user who just started the monitor, so quotes appear at once."""
    return _monitor([user_id])


def _monitor(user_ids: list[int] | None) -> dict:
    from photon.agents import monitor
    from photon.agents import status as agent_status
    from photon.api.schemas import quote_payload
    from photon.events import AGENT_STATUS, QUOTE, emit, symbol_room, user_room
    from photon.extensions import db
    from photon.providers import get_providers

    app = get_app()
    with app.app_context():
        url = app.config["PHOTON"].effective_redis_url
        run = monitor.run_cycle(db.session, get_providers(), user_ids)
        for result in run.cycle.quotes:
            emit(QUOTE, quote_payload(result.symbol, result.quote),
                 symbol_room(result.symbol.ticker), redis_url=url)
        for user_id, status in run.statuses.items():
            extra = {"symbols_watched": len(run.symbols_by_user.get(user_id, []))}
            emit(AGENT_STATUS, agent_status.payload(status, extra), user_room(user_id),
                 redis_url=url)
        _queue_auto_decisions(app)
        _announce_paper_equity(app, url)
        summary = {
            "users": len(run.statuses),
            "quotes": len(run.cycle.quotes),
            "errors": {k: v.message for k, v in run.cycle.source_errors.items()},
            "calls": run.cycle.calls,
        }
        db.session.remove()
    log.info("market update: %s", summary)
    return summary


def _announce_paper_equity(app, url: str) -> None:
    """Fresh quotes move paper equity: tell users whose paper execution runs."""
    from photon.agents import status as agent_status
    from photon.extensions import db
    from photon.models.agent import EXECUTION
    from photon.paper import PaperSettings
    from workers.execution import announce_equity

    users = agent_status.running_user_ids(db.session, EXECUTION)
    if users:
        announce_equity(users, PaperSettings.from_config(app.config["PHOTON"]), url)


def _queue_auto_decisions(app) -> None:
    from photon.agents import status as agent_status
    from photon.extensions import db, get_redis
    from photon.models.agent import DECISION_MAKER
    from workers.enqueue import enqueue_once
    from workers.queues import DECISIONS

    for user_id in agent_status.running_user_ids(db.session, DECISION_MAKER):
        # One pending auto-decide per user: a slow queue must not pile up copies.
        enqueue_once(get_redis(), DECISIONS, "workers.jobs.auto_decide", user_id,
                     job_id=f"auto-decide-{user_id}")


def decide_symbol(user_id: int, symbol_id: int) -> dict:
    """One analysis a user asked for; the result arrives as a ``decision`` event."""
    from photon.agents import decider
    from photon.errors import PhotonError
    from photon.extensions import db, get_redis
    from photon.models.agent import DECISION_MAKER
    from photon.providers import get_providers

    app = get_app()
    with app.app_context():
        try:
            decision = decider.decide_for(db.session, get_providers(), user_id, symbol_id)
        except PhotonError as exc:
            db.session.rollback()
            _record(user_id, DECISION_MAKER, exc.message)
            return {"error": exc.message}
        _announce_decisions(user_id, [decision])
        queue_training(db.session, get_redis(), get_providers(), [decision.symbol])
        _record(user_id, DECISION_MAKER, None, decided=1)
        result = {"decision_id": decision.id, "action": decision.action}
        db.session.remove()
    return result


def auto_decide(user_id: int) -> dict:
    """Decide on fresh bars for a user whose decision maker runs."""
    from photon.agents import decider
    from photon.extensions import db, get_redis
    from photon.models.agent import DECISION_MAKER
    from photon.providers import get_providers

    app = get_app()
    with app.app_context():
        made, problems = decider.auto_decide(db.session, get_providers(), user_id)
        _announce_decisions(user_id, made)
        queue_training(db.session, get_redis(), get_providers(),
                       {d.symbol_id: d.symbol for d in made}.values())
        _record(user_id, DECISION_MAKER, "; ".join(problems) or None, decided=len(made))
        result = {"decisions": [d.id for d in made], "problems": problems}
        db.session.remove()
    return result


def retrain_models() -> dict:
    """Queue training for every watched symbol whose model is due (counted in bars), so one
    that nobody decides on still gets its model."""
    from sqlalchemy import select

    from photon.extensions import db, get_redis
    from photon.models import Symbol, Watch
    from photon.providers import get_providers

    app = get_app()
    with app.app_context():
        symbols = db.session.scalars(
            select(Symbol).where(Symbol.id.in_(select(Watch.symbol_id)))).all()
        queued = queue_training(db.session, get_redis(), get_providers(), symbols)
        db.session.remove()
    return {"queued": queued}


def train_symbol(symbol_id: int) -> dict:
    """Train (walk-forward: past bars only) and store a model for one symbol."""
    from photon.agents import decider
    from photon.extensions import db, get_redis
    from photon.models import Symbol
    from photon.providers import get_providers

    app = get_app()
    with app.app_context():
        symbol = db.session.get(Symbol, symbol_id)
        if symbol is None:
            return {"symbol_id": symbol_id, "version": None}
        now = get_providers().market_now(symbol.source, symbol.ticker)
        row = decider.retrain(db.session, get_providers(), symbol, now)
        newest = decider.newest_complete_bar(db.session, symbol, now)
        if row is None and newest is not None:
            # Too little history: try again only once more bars have come in.
            get_redis().set(_ATTEMPT_KEY.format(symbol_id), newest.isoformat(), ex=30 * 86400)
        result = {"symbol": symbol.ticker, "version": row.version if row else None}
        db.session.remove()
    log.info("training: %s", result)
    return result


_ATTEMPT_KEY = "photon:train-attempt:{}"


def queue_training(session, connection, providers, symbols) -> list[str]:
    """One training job per symbol whose model is due; a symbol whose history was too short
    is tried again after ``RETRAIN_EVERY_BARS // 7`` more bars."""
    from datetime import datetime

    from photon.agents import decider
    from workers.enqueue import enqueue_once
    from workers.queues import DECISIONS

    queued = []
    for symbol in symbols:
        now = providers.market_now(symbol.source, symbol.ticker)
        if not decider.training_due(session, symbol, now):
            continue
        attempted = connection.get(_ATTEMPT_KEY.format(symbol.id))
        newest = decider.newest_complete_bar(session, symbol, now)
        if attempted and newest is not None:
            interval = decider.decision_interval(symbol)
            wait = decider.bars(interval, decider.RETRAIN_EVERY_BARS[interval] // 7)
            if newest < datetime.fromisoformat(attempted.decode()) + wait:
                continue
        job = enqueue_once(connection, DECISIONS, "workers.jobs.train_symbol", symbol.id,
                           job_id=f"train-{symbol.id}", timeout=1800)
        if job is not None:
            queued.append(job.id)
    return queued


def score_decisions() -> dict:
    """Score decisions whose horizon has passed, for the realised hit rate."""
    from photon.agents import decider
    from photon.extensions import db

    app = get_app()
    with app.app_context():
        scored = decider.score_due(db.session)
        db.session.remove()
    return {"scored": scored}


def _announce_decisions(user_id: int, made: list) -> None:
    """Tell the user's clients, then hand BUY/SELL decisions to paper execution if it runs."""
    from photon.api.schemas import decision_payload
    from photon.events import DECISION, emit, user_room
    from photon.extensions import db, get_redis
    from workers.enqueue import queue_paper_execution

    url = get_app().config["PHOTON"].effective_redis_url
    for decision in made:
        emit(DECISION, decision_payload(decision), user_room(user_id), redis_url=url)
    queue_paper_execution(db.session, get_redis(), user_id, made)


def _record(user_id: int, agent: str, error: str | None, **counts) -> None:
    """Count a run on the user's agent status and tell the user's clients."""
    from photon.agents import status as agent_status
    from photon.events import AGENT_STATUS, emit, user_room
    from photon.extensions import db

    status = agent_status.get(db.session, user_id, agent)
    totals = {k: (status.counters or {}).get(k, 0) + v for k, v in counts.items()}
    agent_status.record_run(status, error, counters=totals)
    db.session.commit()
    emit(AGENT_STATUS, agent_status.payload(status), user_room(user_id),
         redis_url=get_app().config["PHOTON"].effective_redis_url)
