"""Forming bars built from price ticks, for a venue whose stream pushes no candles (Yahoo's
streamer pushes prices only).

OHLC come from the pushed prices; volume from the growth of the day's cumulative volume that each
push carries. Yahoo samples its pushes, and the first bar after a (re)connect misses whatever
came before, so these bars are a live approximation of the venue's own candles: they are shown
live and never stored (stored bars come from Yahoo's chart endpoint).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from photon.types import INTERVAL_SECONDS, Bar


@dataclass
class _Forming:
    bar: Bar
    base_volume: float | None  # the day's volume when the bar opened


class TickBars:
    def __init__(self, intervals: tuple[str, ...] = ("1m", "5m")) -> None:
        self.intervals = intervals
        self._forming: dict[tuple[str, str], _Forming] = {}
        self._closed: dict[tuple[str, str], datetime] = {}  # open time of the last bar closed
        self._last_volume: dict[str, float] = {}

    def tick(
        self, ticker: str, at: datetime, price: float, day_volume: float | None
    ) -> list[tuple[Bar, bool]]:
        """Fold one tick in; returns the bars it closed (``True``) and the forming ones."""
        out: list[tuple[Bar, bool]] = []
        before = self._last_volume.get(ticker)
        if day_volume is not None:
            if before is None or day_volume < before:
                # The first tick seen, or a new trading day restarted the count: the volume
                # before this tick is unknown, so bars count from here.
                before = day_volume
            self._last_volume[ticker] = day_volume
        for interval in self.intervals:
            step = INTERVAL_SECONDS[interval]
            opened = datetime.fromtimestamp(int(at.timestamp()) // step * step, UTC)
            key = (ticker, interval)
            if key in self._closed and opened <= self._closed[key]:
                continue  # a late tick of a bar already closed
            forming = self._forming.get(key)
            if forming is not None and opened > forming.bar.open_time:
                out.append((forming.bar, True))
                self._closed[key] = forming.bar.open_time
                forming = None
            if forming is None:
                bar = Bar(ticker, interval, opened, price, price, price, price, 0.0)
                forming = self._forming[key] = _Forming(bar, before)
            bar = forming.bar
            volume = bar.volume
            if day_volume is not None and forming.base_volume is not None:
                volume = max(0.0, day_volume - forming.base_volume)
            forming.bar = replace(
                bar, high=max(bar.high, price), low=min(bar.low, price), close=price, volume=volume
            )
            out.append((forming.bar, False))
        return out

    def expire(self, now: datetime) -> list[Bar]:
        """Close the bars whose interval ended before ``now`` with no tick after it (the
        market closed, or the symbol went quiet)."""
        closed = []
        for key, forming in list(self._forming.items()):
            end = forming.bar.open_time + timedelta(seconds=INTERVAL_SECONDS[forming.bar.interval])
            if end <= now:
                closed.append(forming.bar)
                self._closed[key] = forming.bar.open_time
                del self._forming[key]
        return closed

    def reset(self) -> None:
        """After a reconnect the volume count restarts: a gap's volume is unknown."""
        self._last_volume.clear()
