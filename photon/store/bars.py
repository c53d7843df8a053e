"""Stored OHLCV bars: idempotent upserts, ranges, and which ranges are missing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from photon.models import Bar
from photon.store._upsert import insert
from photon.types import Bar as BarValue

BAR_FIELDS = ("open", "high", "low", "close", "volume", "source")


def upsert_bars(
    session: Session, symbol_id: int, bars: Iterable[BarValue], source: str, chunk: int = 2000
) -> int:
    values = [
        {
            "symbol_id": symbol_id,
            "interval": b.interval,
            "open_time": b.open_time,
            "open": b.open,
            "high": b.high,
            "low": b.low,
            "close": b.close,
            "volume": b.volume,
            "source": source,
        }
        for b in bars
    ]
    stmt = insert(session, Bar)
    stmt = stmt.on_conflict_do_update(
        index_elements=["symbol_id", "interval", "open_time"],
        set_={name: stmt.excluded[name] for name in BAR_FIELDS},
    )
    for start in range(0, len(values), chunk):
        session.execute(stmt, values[start : start + chunk])
    return len(values)


def stored_bars(
    session: Session,
    symbol_id: int,
    interval: str,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> list[Bar]:
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


def bar_span(
    session: Session, symbol_id: int, interval: str
) -> tuple[datetime | None, datetime | None, int]:
    row = session.execute(
        select(func.min(Bar.open_time), func.max(Bar.open_time), func.count()).where(
            Bar.symbol_id == symbol_id, Bar.interval == interval
        )
    ).one()
    return row[0], row[1], row[2]


def missing_ranges(
    span: tuple[datetime | None, datetime | None, int],
    start: datetime,
    end: datetime,
    step: timedelta,
) -> list[tuple[datetime, datetime]]:
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


def chunks(
    start: datetime, end: datetime, size: timedelta, backwards: bool
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


OHLCV = ("open_time", "open", "high", "low", "close", "volume")


def windows(
    session: Session, symbol_ids: Iterable[int], interval: str, end: datetime, limit: int
) -> dict[int, list[tuple]]:
    """For many symbols, the newest ``limit`` bars before ``end`` of each, oldest first, as
    ``OHLCV`` tuples: plain rows, not ORM objects, since a batch reads hundreds of thousands.

    One index range scan per symbol. Measured against one window-function query for all
    symbols (``row_number() over (partition by symbol_id ...)``), it was 1.4 to 2 times faster on
    SQLite: the window function sorts every bar in the range, the scans read only ``limit``.
    """
    columns = [getattr(Bar, column) for column in OHLCV]
    out: dict[int, list[tuple]] = {}
    for symbol_id in symbol_ids:
        rows = session.execute(
            select(*columns)
            .where(Bar.symbol_id == symbol_id, Bar.interval == interval, Bar.open_time < end)
            .order_by(Bar.open_time.desc())
            .limit(limit)
        ).all()
        out[symbol_id] = [tuple(row) for row in reversed(rows)]
    return out
