"""Instruments: one global row per ticker, created once however many users add it at once."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.models import Symbol
from photon.types import SymbolInfo


def by_ticker(session: Session, ticker: str) -> Symbol | None:
    return session.scalars(select(Symbol).where(Symbol.ticker == ticker)).first()


def get_or_create(session: Session, info: SymbolInfo) -> Symbol:
    """The row for ``info.ticker``, inserted from ``info`` if new; the caller commits."""
    symbol = by_ticker(session, info.ticker)
    if symbol is not None:
        return symbol
    symbol = Symbol(
        ticker=info.ticker,
        asset_class=info.asset_class,
        source=info.source,
        name=info.name,
        currency=info.currency,
        exchange=info.exchange,
    )
    try:
        with session.begin_nested():
            session.add(symbol)
    except IntegrityError:
        # Another user added the same instrument concurrently; it is one global row.
        symbol = session.scalars(select(Symbol).where(Symbol.ticker == info.ticker)).one()
    return symbol
