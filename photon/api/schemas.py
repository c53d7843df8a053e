"""Request schemas the blueprints share, and the shapes only REST answers with. What REST and
Socket.IO both send is in ``photon.realtime.payloads``."""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from photon.errors import PhotonError
from photon.realtime.payloads import QuoteSchema
from photon.types import INTERVALS


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


def error_item(exc: PhotonError) -> dict:
    return {
        "code": exc.http_status,
        "type": type(exc).__name__,
        "message": exc.message,
        "retry_after": getattr(exc, "retry_after", None),
    }


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
    symbol_ids = fields.List(
        fields.Integer(),
        load_default=None,
        metadata={"description": "Default: every symbol you watch"},
    )
