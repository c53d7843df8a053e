"""The paper-execution job: one BUY/SELL decision in, at most one paper order out.

Enqueued as ``workers.execution.execute_decision`` with job id ``execute-<decision_id>`` after
each new decision. Running it twice, or again after a worker died halfway, is harmless: the
agent returns the decision's existing order and nothing is announced twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from workers.context import get_app

log = logging.getLogger(__name__)


def execute_decision(decision_id: int) -> dict:
    """Fill or reject the decision's paper order; announce ``order`` and ``agent_status``."""
    from photon.agents import execution
    from photon.api.portfolio import order_payload
    from photon.events import ORDER, emit, user_room
    from photon.extensions import db
    from photon.paper import PaperSettings

    app = get_app()
    with app.app_context():
        settings = PaperSettings.from_config(app.config["PHOTON"])
        url = app.config["PHOTON"].effective_redis_url
        try:
            outcome = execution.run(db.session, decision_id, settings)
        except Exception as exc:
            db.session.rollback()
            _record_failure(decision_id, exc)
            db.session.remove()
            raise
        order = outcome.order
        if order is None:
            db.session.remove()
            return {"decision_id": decision_id, "order_id": None}
        result = {"decision_id": decision_id, "order_id": order.id, "status": order.status,
                  "reason": order.reason, "created": outcome.created}
        if outcome.created:
            emit(ORDER, order_payload(order), user_room(order.user_id), redis_url=url)
            announce_equity([order.user_id], settings, url)
        db.session.remove()
    log.info("paper execution: %s", result)
    return result


def announce_equity(user_ids: Iterable[int], settings, redis_url: str) -> None:
    """Send each user's execution status with equity and PnL marked at the latest quotes.

    Inside an app context. After a fill here; the market monitor may call it after storing
    quotes, for users whose paper execution runs, so equity moves reach clients as prices do.
    """
    from photon.agents import portfolio as books
    from photon.agents import status as agent_status
    from photon.events import AGENT_STATUS, emit, user_room
    from photon.extensions import db
    from photon.models.agent import EXECUTION

    for user_id in user_ids:
        # Every market update lands here for each running portfolio: no order history needed.
        summary = books.portfolio_summary(db.session, user_id, settings, last_orders=0)
        status = agent_status.get(db.session, user_id, EXECUTION)
        db.session.commit()
        halted = summary["halted_until"]
        emit(AGENT_STATUS, agent_status.payload(status, {
            "mode": summary["mode"], "equity": summary["equity"], "cash": summary["cash"],
            "realised_pnl": summary["realised_pnl"], "unrealised_pnl": summary["unrealised_pnl"],
            "halted_until": halted.isoformat() if halted else None,
            "counters": status.counters or {},
        }), user_room(user_id), redis_url=redis_url)


def _record_failure(decision_id: int, exc: Exception) -> None:
    """A crash (not a rejection) degrades the user's execution agent, with the error shown."""
    from photon.agents import status as agent_status
    from photon.events import AGENT_STATUS, emit, user_room
    from photon.extensions import db
    from photon.models import TradingDecision
    from photon.models.agent import EXECUTION

    try:
        decision = db.session.get(TradingDecision, decision_id)
        if decision is None:
            return
        status = agent_status.get(db.session, decision.user_id, EXECUTION)
        agent_status.record_run(status, f"paper execution failed: {exc}")
        db.session.commit()
        emit(AGENT_STATUS, agent_status.payload(status), user_room(decision.user_id),
             redis_url=get_app().config["PHOTON"].effective_redis_url)
    except Exception:  # noqa: BLE001  (the original error is what RQ should report)
        db.session.rollback()
        log.exception("could not record the failure of decision %s", decision_id)
