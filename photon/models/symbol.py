from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from photon.extensions import db
from photon.models.types import UTCDateTime, utcnow


class Symbol(db.Model):
    """One global instrument; market data is stored once however many users watch it."""

    __tablename__ = "symbols"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticker: Mapped[str] = mapped_column(String(20), unique=True)
    asset_class: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(200))
    currency: Mapped[str | None] = mapped_column(String(10))
    exchange: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Watch(db.Model):
    """A user's watch-list entry: the only way a user sees a symbol."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "symbol_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    symbol_id: Mapped[int] = mapped_column(ForeignKey("symbols.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    symbol: Mapped[Symbol] = relationship(lazy="joined")
