"""Schemas shared by REST responses and Socket.IO payloads, so both say the same thing."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from photon.market.types import INTERVALS


class QuoteSchema(Schema):
    symbol_id = fields.Integer()
    symbol = fields.String()
    price = fields.Float()
    change = fields.Float(allow_none=True)
    change_pct = fields.Float(allow_none=True)
    volume = fields.Float(allow_none=True)
    bid = fields.Float(allow_none=True)
    ask = fields.Float(allow_none=True)
    currency = fields.String(allow_none=True)
    ts = fields.DateTime(metadata={"description": "Wall-clock time of the quote (UTC)"})
    source_time = fields.DateTime(
        allow_none=True,
        metadata={"description": "The source's own time for this price: the venue's timestamp "
                                 "live; in replay, the historical market moment replayed"})
    source = fields.String(metadata={"description": "yahoo, bybit or replay"})


def quote_fields(symbol, quote) -> dict:
    """``quote`` is a stored MarketData row or a provider Quote; both have the same fields."""
    return {
        "symbol_id": symbol.id, "symbol": symbol.ticker, "price": quote.price,
        "change": quote.change, "change_pct": quote.change_pct, "volume": quote.volume,
        "bid": quote.bid, "ask": quote.ask, "currency": quote.currency, "ts": quote.ts,
        "source_time": quote.source_time, "source": quote.source,
    }


def quote_payload(symbol, quote) -> dict:
    """The ``quote`` event: the same schema as the REST API, serialised for Socket.IO."""
    return QuoteSchema().dump(quote_fields(symbol, quote))


class BarSchema(Schema):
    open_time = fields.DateTime()
    open = fields.Float()
    high = fields.Float()
    low = fields.Float()
    close = fields.Float()
    volume = fields.Float()


class TimeRangeSchema(Schema):
    """``[start, end)``; a time without a zone is UTC."""

    start = fields.AwareDateTime(default_timezone=UTC, load_default=None)
    end = fields.AwareDateTime(default_timezone=UTC, load_default=None)

    @validates_schema
    def _ordered(self, data: dict, **_kwargs) -> None:
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ValidationError("Must be before end.", "start")


class MarketDataQuerySchema(TimeRangeSchema):
    symbol_id = fields.Integer(load_default=None, validate=validate.Range(min=1))


class BarsQuerySchema(TimeRangeSchema):
    symbol_id = fields.Integer(required=True, validate=validate.Range(min=1))
    interval = fields.String(load_default="1h", validate=validate.OneOf(INTERVALS))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


class ErrorItemSchema(Schema):
    code = fields.Integer()
    type = fields.String()
    message = fields.String()
    retry_after = fields.Float(allow_none=True)


def error_item(exc) -> dict:
    return {"code": exc.http_status, "type": type(exc).__name__, "message": exc.message,
            "retry_after": getattr(exc, "retry_after", None)}


class RefreshItemSchema(Schema):
    symbol_id = fields.Integer()
    symbol = fields.String()
    quote = fields.Nested(QuoteSchema, allow_none=True)
    error = fields.Nested(ErrorItemSchema, allow_none=True)


class RefreshResultSchema(Schema):
    results = fields.List(fields.Nested(RefreshItemSchema))
    rows_written = fields.Integer()
    provider_calls = fields.Dict(keys=fields.String(), values=fields.Integer())


class RefreshInSchema(Schema):
    symbol_ids = fields.List(fields.Integer(), load_default=None,
                             metadata={"description": "Default: every symbol you watch"})


class DecisionSchema(Schema):
    id = fields.Integer()
    symbol_id = fields.Integer()
    symbol = fields.String(attribute="symbol.ticker")
    action = fields.String()
    confidence = fields.Float()
    reasoning = fields.String()
    signals = fields.Dict(metadata={"description": "Every feature: value, contribution, label"})
    model = fields.String(metadata={"description": "lightgbm or rules"})
    model_version = fields.String(allow_none=True)
    price = fields.Float(metadata={"description": "Close of the bar the decision used"})
    bar_time = fields.DateTime(
        allow_none=True,
        metadata={"description": "Market time: open time of the last complete bar decided on "
                                 "(in replay, a historical date)"})
    interval = fields.String(allow_none=True)
    horizon_bars = fields.Integer(allow_none=True)
    cost = fields.Float(allow_none=True)
    created_at = fields.DateTime(metadata={"description": "Wall-clock time of the decision"})
    outcome_return = fields.Float(allow_none=True)
    outcome_correct = fields.Boolean(allow_none=True)
    scored_at = fields.DateTime(allow_none=True)


def decision_payload(decision) -> dict:
    return DecisionSchema().dump(decision)
