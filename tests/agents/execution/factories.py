"""Rows for paper-trading tests, inserted straight through the models (no provider needed).

Call inside an app context; each helper commits.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from photon.extensions import db
from photon.models import MarketData, Symbol, TradingDecision, User, Watch
from photon.store import agent_status
from photon.types import Agent

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday afternoon, US market hours


def user(name: str = "alice") -> int:
    row = db.session.scalars(select(User).where(User.username == name)).first()
    if row is None:
        row = User(username=name, email=f"{name}@example.com", password_hash="x")
        db.session.add(row)
        db.session.commit()
    return row.id


def symbol(
    ticker: str,
    asset_class: str = "crypto",
    currency: str | None = None,
    watcher: int | None = None,
) -> int:
    row = db.session.scalars(select(Symbol).where(Symbol.ticker == ticker)).first()
    if row is None:
        default = "USDT" if asset_class == "crypto" else "USD"
        row = Symbol(
            ticker=ticker,
            asset_class=asset_class,
            source="bybit" if asset_class == "crypto" else "yahoo",
            currency=currency or default,
        )
        db.session.add(row)
        db.session.flush()
    if watcher is not None:
        db.session.add(Watch(user_id=watcher, symbol_id=row.id))
    db.session.commit()
    return row.id


def quote(
    symbol_id: int,
    price: float,
    ts: datetime = NOW,
    bid: float | None = None,
    ask: float | None = None,
    currency: str | None = "USD",
) -> None:
    db.session.add(
        MarketData(
            symbol_id=symbol_id,
            ts=ts,
            price=price,
            bid=bid,
            ask=ask,
            currency=currency,
            source="test",
        )
    )
    db.session.commit()


def decision(
    user_id: int,
    symbol_id: int,
    action: str = "BUY",
    confidence: float = 1.0,
    at: datetime = NOW,
    price: float = 100.0,
) -> int:
    row = TradingDecision(
        user_id=user_id,
        symbol_id=symbol_id,
        action=action,
        confidence=confidence,
        reasoning="test",
        signals={},
        model="rules",
        price=price,
        created_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def start(user_id: int) -> None:
    agent_status.start(db.session, user_id, Agent.EXECUTION)
    db.session.commit()
