"""The three agents chained through real RQ jobs: a market update stores quotes, the decision
maker decides on the fresh bar, and paper execution turns the BUY into a filled paper order."""

import pytest
from rq import Queue

from photon.tasks.queues import MONITOR


@pytest.fixture
def app_env(app_env):
    # Real BTCUSDT history where the rules ensemble says BUY on the last complete bar
    # (2020-08-01 21:00: SMA and MACD agree). A day-long tick keeps the replay on that bar; its
    # quotes are stamped at the tick, so the stale-quote limit is widened to match.
    return {
        **app_env,
        "PHOTON_DATA_SOURCE": "replay",
        "PHOTON_REPLAY_START": "2020-08-01T22:00:00",
        "PHOTON_REPLAY_TICK": "86400",
        "PHOTON_PAPER_MAX_QUOTE_AGE": "90000",
    }


def test_market_update_to_decision_to_paper_order(client, auth, run_jobs, redis_client):
    headers = auth.headers("alice")
    btc = client.post("/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers).json
    for agent in ("market-monitor", "decision-maker", "execution"):
        started = client.post(
            f"/api/trading/agents/{agent}/", json={"action": "start"}, headers=headers
        )
        assert started.status_code == 200 and started.json["state"] == "running"
    run_jobs()  # start_market_monitoring: the first quotes

    Queue(MONITOR, connection=redis_client).enqueue("photon.tasks.monitor.periodic_market_update")
    run_jobs()

    decisions = client.get("/api/trading/decisions/", headers=headers).json
    assert [(d["symbol"], d["action"], d["model"]) for d in decisions] == [
        ("BTCUSDT", "BUY", "rules")
    ]
    orders = client.get("/api/trading/orders/", headers=headers).json
    assert len(orders) == 1
    order = orders[0]
    assert (order["decision_id"], order["side"], order["status"]) == (
        decisions[0]["id"],
        "BUY",
        "filled",
    )
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert latest[0]["source"] == "replay"
    # No bid/ask in replay: the fill is the last price moved against us by the slippage.
    assert order["price"] == pytest.approx(latest[0]["price"] * 1.0005)
    portfolio = client.get("/api/trading/portfolio/", headers=headers).json
    assert [p["symbol"] for p in portfolio["positions"]] == ["BTCUSDT"]
    assert portfolio["cash"] < 10_000

    # The same bar again: no second decision, so no second order.
    Queue(MONITOR, connection=redis_client).enqueue("photon.tasks.monitor.periodic_market_update")
    run_jobs()
    assert len(client.get("/api/trading/decisions/", headers=headers).json) == 1
    assert len(client.get("/api/trading/orders/", headers=headers).json) == 1
    assert btc["symbol"] == "BTCUSDT"
