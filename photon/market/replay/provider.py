"""Replay: the bundled real price history served as if it were a live feed, offline.

Each ticker replays one bundled series: the crypto pairs their hourly bars, the stocks their daily
bars. The replay advances ONE bar per tick:

    cursor = start + floor((clock() - anchor()) / tick_seconds)

``anchor()`` is the epoch second the replay began. The app backs it with a shared store so that
every process serves the same bar. By default it is when the provider was built, floored to the tick
grid. An anchor on the grid makes the price and the quote's timestamp change at the same instant;
one off the grid still works, but the two change at different moments. A clock before the anchor
(skew between hosts) counts as the first tick. After the last bar the replay wraps back to
its start bar, not to bar 0, so the history in front of it is always there. At the wrap the price
jumps, as it would after any restart of a recording.

A quote is stamped with the current tick time, ``floor(clock() / tick_seconds) * tick_seconds``,
so the rest of the system sees a live feed (and paper fills see a fresh quote). Bars keep their
real, historical open times: a bar stored once never changes, whatever the tick speed, and each
tick one more bar becomes complete. The replay's own "now" for a ticker is ``clock(ticker)``, the
open time of the bar being formed at the cursor; code that asks "which bars are complete?" uses it
instead of the wall clock. Nothing after the cursor is ever served.

``PHOTON_REPLAY_START`` (``start``) is an ISO date. It applies to each series whose span holds it.
Any other series starts at its default. The stocks (2000 to 2013) and the crypto pairs (2020 to
2021) do not overlap, so a date moves one group only. By default each group starts on one common
date that leaves at least ``HISTORY_BARS`` bars before it in every series of the group, so that
market-wide moves (2008, May 2021) happen at once across its tickers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from photon.errors import Invalid, ProviderError, SymbolNotFound
from photon.market.replay.bundled import epoch_seconds, load_bundled
from photon.types import INTERVAL_SECONDS, AssetClass, Bar, Quote, Source, SymbolInfo

log = logging.getLogger(__name__)

# Bars of history in front of the default start: enough for the decision model's first fit
# (500 labelled rows, 49 of warm-up and a 24-bar horizon) the moment the replay begins.
HISTORY_BARS = 600
CURRENCY = "USD"

# ticker -> (replayed interval, asset class, display name)
REPLAY_SERIES: dict[str, tuple[str, str, str]] = {
    "AAPL": ("1d", AssetClass.STOCK, "Apple Inc. (replay)"),
    "MSFT": ("1d", AssetClass.STOCK, "Microsoft Corporation (replay)"),
    "IBM": ("1d", AssetClass.STOCK, "International Business Machines Corporation (replay)"),
    "GOOG": ("1d", AssetClass.STOCK, "Google Inc. (replay)"),
    "BTCUSDT": ("1h", AssetClass.CRYPTO, "Bitcoin / Tether (replay)"),
    "ETHUSDT": ("1h", AssetClass.CRYPTO, "Ethereum / Tether (replay)"),
}


@dataclass(frozen=True)
class _Series:
    interval: str
    step: int
    times: np.ndarray  # real open times, epoch seconds, ascending
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    start: int

    def at(self, steps: int) -> int:
        return self.start + steps % (len(self.times) - self.start)


@dataclass(frozen=True)
class Playing:
    step: int  # ticks since the replay began
    progress: float  # how far through this tick, 0 <= progress < 1
    bar: Bar  # the real bar being replayed
    previous_close: float | None


class ReplayProvider:
    """Bundled real bars as a live feed; implements ``photon.market.base.Provider``."""

    name = Source.REPLAY

    def __init__(
        self,
        start: str | None = None,
        tick_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        anchor: Callable[[], float] | None = None,
    ) -> None:
        if not tick_seconds > 0:
            raise ValueError(f"tick_seconds must be positive, not {tick_seconds!r}")
        self.tick_seconds = float(tick_seconds)
        self._clock = clock
        began = math.floor(clock() / self.tick_seconds) * self.tick_seconds
        self._anchor = anchor if anchor is not None else (lambda: began)
        wanted = _parse_start(start)

        frames = {t: load_bundled(t, spec[0]) for t, spec in REPLAY_SERIES.items()}
        times = {t: epoch_seconds(frame["open_time"]) for t, frame in frames.items()}
        defaults: dict[str, int] = {}
        for ticker, (interval, _, _) in REPLAY_SERIES.items():
            t = times[ticker]
            at = int(t[min(HISTORY_BARS, len(t) - 1)])
            defaults[interval] = max(defaults.get(interval, at), at)

        self._series: dict[str, _Series] = {}
        for ticker, (interval, _, _) in REPLAY_SERIES.items():
            t, frame = times[ticker], frames[ticker]
            if wanted is not None and t[0] <= wanted <= t[-1]:
                begin = wanted
            else:
                begin = defaults[interval]
                if wanted is not None:
                    # Every job builds the provider afresh: say it once per process, quietly.
                    log.debug(
                        "replay start %s is outside %s's history; using its default", start, ticker
                    )
            self._series[ticker] = _Series(
                interval=interval,
                step=INTERVAL_SECONDS[interval],
                times=t,
                **{col: frame[col].to_numpy(dtype="float64") for col in _OHLCV},
                start=min(int(np.searchsorted(t, begin)), len(t) - 1),
            )

    def describe(self, ticker: str) -> SymbolInfo:
        self._get(ticker)
        _, asset_class, name = REPLAY_SERIES[ticker]
        return SymbolInfo(
            ticker=ticker,
            asset_class=asset_class,
            source=Source.REPLAY,
            name=name,
            currency=CURRENCY,
            exchange=Source.REPLAY,
        )

    def quotes(self, tickers: Sequence[str]) -> dict[str, Quote | ProviderError]:
        now = self._clock()
        steps = self._steps(now)
        ts = datetime.fromtimestamp(self._tick(now), UTC)
        out: dict[str, Quote | ProviderError] = {}
        for ticker in tickers:
            series = self._series.get(ticker)
            if series is None:
                out[ticker] = _unknown(ticker)
                continue
            i = series.at(steps)
            price = float(series.close[i])
            change = change_pct = None
            if i > 0:
                previous = float(series.close[i - 1])
                change = round(price - previous, 10)
                change_pct = round((price - previous) / previous * 100, 6)
            out[ticker] = Quote(
                ticker=ticker,
                price=price,
                ts=ts,
                source=Source.REPLAY,
                change=change,
                change_pct=change_pct,
                volume=float(series.volume[i]),
                currency=CURRENCY,
                source_time=datetime.fromtimestamp(int(series.times[i]), UTC),
            )
        return out

    def bars(self, ticker: str, interval: str, start: datetime, end: datetime) -> list[Bar]:
        """Bars up to the cursor, at their real open times, with
        ``start <= open_time < end``. Only the replayed interval is served, and coarser ones
        built from it (1h into 1d, whose last day is still forming, as live); finer ones are
        empty."""
        series = self._get(ticker)
        if interval not in INTERVAL_SECONDS:
            raise Invalid(
                f"Unknown interval {interval!r}",
                errors={"interval": [f"One of {', '.join(INTERVAL_SECONDS)}."]},
            )
        want = INTERVAL_SECONDS[interval]
        if want < series.step or want % series.step:
            return []
        now = self._clock()
        cursor = series.at(self._steps(now))
        times = series.times[: cursor + 1]
        columns = [getattr(series, col)[: cursor + 1] for col in _OHLCV]
        first, last = _timestamp(start), _timestamp(end)
        if want != series.step:
            keep = int(np.searchsorted(times, math.floor(first / want) * want))
            times, columns = _resample(times[keep:], [col[keep:] for col in columns], want)
        lo, hi = np.searchsorted(times, first), np.searchsorted(times, last)
        return [
            Bar(
                ticker=ticker,
                interval=interval,
                open_time=datetime.fromtimestamp(int(times[i]), UTC),
                open=float(columns[0][i]),
                high=float(columns[1][i]),
                low=float(columns[2][i]),
                close=float(columns[3][i]),
                volume=float(columns[4][i]),
            )
            for i in range(lo, hi)
        ]

    def cursor(self, ticker: str) -> int:
        """Index, into the bundled series, of the bar being served now."""
        return self._get(ticker).at(self._steps(self._clock()))

    def playing(self, ticker: str, now: float | None = None) -> Playing:
        """What is replayed at ``now`` (epoch seconds; default the clock): the bar at the
        cursor with its real OHLCV, the close before it, and how far its tick has gone. The
        replay stream walks each bar's price path through its tick from this."""
        series = self._get(ticker)
        now = self._clock() if now is None else now
        elapsed = max(0.0, now - self._anchor())
        step = math.floor(elapsed / self.tick_seconds)
        i = series.at(step)
        bar = Bar(
            ticker=ticker,
            interval=series.interval,
            open_time=datetime.fromtimestamp(int(series.times[i]), UTC),
            **{col: float(getattr(series, col)[i]) for col in _OHLCV},
        )
        previous = float(series.close[i - 1]) if i > 0 else None
        return Playing(step, elapsed / self.tick_seconds - step, bar, previous)

    def first_time(self, ticker: str) -> datetime:
        """Open time of the first bundled bar of ``ticker``."""
        return datetime.fromtimestamp(int(self._get(ticker).times[0]), UTC)

    def start_index(self, ticker: str) -> int:
        """Index of the bar the replay starts (and wraps back) at."""
        return self._get(ticker).start

    def clock(self, ticker: str) -> datetime:
        """The replay's "now" for ``ticker``: the cursor bar is forming, earlier ones are done."""
        return self.historical_time(ticker)

    def historical_time(self, ticker: str) -> datetime:
        """The real open time of the bar being served now, for showing what is replayed."""
        series = self._get(ticker)
        return datetime.fromtimestamp(int(series.times[self.cursor(ticker)]), UTC)

    def _get(self, ticker: str) -> _Series:
        series = self._series.get(ticker)
        if series is None:
            raise _unknown(ticker)
        return series

    def _steps(self, now: float) -> int:
        return max(0, math.floor((now - self._anchor()) / self.tick_seconds))

    def _tick(self, now: float) -> float:
        return math.floor(now / self.tick_seconds) * self.tick_seconds


_OHLCV = ("open", "high", "low", "close", "volume")


def _unknown(ticker: str) -> SymbolNotFound:
    known = ", ".join(REPLAY_SERIES)
    return SymbolNotFound(
        ticker, f"{ticker!r} is not in the bundled replay history; replay mode knows: {known}"
    )


def _parse_start(start: str | None) -> float | None:
    if start is None or not start.strip():
        return None
    try:
        parsed = datetime.fromisoformat(start.strip())
    except ValueError:
        raise ValueError(f"replay start {start!r} is not an ISO date") from None
    return _timestamp(parsed)


def _timestamp(moment: datetime) -> float:
    # A naive datetime is taken as UTC, never as the host's local time.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _resample(
    times: np.ndarray, columns: list[np.ndarray], step: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    if len(times) == 0:
        return times, columns
    buckets = times // step * step
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    ends = np.r_[starts[1:], len(times)] - 1
    o, h, lo, c, v = columns
    return buckets[starts], [
        o[starts],
        np.maximum.reduceat(h, starts),
        np.minimum.reduceat(lo, starts),
        c[ends],
        # Rounded so summing hours does not print 41712.969999999994.
        np.round(np.add.reduceat(v, starts), 8),
    ]
