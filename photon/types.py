"""Photon's shared vocabulary: one home for every name and constant that several layers use, and
the plain value types that cross the provider boundary. Imports nothing of Photon's.

The enums are ``StrEnum``s, so a member is equal to its string (``Action.BUY == "BUY"``) and is
stored, compared and serialised as that string.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


ACTIONS = tuple(Action)
SIDES = (Action.BUY, Action.SELL)  # what a paper order can be


class AssetClass(StrEnum):
    STOCK = "stock"
    CRYPTO = "crypto"
    INDEX = "index"


class Source(StrEnum):
    YAHOO = "yahoo"
    BYBIT = "bybit"
    REPLAY = "replay"


class Agent(StrEnum):
    MARKET_MONITOR = "market-monitor"
    DECISION_MAKER = "decision-maker"
    EXECUTION = "execution"


class AgentState(StrEnum):
    RUNNING = "running"
    STOPPED = "stopped"
    # Working, but its last run failed (a provider fault, a crashed job); the error says why,
    # and the next clean run makes it running again.
    DEGRADED = "degraded"


ACTIVE_STATES = (AgentState.RUNNING, AgentState.DEGRADED)


AGENT_STATES = tuple(AgentState)


class OrderStatus(StrEnum):
    FILLED = "filled"
    REJECTED = "rejected"


ORDER_STATUSES = tuple(OrderStatus)


INTERVALS = ("1m", "5m", "1h", "1d")
INTERVAL_SECONDS = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}

# Round-trip trading cost (fees both ways plus spread) as a fraction of price. Decisions are
# labelled, thresholded and scored against it.
COST = 0.004


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
