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
        summary = {
            "users": len(run.statuses),
            "quotes": len(run.cycle.quotes),
            "errors": {k: v.message for k, v in run.cycle.source_errors.items()},
            "calls": run.cycle.calls,
        }
        db.session.remove()
    log.info("market update: %s", summary)
    return summary
