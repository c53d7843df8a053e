"""Replay as a stream: each replayed bar pushed as sub-ticks that walk its real price path, a
forming bar that grows with them, and the real bar once its tick is over."""

from __future__ import annotations

from datetime import timedelta

import pytest

from photon.market.replay.provider import ReplayProvider
from photon.market.streams.replay import ReplayStream, price_path
from photon.types import Bar

ANCHOR = 1_700_000_000.0
TICK = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = ANCHOR

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def replay(clock) -> ReplayProvider:
    return ReplayProvider(tick_seconds=TICK, clock=clock, anchor=lambda: ANCHOR)


def test_the_path_walks_open_low_high_close_on_a_rising_bar():
    bar = Bar("X", "1h", None, open=10.0, high=14.0, low=9.0, close=13.0, volume=1.0)
    assert price_path(bar, 4) == [10.0, 9.0, 14.0, 13.0]
    assert price_path(bar, 7) == [10.0, 9.5, 9.0, 11.5, 14.0, 13.5, 13.0]
    falling = Bar("X", "1h", None, open=13.0, high=14.0, low=9.0, close=10.0, volume=1.0)
    assert price_path(falling, 4) == [13.0, 14.0, 9.0, 10.0]
    assert price_path(bar, 1) == [13.0]


def test_sub_ticks_walk_each_real_bar_and_the_bar_closes_as_stored(replay, clock, sink, started):
    stream = started(ReplayStream(replay, subticks=4, clock=clock), sink, ["BTCUSDT"])

    def step(k: int, sub: int) -> None:
        clock.now = ANCHOR + k * TICK + (sub + 0.5) * TICK / 4
        count = len(sink.quotes)
        stream._wake()
        sink.wait_for(lambda s: len(s.quotes) > count)

    sink.wait_for(lambda s: s.quotes)  # sub-step 0 of tick 0, pushed at start
    for sub in (1, 2, 3):
        step(0, sub)
    first = replay.playing("BTCUSDT", ANCHOR).bar
    prices = [q.price for q in sink.quotes]
    assert prices == price_path(first, 4)
    # The last step of a tick is the close, what polling the replay shows.
    clock.now = ANCHOR + TICK - 1
    assert prices[-1] == replay.quotes(["BTCUSDT"])["BTCUSDT"].price
    # Venue time walks through the bar's historical hour; ts is today.
    times = [q.source_time for q in sink.quotes]
    assert times == [first.open_time + timedelta(minutes=15 * j) for j in range(4)]
    assert all(q.source == "replay" and q.ts.year > 2024 for q in sink.quotes)
    forming = [b for b, closed in sink.bars if not closed]
    assert forming[-1] == first  # after the last step the forming bar is the real bar

    step(1, 0)
    closed = [b for b, c in sink.bars if c]
    assert closed == [first]
    real = replay.bars("BTCUSDT", "1h", first.open_time, first.open_time + timedelta(hours=1))
    assert closed[0] == real[0]
    second = replay.playing("BTCUSDT", clock.now).bar
    assert sink.quotes[-1].price == second.open
    assert second.open_time == first.open_time + timedelta(hours=1)


def test_a_tick_skipped_while_paused_still_closes_the_bar_that_was_playing(
    replay, clock, sink, started
):
    stream = started(ReplayStream(replay, subticks=4, clock=clock), sink, ["AAPL"])
    sink.wait_for(lambda s: s.quotes)
    playing = replay.playing("AAPL", ANCHOR).bar
    clock.now = ANCHOR + 3 * TICK + 1
    stream._wake()
    sink.wait_for(lambda s: any(c for _, c in s.bars))
    assert [b for b, c in sink.bars if c] == [playing]
    assert playing.interval == "1d"
