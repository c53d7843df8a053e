"""A user's watch list: adding, listing and removing symbols, scoped to the user."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from photon import pagination
from photon.errors import NotFound
from photon.extensions import db
from photon.market.symbols import Resolved, resolve
from photon.market.types import SymbolInfo
from photon.models import Symbol, Watch

Describe = Callable[[Resolved], SymbolInfo]


def add(user_id: int, raw: str, describe: Describe) -> tuple[Watch, bool]:
    """Watch ``raw`` for the user; returns the watch and whether it is new.

    ``describe`` asks the provider whether the symbol exists; it is only called for a symbol
    Photon has never seen, and raises before anything is stored.
    """
    resolved = resolve(raw)
    symbol = db.session.scalars(select(Symbol).where(Symbol.ticker == resolved.ticker)).first()
    if symbol is None:
        info = describe(resolved)
        symbol = _create_symbol(info)
    watch = db.session.scalars(
        select(Watch).where(Watch.user_id == user_id, Watch.symbol_id == symbol.id)
    ).first()
    if watch is not None:
        return watch, False
    watch = Watch(user_id=user_id, symbol_id=symbol.id)
    try:
        with db.session.begin_nested():
            db.session.add(watch)
    except IntegrityError:
        # The same user added it twice at once: the other request won.
        watch = db.session.scalars(
            select(Watch).where(Watch.user_id == user_id, Watch.symbol_id == symbol.id)
        ).one()
        return watch, False
    db.session.commit()
    return watch, True


def _create_symbol(info: SymbolInfo) -> Symbol:
    symbol = Symbol(
        ticker=info.ticker, asset_class=info.asset_class, source=info.source,
        name=info.name, currency=info.currency, exchange=info.exchange,
    )
    try:
        with db.session.begin_nested():
            db.session.add(symbol)
    except IntegrityError:
        # Another user added the same instrument concurrently; it is one global row.
        symbol = db.session.scalars(select(Symbol).where(Symbol.ticker == info.ticker)).one()
    return symbol


def page(user_id: int, page: int, page_size: int) -> tuple[list[Watch], int]:
    query = select(Watch).where(Watch.user_id == user_id)
    return pagination.page(db.session, query, (Watch.id,), page, page_size)


def get(user_id: int, symbol_id: int) -> Watch:
    watch = db.session.scalars(
        select(Watch).where(Watch.user_id == user_id, Watch.symbol_id == symbol_id)
    ).first()
    if watch is None:
        raise NotFound(f"You do not watch a symbol with id {symbol_id}")
    return watch


def remove(user_id: int, symbol_id: int) -> None:
    db.session.delete(get(user_id, symbol_id))
    db.session.commit()


def watched_symbols(user_id: int) -> list[Symbol]:
    return list(
        db.session.scalars(
            select(Symbol).join(Watch, Watch.symbol_id == Symbol.id)
            .where(Watch.user_id == user_id).order_by(Symbol.id)
        )
    )
