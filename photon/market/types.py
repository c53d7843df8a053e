"""Plain value types that cross the provider boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STOCK = "stock"
CRYPTO = "crypto"
INDEX = "index"

YAHOO = "yahoo"
BYBIT = "bybit"
REPLAY = "replay"

INTERVALS = ("1m", "5m", "1h", "1d")
INTERVAL_SECONDS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}


@dataclass(frozen=True)
class SymbolInfo:
    ticker: str
    asset_class: str
    source: str
    name: str | None = None
    currency: str | None = None
    exchange: str | None = None


@dataclass(frozen=True)
class Quote:
    """A price snapshot; ``source`` is yahoo, bybit or replay. Times are timezone-aware UTC.

    ``ts`` is on the wall clock: when the price was current. ``source_time`` is the source's own
    clock for it: the venue's timestamp live (then equal to ``ts`` for polled quotes), and in
    replay the historical market moment being replayed (``ts`` is then today's tick).
    """

    ticker: str
    price: float
    ts: datetime
    source: str
    change: float | None = None
    change_pct: float | None = None
    volume: float | None = None
    bid: float | None = None
    ask: float | None = None
    currency: str | None = None
    source_time: datetime | None = None


@dataclass(frozen=True)
class Bar:
    """One OHLCV bar; ``open_time`` is timezone-aware UTC."""

    ticker: str
    interval: str
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
