"""A queued analysis that runs twice (RQ retried it after its worker died, or it was queued
twice under one id) stores one decision, and an auto-decision is stored once per bar even when
two runs race for it."""

import pytest
from rq import Queue
from sqlalchemy import func, select

from photon.agents.decision import agent as decider
from photon.extensions import db
from photon.models import TradingDecision
from photon.providers import get_providers
from photon.tasks.queues import DECISIONS


@pytest.fixture
def app_env(app_env):
    # The replay's bundled history: enough bars to decide on at once (as in test_pipeline).
    return {
        **app_env,
        "PHOTON_DATA_SOURCE": "replay",
        "PHOTON_REPLAY_START": "2020-08-01T22:00:00",
        "PHOTON_REPLAY_TICK": "86400",
    }


def _decisions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TradingDecision))


def test_a_decide_job_run_twice_stores_one_decision(client, auth, run_jobs, redis_client, app):
    headers = auth.headers("alice")
    btc = client.post("/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers).json
    user_id = client.get("/api/auth/me/", headers=headers).json["id"]
    queue = Queue(DECISIONS, connection=redis_client)
    for _run in range(2):
        queue.enqueue(
            "photon.tasks.decisions.decide_symbol", user_id, btc["id"], job_id="analysis-1"
        )
        run_jobs()
    job = queue.fetch_job("analysis-1")
    assert job.return_value()["rerun"] is True
    assert _decisions(app) == 1
    with app.app_context():
        stored = db.session.scalars(select(TradingDecision)).one()
        assert stored.request_id == "job:analysis-1"


def test_racing_auto_decisions_store_one_per_bar(client, auth, app, worker_env):
    headers = auth.headers("alice")
    client.post("/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers)
    user_id = client.get("/api/auth/me/", headers=headers).json["id"]
    with app.app_context():
        providers = get_providers()
        # Both runs saw no decision on the bar yet: the second is what a racing run would store.
        first, _ = decider.decide_fresh(db.session, providers, user_id)
        assert len(first) == 1
        again = decider.decide_stored(
            db.session,
            user_id,
            [first[0].symbol],
            {first[0].symbol_id: providers.market_now("replay", "BTCUSDT")},
            request_ids={first[0].symbol_id: first[0].request_id},
        )
        assert again == ([], {})
    assert _decisions(app) == 1
