"""The Execution agent's job: one BUY/SELL decision in, at most one paper order out.

Enqueued as ``photon.tasks.execution.execute_decision`` with job id ``execute-<decision_id>``
after each new decision. Running it twice, or again after a worker died halfway, is harmless:
the agent returns the decision's existing order and nothing is announced twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from photon.agents.execution import agent as execution
from photon.agents.execution import books
from photon.agents.execution.settings import PaperSettings
from photon.extensions import db
from photon.models import TradingDecision
from photon.models.types import utcnow
from photon.realtime import announce
from photon.store import agent_status, equity
from photon.tasks import context
from photon.types import Agent

log = logging.getLogger(__name__)


def execute_decision(decision_id: int) -> dict:
    """Fill or reject the decision's paper order; announce ``order`` and ``agent_status``."""
    app = context.app()
    with app.app_context():
        try:
            paper = PaperSettings.from_config(app.config["PHOTON"])
            try:
                outcome = execution.execute(db.session, decision_id, paper)
            except Exception as exc:
                db.session.rollback()
                _record_failure(decision_id, exc, paper)
                raise
            order = outcome.order
            if order is None:
                return {"decision_id": decision_id, "order_id": None}
            result = {
                "decision_id": decision_id,
                "order_id": order.id,
                "status": order.status,
                "reason": order.reason,
                "created": outcome.created,
            }
            if outcome.created:
                announce.order(order, context.redis_url())
                mark_portfolios([order.user_id], paper, context.redis_url(), after_fill=True)
        finally:
            db.session.remove()
    log.info("paper execution: %s", result)
    return result


def mark_portfolios(
    user_ids: Iterable[int],
    paper: PaperSettings,
    redis_url: str | None,
    *,
    after_fill: bool = False,
) -> None:
    """Mark each user's paper portfolio at the latest quotes: a point on the equity curve (at
    every fill, and every ``EQUITY_EVERY`` as quotes move it) and an ``agent_status`` with the
    equity. Inside an app context."""
    for user_id in user_ids:
        # Every market update lands here for each running portfolio: no order history needed.
        fields = announce.status_fields(
            db.session,
            user_id,
            Agent.EXECUTION,
            paper,
            last_orders=books.LAST_ORDERS if after_fill else 0,
        )
        equity.record(
            db.session, user_id, utcnow(), fields["equity"], fields["cash"], force=after_fill
        )
        db.session.commit()
        announce.status(fields, user_id, redis_url)


def _record_failure(decision_id: int, exc: Exception, paper: PaperSettings) -> None:
    """A crash (not a rejection) degrades the user's execution agent, with the error shown."""
    try:
        decision = db.session.get(TradingDecision, decision_id)
        if decision is None:
            return
        status = agent_status.get(db.session, decision.user_id, Agent.EXECUTION)
        agent_status.record_run(status, f"paper execution failed: {exc}")
        db.session.commit()
        announce.agent(db.session, decision.user_id, Agent.EXECUTION, paper, context.redis_url())
    except Exception:
        db.session.rollback()
        log.exception("could not record the failure of decision %s", decision_id)
