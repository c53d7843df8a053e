"""One payload builder per event, and the schemas REST answers with, so that an object looks the
same in a REST response and in a Socket.IO event.

Each event has a schema, a ``*_fields`` function that gathers the raw values (what a REST view
returns for flask-smorest to dump with the same schema), and a function of the event's name that
dumps them, ready to emit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from marshmallow import Schema, fields, validate

from photon.agents.execution.settings import MODE
from photon.models import AgentStatus, PaperOrder, Symbol, TradingDecision
from photon.types import AGENT_STATES, INTERVAL_SECONDS, Bar, Quote

# --- quote -----------------------------------------------------------------------------------


class QuoteSchema(Schema):
    symbol_id = fields.Integer()
    symbol = fields.String()
    price = fields.Float()
    change = fields.Float(allow_none=True)
    change_pct = fields.Float(allow_none=True, metadata={"description": "In percent"})
    volume = fields.Float(allow_none=True)
    bid = fields.Float(allow_none=True)
    ask = fields.Float(allow_none=True)
    currency = fields.String(allow_none=True)
    ts = fields.DateTime(metadata={"description": "Wall-clock time of the quote (UTC)"})
    source_time = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "The source's own time for this price: the venue's timestamp "
            "live; in replay, the historical market moment replayed"
        },
    )
    source = fields.String(metadata={"description": "yahoo, bybit or replay"})


def quote_fields(symbol: Symbol, quote: Any) -> dict[str, Any]:
    """``quote`` is a stored MarketData row or a provider Quote; both have the same fields."""
    return {
        "symbol_id": symbol.id,
        "symbol": symbol.ticker,
        "price": quote.price,
        "change": quote.change,
        "change_pct": quote.change_pct,
        "volume": quote.volume,
        "bid": quote.bid,
        "ask": quote.ask,
        "currency": quote.currency,
        "ts": quote.ts,
        "source_time": quote.source_time,
        "source": quote.source,
    }


def quote(symbol: Symbol, value: Quote | Any) -> dict[str, Any]:
    return QuoteSchema().dump(quote_fields(symbol, value))


# --- bar -------------------------------------------------------------------------------------


class BarSchema(Schema):
    symbol = fields.String()
    interval = fields.String()
    open_time = fields.DateTime()
    open = fields.Float()
    high = fields.Float()
    low = fields.Float()
    close = fields.Float()
    volume = fields.Float()
    closed = fields.Boolean(metadata={"description": "False while the bar is still forming"})


def is_closed(bar: Bar | Any, now: datetime) -> bool:
    """Whether ``bar``'s interval has passed at ``now`` (else it is still forming)."""
    return bar.open_time + timedelta(seconds=INTERVAL_SECONDS[bar.interval]) <= now


def bar_fields(symbol: Symbol, bar: Bar | Any, closed: bool) -> dict[str, Any]:
    """A stored or provider bar, and whether it is complete."""
    return {
        "symbol": symbol.ticker,
        "interval": bar.interval,
        "open_time": bar.open_time,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "closed": closed,
    }


def bar(symbol: Symbol, value: Bar | Any, closed: bool) -> dict[str, Any]:
    return BarSchema().dump(bar_fields(symbol, value, closed))


# --- decision --------------------------------------------------------------------------------


class DecisionSchema(Schema):
    id = fields.Integer()
    symbol_id = fields.Integer()
    symbol = fields.String(attribute="symbol.ticker")
    action = fields.String()
    confidence = fields.Float(
        metadata={
            "description": "Calibrated probability that the action is right after horizon_bars "
            "bars: P(up) for BUY, P(down) for SELL, P(flat) for HOLD"
        }
    )
    probabilities = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        allow_none=True,
        metadata={
            "description": "Calibrated {up, down, flat}: the return after horizon_bars bars "
            "beyond +cost, below -cost, or within ± cost"
        },
    )
    base_rate = fields.Float(
        allow_none=True,
        metadata={"description": "How often this action was right in the training labels"},
    )
    reasoning = fields.String()
    signals = fields.Dict(metadata={"description": "Every feature: value, contribution, label"})
    model = fields.String(metadata={"description": "lightgbm or rules"})
    model_version = fields.String(allow_none=True)
    price = fields.Float(metadata={"description": "Close of the bar the decision used"})
    bar_time = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "Market time: open time of the last complete bar decided on "
            "(in replay, a historical date)"
        },
    )
    interval = fields.String(allow_none=True)
    horizon_bars = fields.Integer(allow_none=True)
    cost = fields.Float(allow_none=True)
    window_start = fields.DateTime(
        allow_none=True, metadata={"description": "Open time of the first bar the decision read"}
    )
    created_at = fields.DateTime(metadata={"description": "Wall-clock time of the decision"})
    outcome_return = fields.Float(allow_none=True)
    outcome_correct = fields.Boolean(allow_none=True)
    scored_at = fields.DateTime(allow_none=True)


def decision(row: TradingDecision) -> dict[str, Any]:
    return DecisionSchema().dump(row)


# --- order -----------------------------------------------------------------------------------


