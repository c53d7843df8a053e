"""Yahoo's streamer through yfinance's real AsyncWebSocket, against a local server speaking
Yahoo's protocol: subscribe lists, the 15 s heartbeat, base64 PricingData pushes built with
yfinance's own protobuf class."""

from __future__ import annotations

import base64
import logging
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from google.protobuf.json_format import MessageToDict
from yfinance.pricing_pb2 import PricingData

from photon.market.streams.yahoo import YahooStream, pricing_quote, us_session_open
from tests.fakes.yahoo_ws import DATA
from tests.market.streams.conftest import fast_backoff

NEW_YORK = "America/New_York"


def stream(server, **kwargs) -> YahooStream:
    kwargs.setdefault("exchange_zone", lambda _ticker: NEW_YORK)
    return YahooStream(server.url, backoff=fast_backoff(), **kwargs)


def subscribed(server, wanted: set[str]):
    return lambda: len(server.live) == 1 and server.live[0].topics == wanted


def test_the_recorded_push_decodes_to_the_quote_it_holds():
    data = PricingData()
    data.ParseFromString(base64.b64decode((DATA / "yahoo_ws_pricing_BTC-USD.b64").read_text()))
    quote = pricing_quote(MessageToDict(data, preserving_proto_field_name=True), datetime.now(UTC))
    assert (quote.ticker, quote.price, quote.currency) == ("BTC-USD", 51078.07, "USD")
    assert quote.source_time == datetime.fromtimestamp(1638862682, UTC)
    assert quote.change == 2962.0508 and quote.change_pct == 6.1560607
    assert quote.volume == 37793116160.0 and quote.source == "yahoo"


