"""The replay provider serves the bundled real bars as a live feed, one bar per tick."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from photon.errors import Invalid, SymbolNotFound
from photon.market.base import Provider
from photon.market.replay.bundled import load_bundled
from photon.market.replay.provider import HISTORY_BARS, REPLAY_SERIES, ReplayProvider
from photon.types import Quote, SymbolInfo

ANCHOR = 1_700_000_030.0  # deliberately not on a tick boundary
TICK = 60.0
PAST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def tick(self, k: int) -> None:
        """Move to just inside the k-th tick after the anchor."""
        self.now = ANCHOR + k * TICK + 0.5


@pytest.fixture
def clock() -> Clock:
    return Clock(ANCHOR)


@pytest.fixture
def replay(clock: Clock) -> ReplayProvider:
    return ReplayProvider(tick_seconds=TICK, clock=clock, anchor=lambda: ANCHOR)


def closes(ticker: str) -> np.ndarray:
    return load_bundled(ticker, REPLAY_SERIES[ticker][0])["close"].to_numpy()


def tick_time(now: float) -> datetime:
    return datetime.fromtimestamp(math.floor(now / TICK) * TICK, UTC)


def test_is_a_provider(replay):
    provider: Provider = replay
    assert provider.name == "replay"


def test_default_start_leaves_history_and_groups_share_a_date(replay):
    for ticker in REPLAY_SERIES:
        assert replay.start_index(ticker) >= HISTORY_BARS
        assert replay.cursor(ticker) == replay.start_index(ticker)
    stocks = {replay.historical_time(t) for t in ("AAPL", "MSFT", "IBM", "GOOG")}
    crypto = {replay.historical_time(t) for t in ("BTCUSDT", "ETHUSDT")}
    assert len(stocks) == 1 and len(crypto) == 1
    assert replay.start_index("GOOG") == HISTORY_BARS  # the latest-starting series sets the date


@pytest.mark.parametrize("ticker", ["BTCUSDT", "AAPL"])
def test_advances_exactly_one_bar_per_tick(replay, clock, ticker):
    start, real = replay.start_index(ticker), closes(ticker)
    for k in (0, 1, 2, 3, 59, 60, 61, 1000):
        clock.tick(k)
        assert replay.cursor(ticker) == start + k
        assert replay.quotes([ticker])[ticker].price == real[start + k]
        clock.now = ANCHOR + (k + 1) * TICK - 0.001  # the last instant of the same tick
        assert replay.cursor(ticker) == start + k


def test_quote_is_historical_price_with_a_live_timestamp(replay, clock):
    clock.tick(7)
    quote = replay.quotes(["BTCUSDT"])["BTCUSDT"]
    i = replay.cursor("BTCUSDT")
    frame = load_bundled("BTCUSDT", "1h")
    previous, current = frame["close"].iloc[i - 1], frame["close"].iloc[i]
    assert isinstance(quote, Quote)
    assert (quote.source, quote.currency, quote.bid, quote.ask) == ("replay", "USD", None, None)
    assert quote.ts == tick_time(clock.now)
    assert quote.ts.tzinfo is not None
    assert quote.price == current
    assert quote.change == pytest.approx(current - previous)
    assert quote.change_pct == pytest.approx((current - previous) / previous * 100, abs=1e-6)
    assert quote.volume == frame["volume"].iloc[i]


def test_wraps_back_to_the_start_bar_after_the_last(replay, clock):
    for ticker in ("BTCUSDT", "GOOG"):
        start, n = replay.start_index(ticker), len(closes(ticker))
        span = n - start
        clock.tick(span - 1)
        assert replay.cursor(ticker) == n - 1
        clock.tick(span)
        assert replay.cursor(ticker) == start
        clock.tick(2 * span + 3)
        assert replay.cursor(ticker) == start + 3


def test_clock_before_the_anchor_counts_as_the_first_tick(replay, clock):
    clock.now = ANCHOR - 3600
    assert replay.cursor("ETHUSDT") == replay.start_index("ETHUSDT")


def test_anchor_defaults_to_construction_time_and_is_read_on_each_call(clock):
    clock.now = 1_800_000_000.0
    replay = ReplayProvider(tick_seconds=10, clock=clock)
    start = replay.start_index("IBM")
    clock.now += 25
    assert replay.cursor("IBM") == start + 2

    shared = [1_800_000_000.0]
    replay = ReplayProvider(tick_seconds=10, clock=clock, anchor=lambda: shared[0])
    assert replay.cursor("IBM") == start + 2
    shared[0] -= 100  # another process began the replay earlier
    assert replay.cursor("IBM") == start + 12


def test_bars_never_come_from_the_future_of_the_replay(replay, clock):
    clock.tick(42)
    bars = replay.bars("BTCUSDT", "1h", PAST, FUTURE)
    cursor = replay.cursor("BTCUSDT")
    assert len(bars) == cursor + 1
    assert bars[-1].close == replay.quotes(["BTCUSDT"])["BTCUSDT"].price
    real = load_bundled("BTCUSDT", "1h").iloc[: cursor + 1]
    assert [b.close for b in bars] == real["close"].tolist()


def test_bars_keep_their_real_times_and_the_clock_is_the_cursor(replay, clock):
    clock.tick(5)
    bars = replay.bars("BTCUSDT", "1h", PAST, FUTURE)
    real = load_bundled("BTCUSDT", "1h")["open_time"].iloc[: len(bars)]
    assert [b.open_time for b in bars] == [t.to_pydatetime() for t in real]
    assert all(b.open_time.tzinfo is not None and b.interval == "1h" for b in bars)
    assert replay.clock("BTCUSDT") == bars[-1].open_time  # the cursor bar is the forming one
    daily = replay.bars("AAPL", "1d", PAST, FUTURE)
    assert replay.clock("AAPL") == daily[-1].open_time


def test_bars_filter_start_inclusive_end_exclusive(replay, clock):
    clock.tick(3)
    every = replay.bars("ETHUSDT", "1h", PAST, FUTURE)
    start, end = every[-10].open_time, every[-3].open_time
    window = replay.bars("ETHUSDT", "1h", start, end)
    assert window == every[-10:-3]
    assert replay.bars("ETHUSDT", "1h", every[-1].open_time + timedelta(hours=1), FUTURE) == []
    naive = replay.bars("ETHUSDT", "1h", start.replace(tzinfo=None), end.replace(tzinfo=None))
    assert naive == window  # naive datetimes are taken as UTC


def test_stored_bars_never_change_whatever_the_tick_speed(clock):
    clock.now = 1_800_000_000.0
    replay = ReplayProvider(tick_seconds=7, clock=clock)
    before = replay.bars("BTCUSDT", "1h", PAST, FUTURE)
    clock.now += 7
    after = replay.bars("BTCUSDT", "1h", PAST, FUTURE)
    assert after[:-1] == before  # nothing moved; one new bar appeared at the new hour
    assert after[-1].open_time - before[-1].open_time == timedelta(hours=1)


def test_other_intervals(replay, clock):
    clock.tick(30)
    assert replay.bars("AAPL", "1h", PAST, FUTURE) == []
    assert replay.bars("BTCUSDT", "1m", PAST, FUTURE) == []
    assert replay.bars("BTCUSDT", "5m", PAST, FUTURE) == []
    with pytest.raises(Invalid):
        replay.bars("BTCUSDT", "2h", PAST, FUTURE)

    hourly = replay.bars("BTCUSDT", "1h", PAST, FUTURE)
    daily = replay.bars("BTCUSDT", "1d", PAST, FUTURE)
    today = [b for b in hourly if b.open_time >= daily[-1].open_time]
    assert daily[-1].interval == "1d"
    assert daily[-1].open_time.hour == 0
    assert daily[-1].close == hourly[-1].close  # today's day bar is still forming, as live
    assert daily[-1].open == today[0].open
    assert daily[-1].high == max(b.high for b in today)
    assert daily[-1].low == min(b.low for b in today)
    assert daily[-1].volume == pytest.approx(sum(b.volume for b in today))
    later = [b for b in daily if b.open_time >= daily[-3].open_time]
    assert replay.bars("BTCUSDT", "1d", daily[-3].open_time, FUTURE) == later


def test_unknown_tickers(replay):
    result = replay.quotes(["AAPL", "TSLA"])
    assert isinstance(result["AAPL"], Quote)
    assert isinstance(result["TSLA"], SymbolNotFound)
    assert "replay mode knows: AAPL" in result["TSLA"].message
    with pytest.raises(SymbolNotFound, match="not in the bundled replay history"):
        replay.describe("TSLA")
    with pytest.raises(SymbolNotFound):
        replay.bars("TSLA", "1d", PAST, FUTURE)


def test_describe(replay):
    assert replay.describe("AAPL") == SymbolInfo(
        ticker="AAPL",
        asset_class="stock",
        source="replay",
        name="Apple Inc. (replay)",
        currency="USD",
        exchange="replay",
    )
    assert replay.describe("ETHUSDT").asset_class == "crypto"


def test_configured_start_moves_the_series_that_cover_it(clock):
    replay = ReplayProvider(start="2021-01-01", clock=clock, anchor=lambda: ANCHOR)
    assert replay.historical_time("BTCUSDT") == datetime(2021, 1, 1, tzinfo=UTC)
    default = ReplayProvider(clock=clock, anchor=lambda: ANCHOR)
    assert replay.start_index("AAPL") == default.start_index("AAPL")

    replay = ReplayProvider(start="2008-09-15T00:00:00Z", clock=clock, anchor=lambda: ANCHOR)
    assert replay.historical_time("AAPL") == datetime(2008, 9, 15, tzinfo=UTC)
    assert replay.start_index("ETHUSDT") == default.start_index("ETHUSDT")


def test_bad_settings_are_refused(clock):
    with pytest.raises(ValueError, match="ISO date"):
        ReplayProvider(start="next tuesday", clock=clock)
    with pytest.raises(ValueError, match="positive"):
        ReplayProvider(tick_seconds=0, clock=clock)