class OrderSchema(Schema):
    id = fields.Integer()
    symbol_id = fields.Integer()
    symbol = fields.String(attribute="symbol.ticker")
    decision_id = fields.Integer(allow_none=True)
    bar_time = fields.DateTime(
        attribute="decision.bar_time",
        allow_none=True,
        metadata={
            "description": "Market time of the bar its decision used (chart markers sit there)"
        },
    )
    side = fields.String(metadata={"description": "BUY or SELL"})
    status = fields.String(metadata={"description": "filled or rejected"})
    quantity = fields.Float(metadata={"description": "0 when rejected"})
    price = fields.Float(allow_none=True, metadata={"description": "Fill price, in USD"})
    fee = fields.Float()
    realised_pnl = fields.Float(
        allow_none=True, metadata={"description": "SELL fills: qty × (price − avg)"}
    )
    reason = fields.String(allow_none=True, metadata={"description": "Why it was rejected"})
    quote_price = fields.Float(allow_none=True)
    quote_ts = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    mode = fields.Constant(MODE)


def order(row: PaperOrder) -> dict[str, Any]:
    return OrderSchema().dump(row)


# --- agent_status ----------------------------------------------------------------------------


class PositionSchema(Schema):
    symbol_id = fields.Integer()
    symbol = fields.String()
    asset_class = fields.String()
    quantity = fields.Float()
    avg_price = fields.Float(metadata={"description": "Average fill price, fees excluded"})
    cost = fields.Float()
    price = fields.Float(metadata={"description": "Latest stored quote (mark)"})
    quote_ts = fields.DateTime(allow_none=True)
    market_value = fields.Float()
    unrealised_pnl = fields.Float()
    opened_at = fields.DateTime()


class PaperSettingsSchema(Schema):
    """The knobs a user may override (starting cash changes only by a reset)."""

    fee_crypto = fields.Float(validate=validate.Range(min=0, max=0.1))
    fee_stock = fields.Float(validate=validate.Range(min=0, max=0.1))
    slippage = fields.Float(validate=validate.Range(min=0, max=0.1))
    max_quote_age = fields.Float(validate=validate.Range(min=1, max=7 * 86400))
    position_fraction = fields.Float(validate=validate.Range(min=0, max=1))
    max_position_pct = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False))
    max_positions = fields.Integer(validate=validate.Range(min=1, max=1000))
    daily_loss_pct = fields.Float(validate=validate.Range(min=0, max=1, min_inclusive=False))
    cooldown = fields.Float(validate=validate.Range(min=0, max=30 * 86400))


class PortfolioSchema(Schema):
    mode = fields.String(metadata={"description": "Always paper"})
    currency = fields.String(metadata={"description": "USD; USDT and USDC count as USD"})
    starting_cash = fields.Float()
    cash = fields.Float()
    equity = fields.Float(metadata={"description": "Cash + positions at the latest quotes"})
    positions_value = fields.Float()
    realised_pnl = fields.Float(metadata={"description": "Gross, before fees"})
    unrealised_pnl = fields.Float()
    fees_paid = fields.Float()
    net_pnl = fields.Float(metadata={"description": "equity − starting cash"})
    return_pct = fields.Float()
    halted_until = fields.DateTime(
        allow_none=True, metadata={"description": "Daily loss limit hit: no buys until"}
    )
    day_start_equity = fields.Float(allow_none=True)
    settings = fields.Nested(PaperSettingsSchema)
    positions = fields.List(fields.Nested(PositionSchema))
    last_orders = fields.List(fields.Nested(OrderSchema))


class AgentStatusSchema(Schema):
    agent = fields.String()
    state = fields.String(validate=validate.OneOf(AGENT_STATES))
    last_run_at = fields.DateTime(allow_none=True)
    last_success_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    cycles = fields.Integer()
    counters = fields.Dict(
        metadata={
            "description": "What the agent counted (orders_filled, decided, halted_until ...)"
        }
    )
    symbols_watched = fields.Integer()


class ExecutionStatusSchema(PortfolioSchema, AgentStatusSchema):
    """The execution agent's status carries the paper portfolio it works on."""


def agent_status_fields(
    status: AgentStatus, symbols_watched: int, portfolio: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Status fields, plus the portfolio summary for the execution agent."""
    return {
        "agent": status.agent,
        "state": status.state,
        "last_run_at": status.last_run_at,
        "last_success_at": status.last_success_at,
        "last_error": status.last_error,
        "cycles": status.cycles or 0,
        "counters": status.counters or {},
        "symbols_watched": symbols_watched,
        **(portfolio or {}),
    }


def agent_status(
    status: AgentStatus, symbols_watched: int, portfolio: dict[str, Any] | None = None
) -> dict[str, Any]:
    schema = ExecutionStatusSchema() if portfolio is not None else AgentStatusSchema()
    return schema.dump(agent_status_fields(status, symbols_watched, portfolio))


# --- error -----------------------------------------------------------------------------------


class ErrorEventSchema(Schema):
    message = fields.String()
    refused = fields.Dict(keys=fields.String(), values=fields.String(), required=False)


def error(message: str, refused: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if refused:
        body["refused"] = refused
    return ErrorEventSchema().dump(body)
