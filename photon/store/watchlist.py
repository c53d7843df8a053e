"""A user's watch list: adding, listing and removing symbols, scoped to the user. Every query
for "the symbols these users watch" lives here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from photon.errors import NotFound
from photon.market.symbols import Resolved, resolve
from photon.models import Symbol, Watch
from photon.store import pagination, symbols
from photon.types import SymbolInfo

Describe = Callable[[Resolved], SymbolInfo]


def add(session: Session, user_id: int, raw: str, describe: Describe) -> tuple[Watch, bool]:
    """Watch ``raw`` for the user and commit; returns the watch and whether it is new.

    ``describe`` asks the provider whether the symbol exists; it is only called for a symbol
    Photon has never seen, and raises before anything is stored.
    """
    resolved = resolve(raw)
    symbol = symbols.by_ticker(session, resolved.ticker)
    if symbol is None:
        symbol = symbols.get_or_create(session, describe(resolved))
    watch = _find(session, user_id, symbol.id)
    if watch is not None:
        return watch, False
    watch = Watch(user_id=user_id, symbol_id=symbol.id)
    try:
        with session.begin_nested():
            session.add(watch)
    except IntegrityError:
        # The same user added it twice at once: the other request won.
        return _find(session, user_id, symbol.id), False
    session.commit()
    return watch, True


def _find(session: Session, user_id: int, symbol_id: int) -> Watch | None:
    return session.scalars(
        select(Watch).where(Watch.user_id == user_id, Watch.symbol_id == symbol_id)
    ).first()


def page(session: Session, user_id: int, page: int, page_size: int) -> tuple[list[Watch], int]:
    query = select(Watch).where(Watch.user_id == user_id)
    return pagination.page(session, query, (Watch.id,), page, page_size)


def get(session: Session, user_id: int, symbol_id: int) -> Watch:
    """The user's watch of ``symbol_id``; another user's, or none, is a ``NotFound``."""
    watch = _find(session, user_id, symbol_id)
    if watch is None:
        raise NotFound(f"You do not watch a symbol with id {symbol_id}")
    return watch


def watched_symbol(session: Session, user_id: int, symbol_id: int) -> Symbol:
    return get(session, user_id, symbol_id).symbol


def remove(session: Session, user_id: int, symbol_id: int) -> Symbol:
    """Stop watching and commit; returns the symbol that is no longer watched."""
    watch = get(session, user_id, symbol_id)
    symbol = watch.symbol
    session.delete(watch)
    session.commit()
    return symbol


def watched_symbols(session: Session, user_id: int) -> list[Symbol]:
    return watchers(session, [user_id]).get(user_id, [])


def watchers(session: Session, user_ids: Iterable[int]) -> dict[int, list[Symbol]]:
    """Each user's watched symbols, in one query; users who watch nothing are absent."""
    ids = list(user_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Watch.user_id, Symbol)
        .join(Symbol, Symbol.id == Watch.symbol_id)
        .where(Watch.user_id.in_(ids))
        .order_by(Watch.user_id, Symbol.id)
    )
    out: dict[int, list[Symbol]] = defaultdict(list)
    for user_id, symbol in rows:
        out[user_id].append(symbol)
    return dict(out)


def watched_by_anyone(session: Session) -> list[Symbol]:
    return list(
        session.scalars(
            select(Symbol).where(Symbol.id.in_(select(Watch.symbol_id))).order_by(Symbol.id)
        )
    )


def watcher_ids(session: Session, symbol_id: int) -> list[int]:
    return list(session.scalars(select(Watch.user_id).where(Watch.symbol_id == symbol_id)))
