"""The paper books: opening a portfolio, marking it at the latest stored quotes, the money
identity, and the summary the API and ``agent_status`` show. Changing them is ``agent``'s job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from photon.agents.execution import fills
from photon.agents.execution.settings import CURRENCY, MODE, PaperSettings
from photon.models import MarketData
from photon.models.paper import Portfolio, Position
from photon.models.types import utcnow
from photon.store import orders, quotes

LAST_ORDERS = 10


def effective_settings(portfolio: Portfolio, base: PaperSettings) -> PaperSettings:
    return base.with_overrides(portfolio.settings)


def _fresh(user_id: int, settings: PaperSettings | None) -> Portfolio:
    cash = (settings or PaperSettings()).starting_cash
    return Portfolio(
        user_id=user_id, starting_cash=cash, cash=cash, realised_pnl=0.0, fees_paid=0.0, settings={}
    )


def get_portfolio(
    session: Session, user_id: int, settings: PaperSettings | None = None
) -> Portfolio:
    """The user's portfolio, opened with the default starting cash on first use."""
    portfolio = find_portfolio(session, user_id)
    if portfolio is not None:
        return portfolio
    portfolio = _fresh(user_id, settings)
    try:
        with session.begin_nested():
            session.add(portfolio)
    except IntegrityError:
        # A job and a request opened it at the same moment; use theirs.
        portfolio = find_portfolio(session, user_id)
        assert portfolio is not None
    return portfolio


def find_portfolio(session: Session, user_id: int) -> Portfolio | None:
    return session.scalars(select(Portfolio).where(Portfolio.user_id == user_id)).first()


def ledger_of(portfolio: Portfolio) -> fills.Ledger:
    return fills.Ledger(
        portfolio.starting_cash,
        portfolio.cash,
        portfolio.realised_pnl or 0.0,
        portfolio.fees_paid or 0.0,
    )


def mark(position: Position, marks: dict[int, MarketData]) -> float:
    # Without any quote the position is worth what it cost: no made-up gain or loss.
    quote = marks.get(position.symbol_id)
    return quote.price if quote is not None else position.avg_price


def money_gap(session: Session, user_id: int) -> float:
    """``fills.money_gap`` on the stored books; zero (to float rounding) after any history."""
    portfolio = find_portfolio(session, user_id)
    if portfolio is None:
        return 0.0
    positions = session.scalars(select(Position).where(Position.user_id == user_id))
    return fills.money_gap(
        ledger_of(portfolio), [fills.Holding(p.quantity, p.avg_price) for p in positions]
    )


def portfolio_summary(
    session: Session,
    user_id: int,
    settings: PaperSettings | None = None,
    now: datetime | None = None,
    last_orders: int = LAST_ORDERS,
) -> dict[str, Any]:
    """Cash, equity and PnL marked at the latest stored quotes, positions and the last orders.

    Reads only: a user who never traded sees the portfolio they would open with.
    """
    now = now or utcnow()
    base = settings or PaperSettings()
    portfolio = find_portfolio(session, user_id) or _fresh(user_id, base)
    positions = list(
        session.scalars(
            select(Position)
            .where(Position.user_id == user_id)
            .order_by(Position.symbol_id)
            .options(selectinload(Position.symbol))
        )
    )
    marks = quotes.latest(session, [p.symbol_id for p in positions])
    rows = []
    for p in positions:
        quote = marks.get(p.symbol_id)
        price = mark(p, marks)
        rows.append(
            {
                "symbol_id": p.symbol_id,
                "symbol": p.symbol.ticker,
                "asset_class": p.symbol.asset_class,
                "quantity": p.quantity,
                "avg_price": p.avg_price,
                "cost": p.quantity * p.avg_price,
                "price": price,
                "quote_ts": quote.ts if quote else None,
                "market_value": p.quantity * price,
                "unrealised_pnl": p.quantity * (price - p.avg_price),
                "opened_at": p.opened_at,
            }
        )
    value = sum(r["market_value"] for r in rows)
    equity = portfolio.cash + value
    halted = portfolio.halted_until is not None and now < portfolio.halted_until
    recent = orders.newest(session, user_id, last_orders)
    return {
        "mode": MODE,
        "currency": CURRENCY,
        "starting_cash": portfolio.starting_cash,
        "cash": portfolio.cash,
        "equity": equity,
        "positions_value": value,
        "realised_pnl": portfolio.realised_pnl,
        "unrealised_pnl": sum(r["unrealised_pnl"] for r in rows),
        "fees_paid": portfolio.fees_paid,
        "net_pnl": equity - portfolio.starting_cash,
        "return_pct": (equity / portfolio.starting_cash - 1.0) * 100,
        "halted_until": portfolio.halted_until if halted else None,
        "day_start_equity": portfolio.day_start_equity,
        "settings": effective_settings(portfolio, base).as_dict(),
        "positions": rows,
        "last_orders": recent,
    }
