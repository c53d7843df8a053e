"""The paper portfolio: one per user, its open positions, and every simulated order.

Money columns are ``Float`` like every price Photon stores: prices arrive as floats from the
providers, and a ``Numeric`` column would only round them again (SQLite has no decimal type at
all). The money invariant in ``photon.agents.execution.agent`` is checked to a relative 1e-9.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from photon.extensions import db
from photon.models.decision import TradingDecision
from photon.models.symbol import Symbol
from photon.models.types import BigId, UTCDateTime, utcnow


class Portfolio(db.Model):
    """A user's simulated account, in USD. Locked (``FOR UPDATE``) for the whole of a fill."""

    __tablename__ = "paper_portfolios"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    starting_cash: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    realised_pnl: Mapped[float] = mapped_column(Float, default=0.0)  # gross, before fees
    fees_paid: Mapped[float] = mapped_column(Float, default=0.0)
    # The daily loss limit compares equity with the equity at the day's first execution.
    day_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    day_start_equity: Mapped[float | None] = mapped_column(Float)
    halted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Per-user overrides of ``PaperSettings`` fields.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Decisions made before a reset never fill into the fresh portfolio.
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Position(db.Model):
    """An open position; a SELL closes it whole and deletes the row, so every row is open."""

    __tablename__ = "paper_positions"
    __table_args__ = (UniqueConstraint("user_id", "symbol_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    quantity: Mapped[float] = mapped_column(Float)
    avg_price: Mapped[float] = mapped_column(Float)  # fill prices only; fees are booked apart
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    symbol: Mapped[Symbol] = relationship(lazy="joined")


class PaperOrder(db.Model):
    """One simulated order: filled at a stored quote, or rejected with the reason.

    ``decision_id`` is unique: one decision produces at most one order, however often its job
    runs. It survives the decision's deletion as NULL, so the history stays.
    """

    __tablename__ = "paper_orders"
    __table_args__ = (
        Index("ix_paper_orders_user_created", "user_id", "created_at"),
        Index("ix_paper_orders_user_symbol_created", "user_id", "symbol_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    decision_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("trading_decisions.id", ondelete="SET NULL"), unique=True
    )
    side: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[float] = mapped_column(Float, default=0.0)
    price: Mapped[float | None] = mapped_column(Float)
    fee: Mapped[float] = mapped_column(Float, default=0.0)
    realised_pnl: Mapped[float | None] = mapped_column(Float)  # SELL fills: qty·(price − avg)
    reason: Mapped[str | None] = mapped_column(Text)
    quote_price: Mapped[float | None] = mapped_column(Float)
    quote_ts: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    symbol: Mapped[Symbol] = relationship(lazy="joined")
    decision: Mapped[TradingDecision | None] = relationship(lazy="joined")


class EquitySnapshot(db.Model):
    """The paper portfolio's equity at a moment, marked at the latest quotes: at every fill,
    and at most every ``EQUITY_EVERY`` seconds as quotes move it. The equity curve."""

    __tablename__ = "paper_equity"
    __table_args__ = (Index("ix_paper_equity_user_ts", "user_id", "ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    equity: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
