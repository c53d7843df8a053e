"""Back-filling bars from a provider into the store, and the bars a chart asks for.

A range can stay missing for good (a stock's weekend, the days before its first bar); a
``RangeMemo`` shared by every process remembers the ranges a provider answered empty, so they
are not asked for again on every cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session

from photon.errors import Invalid, ProviderError
from photon.market.base import Provider
from photon.market.registry import Providers
from photon.models import Bar, Symbol
from photon.store.bars import bar_span, chunks, missing_ranges, stored_bars, upsert_bars
from photon.types import INTERVAL_SECONDS, Source

Progress = Callable[[datetime, datetime, int], None]
# A chart asks for at most this many bar-widths of history in one request.
MAX_RANGE_FACTOR = 20


class RangeMemo(Protocol):
    """Where back-filling remembers ranges the provider answered empty (shared by processes)."""

    def get(self, key: str) -> datetime | None: ...

    def set(self, key: str, moment: datetime, ttl: int) -> None: ...


def backfill(
    session: Session,
    provider: Provider,
    symbol: Symbol,
    interval: str,
    start: datetime,
    end: datetime,
    *,
    chunk_bars: int = 1000,
    progress: Progress | None = None,
    memo: RangeMemo | None = None,
) -> int:
    """Fetch the bars of ``[start, end)`` that are not stored yet; commits chunk by chunk.

    A range can stay missing for good: a weekend after a stock's last bar, days before its
    first. With ``memo``, a range that came back empty is not asked for again.
    """
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    written = 0
    span = bar_span(session, symbol.id, interval)
    key = f"{symbol.id}:{interval}"
    for lo, hi in missing_ranges(span, start, end, step):
        backwards = span[2] > 0 and hi <= (span[0] or hi)
        if memo is not None and span[2]:
            lo, hi = _unchecked(memo, key, lo, hi, backwards)
            if lo >= hi:
                continue
        found = 0
        for part_lo, part_hi in chunks(lo, hi, step * chunk_bars, backwards):
            bars = provider.bars(symbol.ticker, interval, part_lo, part_hi)
            written += upsert_bars(session, symbol.id, bars, source=_label(provider, symbol))
            session.commit()
            found += len(bars)
            if progress:
                progress(part_lo, part_hi, len(bars))
        if memo is not None and span[2] and not found:
            if backwards:
                # Nothing before the first bar down to lo: that stays true.
                memo.set(f"{key}:back", lo, ttl=7 * 86400)
            else:
                # Nothing after the last bar up to hi, for now; a bar published late is found
                # when the note expires after one interval.
                memo.set(f"{key}:fwd", hi, ttl=int(step.total_seconds()))
    return written


def _unchecked(
    memo: RangeMemo, key: str, lo: datetime, hi: datetime, backwards: bool
) -> tuple[datetime, datetime]:
    if backwards:
        floor = memo.get(f"{key}:back")
        return (hi, hi) if floor is not None and lo >= floor else (lo, hi)
    ceiling = memo.get(f"{key}:fwd")
    return (max(lo, ceiling), hi) if ceiling is not None else (lo, hi)


def _label(provider: Provider, symbol: Symbol) -> str:
    return Source.REPLAY if getattr(provider, "name", "") == Source.REPLAY else symbol.source


def chart_bars(
    session: Session,
    providers: Providers,
    symbol: Symbol,
    interval: str,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> tuple[list[Bar], str | None]:
    """The bars of ``[start, end)`` (default: the ``limit`` bars before the market's now),
    back-filled first. A provider fault is returned as a warning when stored bars can still
    answer, and raised when nothing is stored."""
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    end = end or providers.market_now(symbol.source, symbol.ticker)
    start = start or end - step * limit
    if (end - start) / step > MAX_RANGE_FACTOR * limit:
        raise Invalid(
            "That range holds too many bars; narrow it or use a larger interval",
            errors={"start": ["Range too long for this interval."]},
        )
    warning = None
    try:
        backfill(
            session,
            providers.for_source(symbol.source),
            symbol,
            interval,
            start,
            end,
            memo=providers.memo,
        )
    except ProviderError as exc:
        session.rollback()
        if not stored_bars(session, symbol.id, interval, start, end, limit=1):
            raise
        warning = f"failed: {exc.message}"  # stored bars are still worth serving
    return stored_bars(session, symbol.id, interval, start, end, limit=limit), warning
