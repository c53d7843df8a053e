"""Replay through the stream: the same service, the same events, the same storage; only the
quotes' ``source`` says ``replay``."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from sqlalchemy import select

from photon.extensions import db
from photon.models import Bar
from photon.tasks.stream.service import StreamService

TICK = 0.8


@pytest.fixture
def app_env(app_env):
    return {
        **app_env,
        "PHOTON_DATA_SOURCE": "replay",
        "PHOTON_REPLAY_TICK": str(TICK),
        "PHOTON_REPLAY_SUBTICKS": "4",
        "PHOTON_STREAM_LEASE_TTL": "1",
    }


def test_replay_pushes_sub_ticks_forming_and_closed_bars(app, client, auth, tap, run_service):
    headers = auth.headers("alice")
    btc = client.post("/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers).json
    assert btc["source"] == "bybit"  # detected as Bybit's; replay serves it all the same
    run_service(StreamService.from_app(app))
    client.post("/api/trading/agents/market-monitor/", json={"action": "start"}, headers=headers)
    # The second closed bar: the first one was already playing when the stream began.
    closed = tap.wait_for(
        lambda t: [b for b in t.of("bar", "symbol:BTCUSDT") if b["closed"]][1:],
        timeout=4 * TICK + 5,
        what="two closed bars",
    )[0]
    time.sleep(TICK)
    quotes = tap.of("quote", "symbol:BTCUSDT")
    assert len(quotes) >= 4 and {q["source"] for q in quotes} == {"replay"}
    # Several quotes per replayed bar, walking within it; venue time is the bar's history.
    first_bar = [q for q in quotes if q["source_time"][:13] == closed["open_time"][:13]]
    assert len(first_bar) >= 2
    assert all(closed["low"] <= q["price"] <= closed["high"] for q in first_bar)
    assert datetime.fromisoformat(quotes[0]["source_time"]).year in (2020, 2021)
    forming = [
        b for b in tap.of("bar") if not b["closed"] and b["open_time"] == closed["open_time"]
    ]
    assert forming and forming[-1]["close"] == closed["close"]
    time.sleep(1.2)
    with app.app_context():
        stored = db.session.scalars(
            select(Bar).where(Bar.symbol_id == btc["id"]).order_by(Bar.open_time)
        ).all()
    # Each closed bar once, as it closed, under the symbol's own source.
    closes = [(b["open_time"], b["close"]) for b in tap.of("bar") if b["closed"]]
    assert [(b.open_time.isoformat(), b.close) for b in stored] == closes[: len(stored)]
    assert closed["close"] in [b.close for b in stored] and {b.source for b in stored} == {"bybit"}
    assert {b.interval for b in stored} == {"1h"}
