"""The stream service end to end inside this process: watch-list changes through the API reach
the venues over Redis, every push becomes an event, the database gets coalesced quotes and each
closed bar once, and the market monitor polls only what the stream does not carry."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from rq import Queue
from rq.job import Job
from sqlalchemy import func, select

from photon.extensions import db
from photon.models import AgentStatus, Bar, MarketData
from photon.realtime.payloads import QuoteSchema
from photon.tasks.queues import DECISIONS, MONITOR
from photon.tasks.stream.service import StreamService
from photon.types import Agent
from tests.tasks.stream.conftest import LEASE, SILENCE, venues

SYMBOLS = "/api/trading/symbols/"
MONITOR_URL = "/api/trading/agents/market-monitor/"
BTC = {"tickers.BTCUSDT", "kline.1.BTCUSDT", "kline.5.BTCUSDT", "kline.60.BTCUSDT"}
BTC |= {"kline.D.BTCUSDT"}


def add(client, headers, symbol) -> int:
    response = client.post(SYMBOLS, json={"symbol": symbol}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def monitor(client, headers, action: str) -> dict:
    response = client.post(MONITOR_URL, json={"action": action}, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def topics(server) -> set[str]:
    return set().union(*(c.topics for c in server.live)) if server.live else set()


def test_watch_list_changes_reach_the_venues_without_reconnecting(
    client, auth, service, bybit_ws, yahoo_ws
):
    alice, bob = auth.headers("alice"), auth.headers("bob")
    add(client, alice, "BTC")
    time.sleep(0.3)
    assert bybit_ws.connections == []  # watched, but no monitor runs: nothing to stream
    monitor(client, alice, "start")
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="BTC subscribed")
    add(client, alice, "AAPL")
    yahoo_ws.wait_for(lambda: topics(yahoo_ws) == {"AAPL"}, what="AAPL subscribed")
    eth = add(client, alice, "ETH")
    bybit_ws.wait_for(lambda: len(topics(bybit_ws)) == 10, what="ETH subscribed")
    add(client, bob, "ETH")
    monitor(client, bob, "start")
    client.delete(f"{SYMBOLS}{eth}/", headers=alice)
    time.sleep(0.5)
    assert len(topics(bybit_ws)) == 10  # Bob still watches ETH
    monitor(client, bob, "stop")
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="ETH unsubscribed")
    assert len(bybit_ws.connections) == 1 and len(yahoo_ws.connections) == 1
    monitor(client, alice, "stop")
    bybit_ws.wait_for(lambda: not bybit_ws.live, what="nothing left to carry")


def test_every_push_is_a_quote_event_and_the_database_gets_a_row_a_second(
    app, client, auth, service, bybit_ws, tap
):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC")
    monitor(client, headers, "start")
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="subscribed")
    sent = []
    for i in range(12):
        ts = int(time.time() * 1000)
        bybit_ws.push_ticker("BTCUSDT", 20000.0 + i, ts)
        sent.append((20000.0 + i, ts))
        time.sleep(0.1)
    quotes = tap.wait_for(lambda t: len(t.of("quote", "symbol:BTCUSDT")) == 12, what="quotes")
    quotes = tap.of("quote", "symbol:BTCUSDT")
    assert [q["price"] for q in quotes] == [p for p, _ in sent]
    # Today's payload, with the venue's clock beside the wall clock.
    assert set(quotes[0]) == set(QuoteSchema().fields)
    assert quotes[0]["symbol_id"] == btc and quotes[0]["source"] == "bybit"
    assert [datetime.fromisoformat(q["source_time"]) for q in quotes] == [
        datetime.fromtimestamp(ts / 1000, UTC) for _, ts in sent
    ]
    time.sleep(2.2)  # the last second is over and written
    with app.app_context():
        rows = db.session.scalars(
            select(MarketData).where(MarketData.symbol_id == btc).order_by(MarketData.ts)
        ).all()
    seconds = [int(r.ts.timestamp()) for r in rows]
    assert len(seconds) == len(set(seconds)) and 1 < len(rows) < 12
    by_second: dict[int, float] = {}
    for q in quotes:
        by_second[int(datetime.fromisoformat(q["ts"]).timestamp())] = q["price"]
    assert [r.price for r in rows] == [by_second[s] for s in seconds]
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert latest[0]["price"] == 20011.0
    # /metrics tells an operator when the venue last pushed and how far behind its clock.
    scraped = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in client.get("/metrics").text.splitlines()
        if line.startswith("photon_stream_")
    }
    pushed = scraped['photon_stream_last_push_timestamp{venue="bybit"}']
    assert sent[-1][1] / 1000 <= pushed <= time.time()
    assert 0 <= scraped['photon_stream_lag_seconds{venue="bybit"}'] < 5


def test_klines_become_bar_events_and_each_closed_bar_is_stored_once(
    app, client, auth, service, bybit_ws, tap
):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC")
    monitor(client, headers, "start")
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="subscribed")
    start = int(time.time()) // 60 * 60 * 1000 - 60_000
    bybit_ws.push_kline("BTCUSDT", "1", start, (100, 101, 99, 100.5, 3), confirm=False)
    bybit_ws.push_kline("BTCUSDT", "1", start, (100, 102, 99, 101.5, 4), confirm=False)
    bybit_ws.push_kline("BTCUSDT", "1", start, (100, 102, 98, 101.0, 5), confirm=True)
    for _ in range(3):  # reconnects, each followed by the same closed candle again
        bybit_ws.drop()
        bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="resubscribed")
        bybit_ws.push_kline("BTCUSDT", "1", start, (100, 102, 98, 101.0, 5), confirm=True)
        bybit_ws.push_kline("BTCUSDT", "1", start, (100, 102, 98, 100.0, 5), confirm=False)
    bybit_ws.push_kline("BTCUSDT", "1", start + 60_000, (101, 101, 101, 101, 0.1), confirm=False)
    tap.wait_for(lambda t: len(t.of("bar")) == 4, what="bar events")
    time.sleep(1.2)
    bars = tap.of("bar", "symbol:BTCUSDT")
    assert [(b["close"], b["closed"]) for b in bars] == [
        (100.5, False),
        (101.5, False),
        (101.0, True),
        (101.0, False),
    ]
    assert bars[2]["interval"] == "1m" and bars[2]["volume"] == 5.0
    assert bars[3]["open_time"] > bars[2]["open_time"]
    with app.app_context():
        stored = db.session.scalars(select(Bar).where(Bar.symbol_id == btc)).all()
    assert [(b.interval, b.close, b.low, b.source) for b in stored] == [
        ("1m", 101.0, 98.0, "bybit")
    ]
    assert len(bybit_ws.connections) == 4


def test_a_closed_decision_bar_queues_auto_decide(client, auth, service, bybit_ws, redis_client):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    started = client.post(
        "/api/trading/agents/decision-maker/", json={"action": "start"}, headers=headers
    )
    assert started.status_code == 200
    monitor(client, headers, "start")
    user_id = client.get("/api/auth/me/", headers=headers).json["id"]
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="subscribed")
    hour = int(time.time()) // 3600 * 3600 * 1000 - 3_600_000
    bybit_ws.push_kline("BTCUSDT", "60", hour, (100, 110, 95, 105, 42), confirm=True)
    deadline = time.monotonic() + 5
    while f"auto-decide-{user_id}" not in Queue(DECISIONS, connection=redis_client).job_ids:
        assert time.monotonic() < deadline, "no auto-decide queued"
        time.sleep(0.1)
    job = Job.fetch(f"auto-decide-{user_id}", connection=redis_client)
    assert job.func_name == "photon.tasks.decisions.decide_fresh_bars"


def _monitor_cycle(run_jobs, redis_client) -> None:
    Queue(MONITOR, connection=redis_client).enqueue("photon.tasks.monitor.periodic_market_update")
    run_jobs()


def _status(app, user_id: int) -> AgentStatus:
    with app.app_context():
        return db.session.scalars(
            select(AgentStatus).where(
                AgentStatus.user_id == user_id, AgentStatus.agent == Agent.MARKET_MONITOR
            )
        ).one()


class Pushing:
    """Tickers pushed every 0.1 s in a thread, as a live venue does, until the block ends."""

    def __init__(self, server, first_price: float) -> None:
        self.server, self.price = server, first_price
        self.sent: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.server.push_ticker("BTCUSDT", self.price)
            self.sent.append(self.price)
            self.price += 1

    def __enter__(self) -> Pushing:
        self._thread.start()
        time.sleep(1.3)  # pushed, written, and the coverage published
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_silence_degrades_polling_covers_and_the_stream_takes_back(
    app, client, auth, service, bybit_ws, tap, exchange, run_jobs, redis_client
):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    monitor(client, headers, "start")
    user_id = client.get("/api/auth/me/", headers=headers).json["id"]
    run_jobs()  # the start's own cycle: nothing streamed yet, so it polls once
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="subscribed")

    with Pushing(bybit_ws, 30000.0) as before:
        exchange.reset_calls()
        _monitor_cycle(run_jobs, redis_client)
        assert exchange.calls("/v5/market/tickers") == 0  # streamed: not polled again
        status = _status(app, user_id)
        assert status.state == "running" and status.counters["symbols_streamed"] == 1

    time.sleep(SILENCE + 0.6)  # the venue goes quiet
    _monitor_cycle(run_jobs, redis_client)
    assert exchange.calls("/v5/market/tickers") == 1
    status = _status(app, user_id)
    assert status.state == "degraded" and "bybit stream silent" in status.last_error
    assert "polling covers it" in status.last_error

    with Pushing(bybit_ws, 40000.0) as after:
        _monitor_cycle(run_jobs, redis_client)
        assert exchange.calls("/v5/market/tickers") == 1  # the stream has it back
        assert _status(app, user_id).state == "running"

    time.sleep(0.3)
    quotes = tap.of("quote", "symbol:BTCUSDT")[1:]  # after the start's own poll
    streamed = before.sent + after.sent
    polled = [q["price"] for q in quotes if q["price"] not in streamed]
    # Every push once, the poll's one quote between the two stretches, venue time rising.
    assert [q["price"] for q in quotes] == before.sent + polled + after.sent
    assert len(polled) == 1
    times = [datetime.fromisoformat(q["source_time"]) for q in quotes]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_a_polled_quote_no_newer_than_the_streamed_one_is_dropped(
    app, client, auth, service, bybit_ws, tap, exchange, run_jobs, redis_client
):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC")
    monitor(client, headers, "start")
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="subscribed")
    # The stream's last quote carries a venue time later than the poll's will be.
    ahead = int(time.time() * 1000) + 60_000
    bybit_ws.push_ticker("BTCUSDT", 30000.0, ahead)
    time.sleep(SILENCE + 1.2)
    with app.app_context():
        before = db.session.scalar(select(func.count()).where(MarketData.symbol_id == btc))
    events = len(tap.of("quote"))
    _monitor_cycle(run_jobs, redis_client)  # the start's cycle and a periodic one
    assert exchange.calls("/v5/market/tickers") >= 1  # polled: the stream is silent
    assert len(tap.of("quote")) == events  # but the poll had nothing newer to tell
    with app.app_context():
        after = db.session.scalar(select(func.count()).where(MarketData.symbol_id == btc))
    assert after == before


def test_one_streamer_per_venue_and_a_standby_takes_over(
    app, client, auth, bybit_ws, yahoo_ws, run_service
):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    monitor(client, headers, "start")
    first = run_service(StreamService(app, venues(bybit_ws, yahoo_ws), lease_ttl=LEASE))
    bybit_ws.wait_for(lambda: topics(bybit_ws) == BTC, what="first streams")
    second = run_service(StreamService(app, venues(bybit_ws, yahoo_ws), lease_ttl=LEASE))
    time.sleep(2 * LEASE)
    assert len(bybit_ws.connections) == 1  # the second waits as a standby
    assert first.leases["bybit"].held and not second.leases["bybit"].held
    # The holder dies without a word: it neither releases nor renews its leases.
    for lease in first.leases.values():
        lease.release = lambda: None
        lease.keep = lambda: True
    first.stop()
    died = time.monotonic()
    bybit_ws.wait_for(lambda: len(bybit_ws.connections) == 2 and topics(bybit_ws) == BTC)
    assert time.monotonic() - died < LEASE + 0.5
    assert second.leases["bybit"].held
