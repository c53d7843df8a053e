"""Bybit's spot stream through the real pybit WebSocket, against a local server speaking Bybit's
protocol: subscribe answers, pongs, ticker snapshots and klines in the recorded formats."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from photon.market.streams.bybit import BybitStream, ticker_quote, topics
from tests.market.streams.conftest import fast_backoff

BTC_TOPICS = set(topics("BTCUSDT"))


def stream(server, **kwargs) -> BybitStream:
    return BybitStream(server.url, backoff=fast_backoff(), **kwargs)


def subscribed(server, wanted: set[str]):
    return lambda: len(server.live) == 1 and server.live[0].topics == wanted


def test_one_connection_subscribes_a_pair_and_reads_the_recorded_ticker(bybit_ws, sink, started):
    started(stream(bybit_ws), sink, ["BTCUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS), what="subscribed")
    # pybit sends one subscribe per topic, each with its own req_id, and Bybit answered each.
    requests = [m for m in bybit_ws.sent_by_clients() if m.get("op") == "subscribe"]
    assert sorted(a for m in requests for a in m["args"]) == sorted(BTC_TOPICS)
    assert all(m["req_id"] for m in requests)

    recorded = bybit_ws.recorded("tickers_spot_BTCUSDT")
    assert bybit_ws.push(recorded) == 1
    quote = sink.wait_for(lambda s: s.quotes)[0]
    assert quote.ticker == "BTCUSDT" and quote.source == "bybit"
    assert quote.price == 16363.78 and quote.volume == 5865.470182
    # As the REST quote: change against 24 h ago, in the digits sent; percent, not a fraction.
    assert quote.change == -79.88 and quote.change_pct == -0.49
    assert quote.currency == "USDT" and quote.bid is None and quote.ask is None
    assert quote.source_time == datetime.fromtimestamp(1672305380.595, UTC)
    assert (datetime.now(UTC) - quote.ts).total_seconds() < 5


def test_a_linear_snapshot_carries_bid_and_ask():
    from tests.fakes.bybit_ws import FakeBybitStream

    quote = ticker_quote(FakeBybitStream.recorded("tickers_linear_BTCUSDT"), datetime.now(UTC))
    assert (quote.bid, quote.ask, quote.price) == (17215.5, 17216.0, 17216.0)


def test_klines_form_then_close(bybit_ws, sink, started):
    started(stream(bybit_ws), sink, ["BTCUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS), what="subscribed")
    bybit_ws.push(bybit_ws.recorded("kline_5_BTCUSDT"))  # confirm: false, as recorded
    start = 1672324800000
    bybit_ws.push_kline("BTCUSDT", "5", start, (16649.5, 16690, 16608, 16680, 3.5), confirm=True)
    sink.wait_for(lambda s: len(s.bars) == 2)
    (forming, open_), (done, closed) = sink.bars
    assert (open_, closed) == (False, True)
    assert forming.interval == done.interval == "5m"
    assert forming.open_time == done.open_time == datetime.fromtimestamp(start / 1000, UTC)
    assert (forming.close, forming.high, forming.volume) == (16677.0, 16677.0, 2.081)
    assert (done.open, done.high, done.low, done.close, done.volume) == (
        16649.5,
        16690.0,
        16608.0,
        16680.0,
        3.5,
    )


def test_watch_changes_subscribe_and_unsubscribe_on_the_same_connection(bybit_ws, sink, started):
    venue = started(stream(bybit_ws), sink, ["BTCUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS), what="BTC")
    eth = set(topics("ETHUSDT"))
    venue.set_symbols(["BTCUSDT", "ETHUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS | eth), what="BTC and ETH")
    venue.set_symbols(["ETHUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, eth), what="ETH only")
    assert len(bybit_ws.connections) == 1 and venue.connects == 1
    sent = bybit_ws.sent_by_clients()
    # pybit unsubscribes with the req_id of the subscription, as Bybit's answer expects.
    subscribe_ids = {m["args"][0]: m["req_id"] for m in sent if m.get("op") == "subscribe"}
    for message in (m for m in sent if m.get("op") == "unsubscribe"):
        assert message["req_id"] == subscribe_ids[message["args"][0]]
    assert bybit_ws.push_ticker("BTCUSDT", 1.0) == 0
    assert bybit_ws.push_ticker("ETHUSDT", 2.0) == 1
    assert sink.wait_for(lambda s: s.quotes)[0].ticker == "ETHUSDT"


def test_a_dropped_connection_reconnects_and_resubscribes_everything(bybit_ws, sink, started):
    venue = started(stream(bybit_ws), sink, ["BTCUSDT", "ETHUSDT"])
    every = BTC_TOPICS | set(topics("ETHUSDT"))
    bybit_ws.wait_for(subscribed(bybit_ws, every), what="subscribed")
    bybit_ws.drop()  # no close frame: a dead link
    bybit_ws.wait_for(lambda: len(bybit_ws.connections) == 2, what="reconnected")
    bybit_ws.wait_for(subscribed(bybit_ws, every), what="resubscribed")
    bybit_ws.drop(clean=True)  # a close frame: Bybit restarting
    bybit_ws.wait_for(lambda: len(bybit_ws.connections) == 3, what="reconnected again")
    bybit_ws.wait_for(subscribed(bybit_ws, every), what="resubscribed again")
    assert venue.connects == 3
    bybit_ws.push_ticker("ETHUSDT", 1552.5)
    assert sink.wait_for(lambda s: s.quotes)[0].price == 1552.5


def test_a_refused_connection_is_retried_with_backoff(sink, started):
    from tests.fakes.bybit_ws import FakeBybitStream

    server = FakeBybitStream().start()
    url = server.url
    server.stop()  # nobody listens on that port now
    venue = started(BybitStream(url, backoff=fast_backoff()), sink, ["BTCUSDT"])
    time.sleep(0.5)
    assert not venue.connected and venue.backoff.attempt >= 2
    assert venue.health(datetime.now(UTC)).state == "down"


def test_a_garbage_frame_is_logged_and_skipped(bybit_ws, sink, started, caplog):
    venue = started(stream(bybit_ws), sink, ["BTCUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS), what="subscribed")
    with caplog.at_level(logging.WARNING, logger="photon.market.streams.bybit"):
        bybit_ws.send_raw("<html>502 Bad Gateway</html>")
        bybit_ws.send_raw('{"topic": "tickers.BTCUSDT", "data": {"symbol": "BTCUSDT"}}')
        bybit_ws.push_ticker("BTCUSDT", 16400.0)
        quote = sink.wait_for(lambda s: s.quotes)[0]
    assert quote.price == 16400.0
    skipped = [r.getMessage() for r in caplog.records if "skipped a frame" in r.getMessage()]
    assert len(skipped) == 2 and "502 Bad Gateway" in skipped[0]
    assert len(bybit_ws.connections) == 1 and venue.connects == 1


def test_pybit_pings_and_reads_the_spot_pong(bybit_ws, sink, started, caplog):
    with caplog.at_level(logging.WARNING):
        venue = started(stream(bybit_ws, ping_interval=0.4), sink, ["BTCUSDT"])
        bybit_ws.wait_for(lambda: bybit_ws.pings >= 3, what="three pings")
    pings = [m for m in bybit_ws.sent_by_clients() if m.get("op") == "ping"]
    assert pings[0] == {"op": "ping"}
    # The pongs were recognised as such, not taken for garbage; the connection stayed up.
    assert not [r for r in caplog.records if "skipped" in r.getMessage()]
    assert venue.connects == 1 and len(bybit_ws.connections) == 1


def test_silence_longer_than_the_push_interval_is_silent(bybit_ws, sink, started):
    venue = started(stream(bybit_ws, silence=0.3), sink, ["BTCUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS), what="subscribed")
    assert venue.health(datetime.now(UTC)).state == "streaming"
    time.sleep(0.5)
    health = venue.health(datetime.now(UTC))
    assert health.state == "silent" and "no push" in health.detail
    bybit_ws.push_ticker("BTCUSDT", 1.0)
    sink.wait_for(lambda s: s.quotes)
    assert venue.health(datetime.now(UTC)).state == "streaming"


def test_nothing_to_carry_holds_no_connection(bybit_ws, sink, started):
    venue = started(stream(bybit_ws), sink, [])
    time.sleep(0.3)
    assert bybit_ws.connections == [] and venue.health(datetime.now(UTC)).state == "idle"
    venue.set_symbols(["BTCUSDT"])
    bybit_ws.wait_for(subscribed(bybit_ws, BTC_TOPICS), what="subscribed")
    venue.set_symbols([])
    bybit_ws.wait_for(lambda: not bybit_ws.live, what="closed")
