from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from photon.extensions import db
from photon.models.symbol import Symbol
from photon.models.types import BigId, UTCDateTime, utcnow


class TradingDecision(db.Model):
    __tablename__ = "trading_decisions"
    __table_args__ = (
        Index("ix_trading_decisions_user_created", "user_id", "created_at"),
        Index("ix_trading_decisions_unscored", "scored_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(4))
    confidence: Mapped[float] = mapped_column(Float)
    reasoning: Mapped[str] = mapped_column(Text)
    signals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    model: Mapped[str] = mapped_column(String(40))
    model_version: Mapped[str | None] = mapped_column(String(64))
    price: Mapped[float] = mapped_column(Float)
    bar_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    horizon_bars: Mapped[int | None]
    interval: Mapped[str | None] = mapped_column(String(4))
    cost: Mapped[float | None] = mapped_column(Float)
    # Calibrated probabilities of the outcomes "right" is judged on; confidence is the one that
    # makes the action right. None on decisions made before calibration existed.
    p_up: Mapped[float | None] = mapped_column(Float)
    p_down: Mapped[float | None] = mapped_column(Float)
    p_flat: Mapped[float | None] = mapped_column(Float)
    # How often the action's outcome occurred in the training labels: the Brier baseline.
    base_rate: Mapped[float | None] = mapped_column(Float)
    # Open time of the first bar the decision read, so an audit re-reads the very same bars.
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What asked for the decision, when a rerun must not store it again: the RQ job of a queued
    # analysis (a retried or doubled job), or the user, symbol and bar of an auto-decision (two
    # runs racing). Unique; None for a decision made in a request, which nothing reruns.
    request_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    # Filled in by the scoring job once the horizon has passed.
    outcome_return: Mapped[float | None] = mapped_column(Float)
    outcome_correct: Mapped[bool | None] = mapped_column(Boolean)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    symbol: Mapped[Symbol] = relationship(lazy="joined")

    @property
    def probabilities(self) -> dict[str, float] | None:
        if self.p_up is None or self.p_down is None or self.p_flat is None:
            return None
        return {"up": self.p_up, "down": self.p_down, "flat": self.p_flat}


class DecisionModel(db.Model):
    """A trained model for one symbol and bar interval, stored with what it was trained on and
    how it did out of sample; decisions name the version they used."""

    __tablename__ = "decision_models"
    __table_args__ = (UniqueConstraint("symbol_id", "interval", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    interval: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(64))
    train_start: Mapped[datetime] = mapped_column(UTCDateTime)
    train_end: Mapped[datetime] = mapped_column(UTCDateTime)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
