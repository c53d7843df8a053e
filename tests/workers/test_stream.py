"""Real ``python -m workers.stream`` processes: one streams a venue while another waits, a
``kill -9`` hands the venue over within one lease period, SIGTERM releases it at once, and
pushes reach a Socket.IO client of the real web process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from photon.tasks.stream.signals import LEASE_KEY, STATE_KEY
from tests.fakes.bybit_ws import FakeBybitStream
from tests.fakes.yahoo_ws import FakeYahooStreamer
from tests.realtime.conftest import Listener, live_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LEASE = 2.0
BTC = {"tickers.BTCUSDT", "kline.1.BTCUSDT", "kline.5.BTCUSDT", "kline.60.BTCUSDT"}
BTC |= {"kline.D.BTCUSDT"}


@pytest.fixture
def venues():
    with FakeBybitStream() as bybit, FakeYahooStreamer() as yahoo:
        yield bybit, yahoo


@pytest.fixture
def stream_env(app_env, venues):
    bybit, yahoo = venues
    return {
        **app_env,
        "PHOTON_BYBIT_WS_URL": bybit.url,
        "PHOTON_YAHOO_WS_URL": yahoo.url,
        "PHOTON_STREAM_LEASE_TTL": str(LEASE),
        "PHOTON_LOG_LEVEL": "INFO",
    }


def _stream(env: dict, log_path: Path) -> subprocess.Popen:
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "workers.stream"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _until(predicate, timeout: float, what: str, *logs: Path):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            shown = "\n".join(f"--- {p.name}\n{p.read_text()}" for p in logs)
            raise AssertionError(f"timed out waiting for {what}\n{shown}")
        time.sleep(0.02)
    return value


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _watch_btc(client, auth) -> None:
    headers = auth.headers("alice")
    added = client.post("/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers)
    assert added.status_code == 201, added.json
    client.post("/api/trading/agents/market-monitor/", json={"action": "start"}, headers=headers)


def _subscribed(server) -> bool:
    return len(server.live) == 1 and server.live[0].topics == BTC


def test_kill_9_hands_the_venue_to_the_standby_within_one_lease(
    client, auth, stream_env, venues, redis_client, tmp_path
):
    bybit, _ = venues
    _watch_btc(client, auth)
    logs = [tmp_path / "stream-a.log", tmp_path / "stream-b.log"]
    procs = [_stream(stream_env, log) for log in logs]
    try:
        _until(lambda: _subscribed(bybit), 30, "one process to stream Bybit", *logs)
        time.sleep(LEASE)
        assert len(bybit.connections) == 1, "two processes stream the same venue"
        owner = redis_client.get(LEASE_KEY.format("bybit")).decode()
        holder = next(p for p in procs if f":{p.pid}:" in owner)
        standby = next(p for p in procs if p is not holder)
        assert redis_client.exists(STATE_KEY.format("bybit"))

        holder.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        holder.wait(timeout=10)
        _until(
            lambda: len(bybit.connections) == 2 and _subscribed(bybit), 3 * LEASE, "takeover", *logs
        )
        took = time.monotonic() - killed
        print(f"\nkill -9 to the standby's subscriptions: {took:.2f} s (lease {LEASE} s)")
        assert took <= LEASE + 0.3  # one lease period, plus connecting and subscribing
        assert f":{standby.pid}:" in redis_client.get(LEASE_KEY.format("bybit")).decode()

        standby.send_signal(signal.SIGTERM)
        assert standby.wait(timeout=15) == 0
        # A clean stop gives the lease and the state back at once.
        assert not redis_client.exists(LEASE_KEY.format("bybit"))
        assert not redis_client.exists(STATE_KEY.format("bybit"))
    finally:
        for proc in procs:
            _stop(proc)
    text = "".join(log.read_text() for log in logs)
    assert "Traceback" not in text, text


def test_pushes_reach_a_socketio_client_through_the_web_process(app, stream_env, venues, tmp_path):
    bybit, _ = venues
    env = {**stream_env, "PHOTON_ASYNC_MODE": "eventlet"}
    with live_server(env, tmp_path) as web:
        user = web.user("BTC")
        web.api("POST", "/api/trading/agents/market-monitor/", user, json={"action": "start"})
        log = tmp_path / "stream.log"
        proc = _stream(env, log)
        try:
            _until(lambda: _subscribed(bybit), 30, "the stream to subscribe", log)
            listener = Listener(web).connect({"token": user.access})
            try:
                assert listener.call("subscribe", {"symbols": ["BTC"]})["joined"] == ["BTCUSDT"]
                sent = []
                for i in range(20):
                    ts = int(time.time() * 1000)
                    bybit.push_ticker("BTCUSDT", 25000.0 + i, ts)
                    sent.append(ts)
                    time.sleep(0.02)
                start = int(time.time()) // 60 * 60 * 1000
                bybit.push_kline("BTCUSDT", "1", start, (1, 2, 0.5, 1.5, 3), confirm=False)
                quotes = listener.wait_for("quote", count=20, timeout=10)
                bars = listener.wait_for("bar", timeout=10)
            finally:
                listener.close()
        finally:
            _stop(proc)
    assert [q["price"] for q in quotes] == [25000.0 + i for i in range(20)]
    assert [datetime.fromisoformat(q["source_time"]) for q in quotes] == [
        datetime.fromtimestamp(ts / 1000, UTC) for ts in sent
    ]
    assert bars[0]["symbol"] == "BTCUSDT" and bars[0]["closed"] is False