def test_subscribes_repeats_it_as_heartbeat_and_reads_pushes(yahoo_ws, sink, started):
    started(stream(yahoo_ws, heartbeat=0.2), sink, ["AAPL"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL"}), what="subscribed")
    yahoo_ws.wait_for(lambda: yahoo_ws.subscribe_messages >= 3, what="heartbeats")
    assert yahoo_ws.live[0].received[0] == {"subscribe": ["AAPL"]}
    assert set(map(str, yahoo_ws.live[0].received)) == {"{'subscribe': ['AAPL']}"}
    at = int(time.time() * 1000)
    yahoo_ws.push("AAPL", 190.25, at, change=1.25, change_percent=0.66, day_volume=5_000_000)
    quote = sink.wait_for(lambda s: s.quotes)[0]
    assert (quote.ticker, quote.price, quote.change, quote.volume) == (
        "AAPL",
        190.25,
        1.25,
        5_000_000.0,
    )
    assert round(quote.change_pct, 4) == 0.66
    assert quote.source_time == datetime.fromtimestamp(at / 1000, UTC)


def test_watch_changes_follow_on_the_same_connection(yahoo_ws, sink, started):
    venue = started(stream(yahoo_ws), sink, ["AAPL"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL"}), what="AAPL")
    venue.set_symbols(["AAPL", "MSFT"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL", "MSFT"}), what="AAPL and MSFT")
    venue.set_symbols(["MSFT"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"MSFT"}), what="MSFT only")
    assert {"unsubscribe": ["AAPL"]} in yahoo_ws.live[0].received
    assert len(yahoo_ws.connections) == 1 and venue.connects == 1


def test_a_dropped_connection_reconnects_and_resubscribes(yahoo_ws, sink, started):
    venue = started(stream(yahoo_ws), sink, ["AAPL", "MSFT"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL", "MSFT"}), what="subscribed")
    yahoo_ws.drop()
    yahoo_ws.wait_for(lambda: len(yahoo_ws.connections) == 2, what="reconnected")
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL", "MSFT"}), what="resubscribed")
    yahoo_ws.drop(clean=True)
    yahoo_ws.wait_for(lambda: len(yahoo_ws.connections) == 3, what="reconnected again")
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL", "MSFT"}), what="resubscribed again")
    yahoo_ws.push("MSFT", 410.5)
    assert sink.wait_for(lambda s: s.quotes)[0].price == 410.5 and venue.connects == 3


def test_garbage_frames_are_logged_and_skipped(yahoo_ws, sink, started, caplog):
    venue = started(stream(yahoo_ws), sink, ["AAPL"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL"}), what="subscribed")
    with caplog.at_level(logging.WARNING, logger="photon.market.streams.yahoo"):
        yahoo_ws.send_raw("not json at all")
        yahoo_ws.send_raw('{"type": "pricing", "message": "%%% not base64 %%%"}')
        yahoo_ws.send_raw('{"type": "pricing"}')
        yahoo_ws.push("AAPL", 191.0)
        assert sink.wait_for(lambda s: s.quotes)[0].price == 191.0
    skipped = [r for r in caplog.records if "skipped a frame" in r.getMessage()]
    assert len(skipped) >= 2
    assert len(yahoo_ws.connections) == 1 and venue.connects == 1


def test_forming_bars_from_ticks_and_the_day_bar_from_the_push(yahoo_ws, sink, started):
    started(stream(yahoo_ws), sink, ["AAPL"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL"}), what="subscribed")
    day = {"open_price": 189.0, "day_high": 192.0, "day_low": 188.5}
    minute = int(time.time()) // 60 * 60 * 1000
    yahoo_ws.push("AAPL", 190.0, minute + 1_000, day_volume=1_000, **day)
    yahoo_ws.push("AAPL", 190.8, minute + 2_000, day_volume=1_300, **day)
    yahoo_ws.push("AAPL", 189.9, minute + 3_000, day_volume=1_450, **day)
    yahoo_ws.push("AAPL", 191.0, minute + 61_000, day_volume=1_500, **day)
    sink.wait_for(lambda s: s.quotes and len(s.quotes) == 4)
    sink.wait_for(lambda s: any(closed for _, closed in s.bars))
    one_minute = [(b, c) for b, c in sink.bars if b.interval == "1m"]
    closed = [b for b, c in one_minute if c]
    assert len(closed) == 1
    bar = closed[0]
    assert bar.open_time == datetime.fromtimestamp(minute / 1000, UTC)
    assert (bar.open, bar.high, bar.low, bar.close) == (190.0, 190.8, 189.9, 189.9)
    assert bar.volume == 450.0  # the day's volume grew by 450 within the minute
    assert one_minute[-1][0].close == 191.0 and one_minute[-1][1] is False
    daily = [b for b, c in sink.bars if b.interval == "1d"][-1]
    # Dated at midnight in New York, as Yahoo's daily bars are.
    local = daily.open_time.astimezone(ZoneInfo(NEW_YORK))
    assert (local.hour, local.minute) == (0, 0)
    assert (daily.open, daily.high, daily.low, daily.close, daily.volume) == (
        189.0,
        192.0,
        188.5,
        191.0,
        1_500.0,
    )


def test_pre_market_pushes_are_quotes_but_not_bars(yahoo_ws, sink, started):
    started(stream(yahoo_ws), sink, ["AAPL"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"AAPL"}), what="subscribed")
    yahoo_ws.push("AAPL", 190.0, market_hours=0)
    sink.wait_for(lambda s: s.quotes)
    time.sleep(0.1)
    assert sink.bars == []


def test_a_closed_market_is_quiet_not_silent(yahoo_ws, sink, started):
    venue = started(stream(yahoo_ws, silence=0.2, session_open=lambda _now: False), sink, ["A"])
    yahoo_ws.wait_for(subscribed(yahoo_ws, {"A"}), what="subscribed")
    time.sleep(0.4)
    assert venue.health(datetime.now(UTC)).state == "streaming"
    venue.expected_silence = lambda _now: 0.2  # the session opens
    assert venue.health(datetime.now(UTC)).state == "silent"


def test_the_us_session():
    assert us_session_open(datetime(2024, 3, 5, 15, 0, tzinfo=UTC))  # Tuesday 10:00 New York
    assert not us_session_open(datetime(2024, 3, 5, 21, 30, tzinfo=UTC))  # 16:30
    assert not us_session_open(datetime(2024, 3, 9, 15, 0, tzinfo=UTC))  # Saturday
