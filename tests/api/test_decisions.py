"""The Decision-Making agent through the API, on real bundled history from the replay source."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from photon.agents.decision import FEATURE_NAMES
from photon.agents.decision import agent as decider
from photon.extensions import db
from photon.models import Bar, Symbol, TradingDecision, User, Watch

ERROR_KEYS = {"code", "status", "message", "errors"}


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_DATA_SOURCE": "replay", "PHOTON_REPLAY_TICK": "60"}


def add(client, headers, symbol):
    response = client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_decide_now_returns_an_explained_decision(client, auth, app):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "BTC")
    response = client.post(
        "/api/trading/decisions/", json={"symbol_id": symbol_id}, headers=headers
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["action"] in ("BUY", "SELL", "HOLD")
    assert 0.0 <= body["confidence"] <= 1.0
    assert body["model"] == "rules"  # no model trained yet: the transparent fallback says so
    assert body["symbol"] == "BTCUSDT" and body["interval"] == "1h"
    assert set(body["signals"]) == set(FEATURE_NAMES)
    for signal in body["signals"].values():
        assert set(signal) >= {"value", "contribution", "label"}
    assert body["reasoning"]
    with app.app_context():
        bar = db.session.scalars(
            select(Bar).where(
                Bar.symbol_id == symbol_id,
                Bar.interval == "1h",
                Bar.open_time == datetime.fromisoformat(body["bar_time"]),
            )
        ).one()
        # The decision's price is the close of the complete bar it used, from real history.
        assert body["price"] == bar.close
        assert bar.open_time + timedelta(hours=1) <= datetime.now(UTC)


def test_too_little_history_is_409_not_500(app, client, auth):
    headers = auth.headers("alice")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        # A stock the bundled replay history does not have: no bars can be found.
        symbol = Symbol(ticker="TSLA", asset_class="stock", source="yahoo")
        db.session.add(symbol)
        db.session.flush()
        db.session.add(Watch(user_id=user_id, symbol_id=symbol.id))
        db.session.commit()
        symbol_id = symbol.id
    response = client.post(
        "/api/trading/decisions/", json={"symbol_id": symbol_id}, headers=headers
    )
    assert response.status_code == 409
    assert set(response.json) == ERROR_KEYS
    assert "needs 50" in response.json["message"]


def test_scoping_and_validation(client, auth):
    alice = auth.headers("alice")
    bob = auth.headers("bob")
    symbol_id = add(client, alice, "BTC")
    assert (
        client.post(
            "/api/trading/decisions/", json={"symbol_id": symbol_id}, headers=bob
        ).status_code
        == 404
    )
    assert client.post("/api/trading/decisions/", json={}, headers=alice).status_code == 422
    made = client.post("/api/trading/decisions/", json={"symbol_id": symbol_id}, headers=alice)
    assert client.get(f"/api/trading/decisions/{made.json['id']}/", headers=bob).status_code == 404
    assert client.get("/api/trading/decisions/", headers=bob).json == []
    assert client.get("/api/trading/decisions/statistics/", headers=bob).json["total"] == 0


def test_history_filters_and_statistics_with_realised_hit_rate(app, client, auth):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "BTC")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        t0 = datetime(2024, 1, 1, tzinfo=UTC)
        # Hand-made bars: +1 % over a 24-bar horizon for the first decision, -1 % for the second.
        closes = [100.0] * 25 + [101.0] + [100.0] * 23 + [99.0]
        for i, close in enumerate(closes):
            db.session.add(
                Bar(
                    symbol_id=symbol_id,
                    interval="1h",
                    open_time=t0 + timedelta(hours=i),
                    open=close,
                    high=close,
                    low=close,
                    close=close,
                    volume=1.0,
                    source="bybit",
                )
            )
        for hour, action, confidence in ((1, "BUY", 0.6), (26, "SELL", 0.8), (2, "HOLD", 0.5)):
            db.session.add(
                TradingDecision(
                    user_id=user_id,
                    symbol_id=symbol_id,
                    action=action,
                    confidence=confidence,
                    reasoning="test",
                    signals={},
                    model="rules",
                    model_version="rules-v1",
                    price=closes[hour],
                    bar_time=t0 + timedelta(hours=hour),
                    horizon_bars=24,
                    interval="1h",
                    cost=0.004,
                    created_at=t0 + timedelta(hours=hour),
                )
            )
        db.session.commit()
        assert decider.score_due(db.session) == 2  # HOLD at hour 2 has no bar 24 h later yet
    stats = client.get("/api/trading/decisions/statistics/", headers=headers).json
    assert stats["total"] == 3
    assert stats["by_action"]["BUY"]["count"] == 1
    assert stats["by_symbol"]["BTCUSDT"]["count"] == 3
    assert stats["mean_confidence"] == pytest.approx((0.6 + 0.8 + 0.5) / 3)
    # BUY at 100 -> 101 (+1 % > 0.4 % cost): right. SELL at 101 -> 99 (-2 %): right.
    assert stats["scored"] == 2 and stats["hit_rate"] == 1.0
    buys = client.get("/api/trading/decisions/?action=BUY", headers=headers).json
    assert [d["action"] for d in buys] == ["BUY"]
    assert buys[0]["outcome_correct"] is True
    ranged = client.get("/api/trading/decisions/?start=2024-01-01T20:00:00Z", headers=headers)
    assert [d["action"] for d in ranged.json] == ["SELL"]
    bad = client.get("/api/trading/decisions/?action=MAYBE", headers=headers)
    assert bad.status_code == 422


def test_decision_maker_queues_a_job_and_the_decision_arrives(client, auth, run_jobs):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "BTC")
    queued = client.post(
        "/api/trading/agents/decision-maker/", json={"symbol_id": symbol_id}, headers=headers
    )
    assert queued.status_code == 202, queued.json
    assert queued.json["job_id"]
    assert client.get("/api/trading/decisions/", headers=headers).json == []
    run_jobs()
    made = client.get("/api/trading/decisions/", headers=headers).json
    assert len(made) == 1 and made[0]["symbol"] == "BTCUSDT"
    status = client.get("/api/trading/agents/decision-maker/", headers=headers).json
    assert status["cycles"] == 1 and status["last_error"] is None


def test_decision_maker_actions(client, auth):
    headers = auth.headers("alice")
    url = "/api/trading/agents/decision-maker/"
    assert client.post(url, json={"action": "start"}, headers=headers).json["state"] == "running"
    assert client.post(url, json={"action": "stop"}, headers=headers).json["state"] == "stopped"
    for body in ({"action": "dance"}, {}, {"action": "start", "symbol_id": 1}):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, body
        assert set(response.json) == ERROR_KEYS
    assert client.post(url, json={"symbol_id": 999}, headers=headers).status_code == 404
