from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from photon.extensions import db
from photon.models.types import BigId, UTCDateTime


class MarketData(db.Model):
    """A quote snapshot; refetching the same timestamp upserts rather than duplicates."""

    __tablename__ = "market_data"
    __table_args__ = (
        UniqueConstraint("symbol_id", "ts"),
        Index("ix_market_data_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    price: Mapped[float] = mapped_column(Float)
    change: Mapped[float | None] = mapped_column(Float)
    change_pct: Mapped[float | None] = mapped_column(Float)
    volume: Mapped[float | None] = mapped_column(Float)
    bid: Mapped[float | None] = mapped_column(Float)
    ask: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    # The source's own clock: the venue's timestamp, or in replay the historical moment.
    source_time: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Bar(db.Model):
    __tablename__ = "bars"
    __table_args__ = (UniqueConstraint("symbol_id", "interval", "open_time"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"))
    interval: Mapped[str] = mapped_column(String(4))
    open_time: Mapped[datetime] = mapped_column(UTCDateTime)
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10))
