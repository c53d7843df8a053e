"""The Market Monitoring agent's jobs."""

from __future__ import annotations

import logging
import time

import redis

from photon import metrics
from photon.agents import monitor
from photon.agents.execution.settings import PaperSettings
from photon.extensions import db, get_redis
from photon.providers import get_providers
from photon.realtime import announce
from photon.store import agent_status
from photon.tasks import context
from photon.tasks.enqueue import queue_auto_decisions
from photon.tasks.execution import mark_portfolios
from photon.tasks.stream import signals
from photon.types import Agent, Source

log = logging.getLogger(__name__)


def periodic_market_update() -> dict:
    """Every PHOTON_MONITOR_INTERVAL s: quotes for the union of running monitors' symbols that
    no healthy stream carries, and every user's monitor status."""
    return _monitor(None)


def start_market_monitoring(user_id: int) -> dict:
    """Run one cycle for a user who just started the monitor, so quotes appear at once."""
    return _monitor([user_id])


def _monitor(user_ids: list[int] | None) -> dict:
    app = context.app()
    with app.app_context():
        started = time.perf_counter()
        try:
            run = monitor.run_cycle(db.session, get_providers(), user_ids, _streams())
            paper = PaperSettings.from_config(app.config["PHOTON"])
            announce.monitor_run(db.session, run, paper, context.redis_url())
            # Fresh quotes move paper equity: mark the portfolios whose execution runs.
            running = agent_status.running_user_ids(db.session, Agent.EXECUTION)
            mark_portfolios(running, paper, context.redis_url())
            queue_auto_decisions(db.session, get_redis())
            summary = {
                "users": len(run.statuses),
                "quotes": len(run.cycle.quotes),
                "errors": {k: v.message for k, v in run.cycle.source_errors.items()},
                "calls": run.cycle.calls,
            }
        finally:
            db.session.remove()
        recorder = metrics.Recorder(get_redis())
        recorder.observe("monitor_cycle_seconds", (), time.perf_counter() - started)
        recorder.gauge("monitor_last_cycle_timestamp", (), time.time())
    log.info("market update: %s", summary)
    return summary


def _streams() -> dict[str, monitor.StreamView]:
    """What the stream process carries now: the symbols it pushes are not polled again."""
    try:
        return signals.read_views(get_redis(), tuple(Source))
    except redis.RedisError as exc:
        log.warning("market update: stream state unreadable, polling everything: %s", exc)
        return {}
