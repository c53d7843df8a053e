"""Forming bars from ticks (Yahoo's streamer pushes prices, no candles)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from photon.market.streams.bars import TickBars

T0 = datetime(2024, 3, 5, 15, 0, tzinfo=UTC)


def test_ticks_open_grow_and_close_bars_per_interval():
    bars = TickBars(("1m", "5m"))
    bars.tick("AAPL", T0 + timedelta(seconds=5), 100.0, 1_000)
    bars.tick("AAPL", T0 + timedelta(seconds=20), 101.0, 1_200)
    out = bars.tick("AAPL", T0 + timedelta(seconds=40), 99.5, 1_250)
    forming = {b.interval: b for b, closed in out if not closed}
    assert (forming["1m"].open, forming["1m"].high, forming["1m"].low) == (100.0, 101.0, 99.5)
    assert forming["1m"].volume == 250.0 and forming["5m"].open_time == T0
    out = bars.tick("AAPL", T0 + timedelta(seconds=65), 100.5, 1_300)
    closed = [b for b, c in out if c]
    assert [b.interval for b in closed] == ["1m"] and closed[0].close == 99.5
    new = next(b for b, c in out if not c and b.interval == "1m")
    assert new.open_time == T0 + timedelta(minutes=1) and new.volume == 50.0


def test_a_late_tick_of_a_closed_bar_is_ignored():
    bars = TickBars(("1m",))
    bars.tick("A", T0, 10.0, None)
    bars.tick("A", T0 + timedelta(minutes=1), 11.0, None)
    assert bars.tick("A", T0 + timedelta(seconds=59), 9.0, None) == []


def test_quiet_bars_close_when_their_interval_is_over():
    bars = TickBars(("1m", "5m"))
    bars.tick("A", T0 + timedelta(seconds=1), 10.0, None)
    assert bars.expire(T0 + timedelta(seconds=59)) == []
    assert [b.interval for b in bars.expire(T0 + timedelta(minutes=1))] == ["1m"]
    assert [b.interval for b in bars.expire(T0 + timedelta(minutes=5))] == ["5m"]
    # Both bars are over: a late tick for them opens nothing.
    assert bars.tick("A", T0 + timedelta(seconds=30), 10.0, None) == []


def test_a_new_day_restarts_the_volume_count():
    bars = TickBars(("1m",))
    bars.tick("A", T0, 10.0, 9_000_000)
    out = bars.tick("A", T0 + timedelta(days=1), 10.0, 500)
    assert next(b for b, c in out if not c).volume == 0.0
