"""Stored quotes: idempotent upserts, the newest quote per symbol, and history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, func, select
from sqlalchemy.orm import Session

from photon.models import MarketData, Symbol, Watch
from photon.store import pagination
from photon.store._upsert import insert
from photon.types import Quote

QUOTE_FIELDS = (
    "price",
    "change",
    "change_pct",
    "volume",
    "bid",
    "ask",
    "currency",
    "source",
    "source_time",
)


def upsert_quotes(session: Session, rows: Sequence[tuple[int, Quote]]) -> int:
    """Store ``(symbol_id, quote)`` pairs; a refetch of the same timestamp updates in place."""
    if not rows:
        return 0
    values = [
        {"symbol_id": symbol_id, "ts": quote.ts, **{k: getattr(quote, k) for k in QUOTE_FIELDS}}
        for symbol_id, quote in rows
    ]
    stmt = insert(session, MarketData)
    stmt = stmt.on_conflict_do_update(
        index_elements=["symbol_id", "ts"],
        set_={name: stmt.excluded[name] for name in QUOTE_FIELDS},
    )
    session.execute(stmt, values)
    return len(values)


def _newest(symbol_ids: list[int] | None = None, user_id: int | None = None) -> Subquery:
    """(symbol_id, ts) of the newest quote per symbol, as a subquery to join on."""
    newest = select(MarketData.symbol_id, func.max(MarketData.ts).label("ts"))
    if user_id is not None:
        newest = newest.join(Watch, Watch.symbol_id == MarketData.symbol_id).where(
            Watch.user_id == user_id
        )
    if symbol_ids is not None:
        newest = newest.where(MarketData.symbol_id.in_(symbol_ids))
    return newest.group_by(MarketData.symbol_id).subquery()


def _is_newest(newest: Subquery) -> ColumnElement[bool]:
    return (newest.c.symbol_id == MarketData.symbol_id) & (newest.c.ts == MarketData.ts)


def latest(session: Session, symbol_ids: Iterable[int]) -> dict[int, MarketData]:
    """The newest stored quote of each symbol, in one query: no per-symbol round trips."""
    ids = list(symbol_ids)
    if not ids:
        return {}
    newest = _newest(symbol_ids=ids)
    rows = session.scalars(select(MarketData).join(newest, _is_newest(newest)))
    return {row.symbol_id: row for row in rows}


def latest_for_user(session: Session, user_id: int) -> list[tuple[Symbol, MarketData]]:
    """The newest quote of each symbol the user watches, by ticker, in one query."""
    newest = _newest(user_id=user_id)
    query = (
        select(Symbol, MarketData)
        .join(newest, newest.c.symbol_id == Symbol.id)
        .join(MarketData, _is_newest(newest))
        .order_by(Symbol.ticker)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def latest_quote(session: Session, symbol_id: int) -> MarketData | None:
    return latest(session, [symbol_id]).get(symbol_id)


def history(
    session: Session,
    user_id: int,
    symbol_id: int | None,
    start: datetime | None,
    end: datetime | None,
    page: int,
    page_size: int,
) -> tuple[list[tuple[Symbol, MarketData]], int]:
    """One page of the user's stored quotes, newest first, each with its symbol."""
    query = select(MarketData).join(
        Watch, (Watch.symbol_id == MarketData.symbol_id) & (Watch.user_id == user_id)
    )
    if symbol_id is not None:
        query = query.where(MarketData.symbol_id == symbol_id)
    if start is not None:
        query = query.where(MarketData.ts >= start)
    if end is not None:
        query = query.where(MarketData.ts < end)
    rows, total = pagination.page(
        session, query, (MarketData.ts.desc(), MarketData.id.desc()), page, page_size
    )
    ids = {row.symbol_id for row in rows}
    symbols = {s.id: s for s in session.scalars(select(Symbol).where(Symbol.id.in_(ids)))}
    return [(symbols[row.symbol_id], row) for row in rows], total
