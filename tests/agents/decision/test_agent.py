"""The Decision-Making agent on stored bars: deciding, training, no lookahead, and deciding
once per fresh bar, on real bundled history from the replay source."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from photon.agents.decision import agent as decider
from photon.extensions import db
from photon.models import Bar, DecisionModel, Symbol, User

ERROR_KEYS = {"code", "status", "message", "errors"}


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_DATA_SOURCE": "replay", "PHOTON_REPLAY_TICK": "60"}


def add(client, headers, symbol):
    response = client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _token(client, auth) -> str:
    auth.client = client
    auth.register("trainer")
    return auth.login("trainer")["access"]


def test_trained_model_is_used_and_named(client, auth, app, app_env):
    from photon.app import create_app
    from photon.providers import get_providers

    # Late start: a year of real hourly history lies before the replay cursor.
    env = {**app_env, "PHOTON_REPLAY_START": "2021-04-01"}
    trained_app = create_app(env)
    trained_client = trained_app.test_client()
    headers = {"Authorization": "Bearer " + _token(trained_client, auth)}
    symbol_id = add(trained_client, headers, "BTC")
    with trained_app.app_context():
        symbol = db.session.get(Symbol, symbol_id)
        row = decider.retrain(db.session, get_providers(), symbol)
        assert row is not None
        assert row.train_end < datetime.now(UTC)
        assert row.metrics
        version = row.version
    response = trained_client.post(
        "/api/trading/decisions/", json={"symbol_id": symbol_id}, headers=headers
    )
    assert response.status_code == 201, response.json
    assert response.json["model"] == "lightgbm"
    assert response.json["model_version"] == version
    contributions = [s["contribution"] for s in response.json["signals"].values()]
    assert any(abs(c) > 0 for c in contributions)


def test_decision_is_identical_with_or_without_later_bars(app, client, auth):
    from photon.providers import get_providers

    headers = auth.headers("alice")
    symbol_id = add(client, headers, "ETH")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        # Replay bars keep their real times; its clock is the bar being formed at the cursor.
        t = get_providers().market_now("bybit", "ETHUSDT") - timedelta(hours=30)
        first = decider.decide_now(db.session, get_providers(), user_id, symbol_id, now=t)
        # Bars up to now arrive (30 more hours); deciding again "at t" must not see them.
        decider.decide_now(db.session, get_providers(), user_id, symbol_id)
        later = db.session.scalar(select(db.func.max(Bar.open_time)))
        assert later > first.bar_time
        again = decider.decide_now(db.session, get_providers(), user_id, symbol_id, now=t)
        assert (again.action, again.confidence, again.signals, again.price, again.bar_time) == (
            first.action,
            first.confidence,
            first.signals,
            first.price,
            first.bar_time,
        )


def test_auto_decide_decides_once_per_fresh_bar(app, client, auth):
    from photon.providers import get_providers

    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).one()
        made, problems = decider.decide_fresh(db.session, get_providers(), user_id)
        assert len(made) == 2 and problems == []
        made_again, _ = decider.decide_fresh(db.session, get_providers(), user_id)
        assert made_again == []  # no new complete bar since: no repeated decision


def test_models_are_stored_with_window_and_metrics(app, client, auth):
    # Covered in depth in tests/agents; here: the table holds what the API names.
    with app.app_context():
        assert db.session.scalars(select(DecisionModel)).all() == []


def test_a_replay_that_wraps_keeps_deciding(app, client, auth, app_env, redis_client):
    """After the last bar the replay starts again from its start bar: earlier bars come back,
    and each is decided (auto-decide skips only a bar it decided before)."""
    import time

    from photon.app import create_app
    from photon.market.replay.bundled import load_bundled
    from photon.market.replay.provider import HISTORY_BARS
    from photon.providers import REPLAY_ANCHOR_KEY, get_providers

    headers = auth.headers("alice")
    add(client, headers, "ETH")
    period = len(load_bundled("ETHUSDT", "1h")) - HISTORY_BARS  # ticks before it wraps
    tick = 60.0
    now = time.time() // tick * tick

    def decide_at(steps: int):
        # A fresh app reads the replay's anchor afresh: `steps` ticks ago the replay began.
        redis_client.set(REPLAY_ANCHOR_KEY, repr(now - steps * tick))
        later = create_app(app_env)
        with later.app_context():
            user_id = db.session.scalars(select(User.id)).one()
            made, problems = decider.decide_fresh(db.session, get_providers(), user_id)
            assert problems == []
            return [d.bar_time for d in made]

    (late,) = decide_at(period - 3)  # three ticks before the end of the history
    (wrapped,) = decide_at(period + 5)  # five ticks after the wrap
    assert wrapped < late  # an earlier bar came back, and it was decided
    assert decide_at(period + 5) == []  # the same bar again: not decided twice
