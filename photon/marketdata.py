"""Storing and reading quotes and bars. Every write is an idempotent upsert."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from photon import pagination
from photon.market.types import INTERVAL_SECONDS, Quote
from photon.market.types import Bar as BarValue
from photon.models import Bar, MarketData, Symbol, Watch

QUOTE_FIELDS = ("price", "change", "change_pct", "volume", "bid", "ask", "currency", "source",
                "source_time")
BAR_FIELDS = ("open", "high", "low", "close", "volume", "source")


def _insert(session: Session, model):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"upserts are written for SQLite and PostgreSQL, not {dialect}")


def upsert_quotes(session: Session, rows: Sequence[tuple[int, Quote]]) -> int:
    """Store ``(symbol_id, quote)`` pairs; a refetch of the same timestamp updates in place."""
    if not rows:
        return 0
    values = [
        {"symbol_id": symbol_id, "ts": quote.ts, **{k: getattr(quote, k) for k in QUOTE_FIELDS}}
        for symbol_id, quote in rows
    ]
    stmt = _insert(session, MarketData)
    stmt = stmt.on_conflict_do_update(
        index_elements=["symbol_id", "ts"],
        set_={name: stmt.excluded[name] for name in QUOTE_FIELDS},
    )
    session.execute(stmt, values)
    return len(values)


def upsert_bars(session: Session, symbol_id: int, bars: Iterable[BarValue], source: str,
                chunk: int = 2000) -> int:
    values = [
        {"symbol_id": symbol_id, "interval": b.interval, "open_time": b.open_time,
         "open": b.open, "high": b.high, "low": b.low, "close": b.close, "volume": b.volume,
         "source": source}
        for b in bars
    ]
    stmt = _insert(session, Bar)
    stmt = stmt.on_conflict_do_update(
        index_elements=["symbol_id", "interval", "open_time"],
        set_={name: stmt.excluded[name] for name in BAR_FIELDS},
    )
    for start in range(0, len(values), chunk):
        session.execute(stmt, values[start:start + chunk])
    return len(values)


def latest_for_user(session: Session, user_id: int) -> list[tuple[Symbol, MarketData]]:
    """The newest quote of each watched symbol, in one query (no per-symbol round trips)."""
    newest = (
        select(MarketData.symbol_id, func.max(MarketData.ts).label("ts"))
        .join(Watch, Watch.symbol_id == MarketData.symbol_id)
        .where(Watch.user_id == user_id)
        .group_by(MarketData.symbol_id)
        .subquery()
    )
    query = (
        select(Symbol, MarketData)
        .join(newest, newest.c.symbol_id == Symbol.id)
        .join(MarketData, (MarketData.symbol_id == newest.c.symbol_id)
              & (MarketData.ts == newest.c.ts))
        .order_by(Symbol.ticker)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def latest_quote(session: Session, symbol_id: int) -> MarketData | None:
    return session.scalars(
        select(MarketData).where(MarketData.symbol_id == symbol_id)
        .order_by(MarketData.ts.desc()).limit(1)
    ).first()


def history(session: Session, user_id: int, symbol_id: int | None, start: datetime | None,
            end: datetime | None, page: int, page_size: int) -> tuple[list[MarketData], int]:
    query = (
        select(MarketData)
        .join(Watch, (Watch.symbol_id == MarketData.symbol_id) & (Watch.user_id == user_id))
    )
    if symbol_id is not None:
        query = query.where(MarketData.symbol_id == symbol_id)
    if start is not None:
        query = query.where(MarketData.ts >= start)
    if end is not None:
        query = query.where(MarketData.ts < end)
    return pagination.page(session, query, (MarketData.ts.desc(), MarketData.id.desc()), page,
                           page_size)


def stored_bars(session: Session, symbol_id: int, interval: str, start: datetime | None = None,
                end: datetime | None = None, limit: int | None = None) -> list[Bar]:
    query = select(Bar).where(Bar.symbol_id == symbol_id, Bar.interval == interval)
    if start is not None:
        query = query.where(Bar.open_time >= start)
    if end is not None:
        query = query.where(Bar.open_time < end)
    if limit is not None:
        # The newest ``limit`` bars, returned oldest first.
        rows = session.scalars(query.order_by(Bar.open_time.desc()).limit(limit)).all()
        return list(reversed(rows))
    return list(session.scalars(query.order_by(Bar.open_time)))


def bar_span(session: Session, symbol_id: int, interval: str
             ) -> tuple[datetime | None, datetime | None, int]:
    row = session.execute(
        select(func.min(Bar.open_time), func.max(Bar.open_time), func.count())
        .where(Bar.symbol_id == symbol_id, Bar.interval == interval)
    ).one()
    return row[0], row[1], row[2]


def missing_ranges(span: tuple[datetime | None, datetime | None, int], start: datetime,
                   end: datetime, step: timedelta) -> list[tuple[datetime, datetime]]:
    """The parts of ``[start, end)`` outside the stored span, newest part first.

    Back-filling walks backwards from the oldest stored bar and forwards from the newest, so an
    interrupted run resumes where it stopped. Holes inside the span (a provider outage, a market
    holiday) are not chased: they cannot be told apart without asking the provider again.
    """
    first, last, count = span
    if not count or first is None or last is None:
        return [(start, end)]
    ranges = []
    if last + step < end:
        ranges.append((last + step, end))
    if first > start:
        ranges.append((start, first))
    return ranges


def chunks(start: datetime, end: datetime, size: timedelta, backwards: bool
           ) -> list[tuple[datetime, datetime]]:
    parts = []
    if backwards:
        hi = end
        while hi > start:
            lo = max(start, hi - size)
            parts.append((lo, hi))
            hi = lo
    else:
        lo = start
        while lo < end:
            hi = min(end, lo + size)
            parts.append((lo, hi))
            lo = hi
    return parts


class RangeMemo(Protocol):
    """Where back-filling remembers ranges the provider answered empty (shared by processes)."""

    def get(self, key: str) -> datetime | None: ...

    def set(self, key: str, moment: datetime, ttl: int) -> None: ...


def backfill(session: Session, provider, symbol: Symbol, interval: str, start: datetime,
             end: datetime, *, chunk_bars: int = 1000, progress=None,
             memo: RangeMemo | None = None) -> int:
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


def _unchecked(memo: RangeMemo, key: str, lo: datetime, hi: datetime, backwards: bool
               ) -> tuple[datetime, datetime]:
    if backwards:
        floor = memo.get(f"{key}:back")
        return (hi, hi) if floor is not None and lo >= floor else (lo, hi)
    ceiling = memo.get(f"{key}:fwd")
    return (max(lo, ceiling), hi) if ceiling is not None else (lo, hi)


def _label(provider, symbol: Symbol) -> str:
    return "replay" if getattr(provider, "name", "") == "replay" else symbol.source
