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


def _bars(symbol_id, t0, closes, interval="1d", source="yahoo"):
    step = timedelta(days=1) if interval == "1d" else timedelta(hours=1)
    return [
        Bar(symbol_id=symbol_id, interval=interval, open_time=t0 + i * step, open=c, high=c,
            low=c, close=c, volume=1.0, source=source)
        for i, c in enumerate(closes)
    ]  # fmt: skip


def _decision(user_id, symbol_id, bar_time, price, action, confidence, **kw):
    return TradingDecision(
        user_id=user_id, symbol_id=symbol_id, action=action, confidence=confidence,
        reasoning="test", signals={}, model=kw.get("model", "lightgbm"), model_version="v",
        price=price, bar_time=bar_time, horizon_bars=kw.get("horizon", 5),
        interval=kw.get("interval", "1d"), cost=0.004, base_rate=kw.get("base_rate"),
        created_at=bar_time,
    )  # fmt: skip


def test_the_horizon_is_counted_in_bars_not_days(app, client, auth):
    """A stock decided on a Friday with a 5-bar horizon is scored on the next Friday's close
    (5 trading bars), not on the Wednesday that bar_time + 5 days lands on."""
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "AAPL")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        db.session.execute(db.delete(Bar).where(Bar.symbol_id == symbol_id))
        friday = datetime(2024, 1, 5, tzinfo=UTC)
        days = [friday + timedelta(days=d) for d in (0, 3, 4, 5, 6, 7, 10)]  # Fri, Mon..Fri, Mon
        closes = [100.0, 100.0, 100.0, 110.0, 100.0, 101.0, 50.0]
        for day, close in zip(days, closes, strict=True):
            db.session.add(_bars(symbol_id, day, [close])[0])
        db.session.add(_decision(user_id, symbol_id, friday, 100.0, "BUY", 0.6))
        db.session.commit()
        assert decider.score_due(db.session) == 1
        decision = db.session.scalars(select(TradingDecision)).one()
        # The 5th bar after Friday is the next Friday (close 101): +1 % beats the 0.4 % cost.
        assert decision.outcome_return == pytest.approx(0.01)
        assert decision.outcome_correct is True


def test_a_forming_bar_is_not_an_outcome(app, client, auth):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "BTC")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        t0 = datetime(2024, 1, 1, tzinfo=UTC)
        db.session.add_all(_bars(symbol_id, t0, [100.0] * 30, "1h", "bybit"))
        db.session.add(_decision(user_id, symbol_id, t0, 100.0, "HOLD", 0.2, horizon=24,
                                 interval="1h"))  # fmt: skip
        db.session.commit()
        # At the open of bar 24 it is still forming: not scored yet; an hour later it is.
        assert decider.score_due(db.session, now=t0 + timedelta(hours=24, minutes=30)) == 0
        assert decider.score_due(db.session, now=t0 + timedelta(hours=25)) == 1


def test_statistics_report_calibration_per_model_and_action(app, client, auth):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "AAPL")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        db.session.execute(db.delete(Bar).where(Bar.symbol_id == symbol_id))
        t0 = datetime(2024, 1, 1, tzinfo=UTC)
        # Ten BUYs at 0.55 on a rising series (right), ten at 0.45 on a falling one (wrong),
        # and one HOLD that never gets its horizon (not scored: left out of calibration).
        closes = [100.0 + i for i in range(20)] + [200.0 - 5 * i for i in range(20)]
        db.session.add_all(_bars(symbol_id, t0, closes))
        for i in range(10):
            db.session.add(_decision(user_id, symbol_id, t0 + timedelta(days=i), closes[i],
                                     "BUY", 0.55, base_rate=0.5))  # fmt: skip
            j = 20 + i
            db.session.add(_decision(user_id, symbol_id, t0 + timedelta(days=j), closes[j],
                                     "BUY", 0.45, base_rate=0.5))  # fmt: skip
        db.session.add(_decision(user_id, symbol_id, t0 + timedelta(days=39), closes[39],
                                 "HOLD", 0.3, model="rules", base_rate=0.1))  # fmt: skip
        db.session.commit()
        assert decider.score_due(db.session) == 20
    stats = client.get("/api/trading/decisions/statistics/", headers=headers).json
    assert stats["total"] == 21 and stats["scored"] == 20  # the old keys still answer
    bins = stats["reliability"]
    assert [(b["bin_lo"], b["bin_hi"]) for b in bins] == [(i / 10, (i + 1) / 10) for i in range(10)]
    assert (bins[4]["n"], bins[4]["hit_rate"], bins[5]["n"], bins[5]["hit_rate"]) == (10, 0, 10, 1)
    assert bins[5]["mean_confidence"] == pytest.approx(0.55)
    (group,) = stats["groups"]  # the unscored rules HOLD is not a group
    assert (group["model"], group["action"], group["n"]) == ("lightgbm", "BUY", 20)
    assert group["hit_rate"] == 0.5 and group["mean_confidence"] == pytest.approx(0.5)
    lo, hi = group["hit_rate_ci"]
    assert 0.29 < lo < 0.5 < hi < 0.71
    assert group["ece"] == pytest.approx(0.45)  # |0 - 0.45| and |1 - 0.55|, each half the n
    assert group["brier"] == pytest.approx((10 * 0.45**2 + 10 * 0.45**2) / 20)
    assert group["brier_base_rate"] == pytest.approx(0.25)
    assert group["horizons"] == ["5 x 1d"] and len(group["reliability"]) == 10


def test_audit_rederives_a_decision_bit_for_bit_and_names_what_changed(app, client, auth):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "ETH")
    made = client.post("/api/trading/decisions/", json={"symbol_id": symbol_id}, headers=headers)
    assert made.status_code == 201, made.json
    body = made.json
    assert set(body["probabilities"]) == {"up", "down", "flat"}
    assert (
        body["confidence"]
        == body["probabilities"][{"BUY": "up", "SELL": "down", "HOLD": "flat"}[body["action"]]]
    )
    url = f"/api/trading/decisions/{body['id']}/audit/"
    audit = client.get(url, headers=headers).json
    assert audit["match"] is True, audit
    assert audit["confidence"] == {"stored": body["confidence"], "derived": body["confidence"],
                                   "match": True}  # fmt: skip
    assert audit["bars_read"] >= 50 and audit["signals"]["differences"] == {}
    with app.app_context():
        # A back-fill rewrites one bar inside the window: the audit says so.
        bar = db.session.scalars(
            select(Bar).where(Bar.symbol_id == symbol_id, Bar.interval == "1h",
                              Bar.open_time == datetime.fromisoformat(body["bar_time"]))
        ).one()  # fmt: skip
        bar.close *= 1.01
        db.session.commit()
    changed = client.get(url, headers=headers).json
    assert changed["match"] is False
    assert changed["price"]["match"] is False and changed["signals"]["match"] is False
    assert client.get(url, headers=auth.headers("bob")).status_code == 404
