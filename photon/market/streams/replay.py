"""Replay as a stream: the bundled history pushed through the same path as a venue's pushes.

Each replay tick plays one real bar (``ReplayProvider``: the bar at the cursor). Within the tick
the stream pushes ``subticks`` quotes that walk the bar's price path, open, then low and high (high
first on a falling bar), then close, and a forming bar that grows with them; the last step of a
tick is the bar's close, the price ``ReplayProvider.quotes()`` shows. These steps are
interpolated inside a real bar, not recorded trades, and their ``source_time`` is interpolated
the same way through the bar's historical hour or day. When the tick ends, the real bar is pushed
closed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from photon.market.replay.provider import Playing, ReplayProvider
from photon.market.streams.base import VenueStream
from photon.types import INTERVAL_SECONDS, Bar, Quote, Source

log = logging.getLogger(__name__)


def price_path(bar: Bar, steps: int) -> list[float]:
    """``steps`` prices through open, the two extremes (the nearer-to-open first: low on a
    rising bar) and close, spaced evenly; with 4, 7, 10 ... steps every extreme is hit."""
    if steps == 1:
        return [bar.close]
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    points = [bar.open, first, second, bar.close]
    out = []
    for j in range(steps):
        at = j / (steps - 1) * 3
        k = min(2, int(at))
        out.append(round(points[k] + (points[k + 1] - points[k]) * (at - k), 8))
    return out


class ReplayStream(VenueStream):
    source = Source.REPLAY
    # Replay serves every symbol, whatever venue it was detected for (``Providers``).
    carries = tuple(Source)

    def __init__(
        self,
        provider: ReplayProvider,
        subticks: int = 4,
        silence: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # Quiet means three sub-ticks missed, however slow the replay runs.
        super().__init__(max(silence, 3 * provider.tick_seconds / subticks))
        self.provider = provider
        self.subticks = subticks
        self._clock = clock
        self._woken = threading.Event()
        # ticker -> (tick, sub-step) last pushed, and the bar of that tick
        self._played: dict[str, tuple[int, int, Bar]] = {}

    def _wake(self) -> None:
        self._woken.set()

    def _session(self) -> None:
        # Nothing to connect to: the session lasts until ``stop``.
        self._connected_now()
        tick = self.provider.tick_seconds
        while not self._stop.is_set() and self.wanted:
            self._woken.clear()
            now = self._clock()
            waits = [tick / self.subticks]
            for ticker in sorted(self.wanted):
                try:
                    playing = self.provider.playing(ticker, now)
                except Exception as exc:  # a ticker replay does not know
                    log.debug("replay stream: %s: %s", ticker, exc)
                    continue
                self._push(ticker, playing)
                step_length = tick / self.subticks
                waits.append((1 - (playing.progress * self.subticks) % 1) * step_length)
            for ticker in set(self._played) - self.wanted:
                del self._played[ticker]
            self._woken.wait(max(0.001, min(waits)))

    def _push(self, ticker: str, playing: Playing) -> None:
        sub = min(self.subticks - 1, int(playing.progress * self.subticks))
        before = self._played.get(ticker)
        if before is not None and before[:2] == (playing.step, sub):
            return
        if before is not None and before[0] < playing.step:
            # The previous tick's bar is complete: the real one, as stored.
            self._bar(before[2], True)
        self._played[ticker] = (playing.step, sub, playing.bar)
        bar, path = playing.bar, price_path(playing.bar, self.subticks)[: sub + 1]
        price = path[-1]
        step = timedelta(seconds=INTERVAL_SECONDS[bar.interval] * sub / self.subticks)
        change = change_pct = None
        if playing.previous_close:
            change = round(price - playing.previous_close, 10)
            change_pct = round(change / playing.previous_close * 100, 6)
        volume = round(bar.volume * (sub + 1) / self.subticks, 8)
        self._quote(
            Quote(
                ticker=ticker,
                price=price,
                ts=datetime.now(UTC),
                source=Source.REPLAY,
                change=change,
                change_pct=change_pct,
                volume=volume,
                currency="USD",
                source_time=bar.open_time + step,
            )
        )
        forming = replace(bar, high=max(path), low=min(path), close=price, volume=volume)
        self._bar(forming, False)
