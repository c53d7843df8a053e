"""Request schemas the blueprints share, and the shapes only REST answers with. What REST and
Socket.IO both send is in ``photon.realtime.payloads``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from photon.errors import PhotonError
from photon.realtime.payloads import QuoteSchema
from photon.types import INTERVALS

# Ids are 64-bit in the database: anything larger can name no row, and must not reach SQL.
MAX_ID = 2**63 - 1
# Market data starts after 1970; a time past the year 3000 is a typo or a probe, and one near
# 9999 overflows the date arithmetic of back-fills (9999-12-31 + one bar).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def id_field(*, query: bool = False, **kwargs: Any) -> fields.Integer:
    """A row id from 1 to ``MAX_ID``. In a JSON body it must be an integer (1.5 is refused, not
    taken as 1); in a query string it arrives as text, and "1.5" is refused all the same."""
    return fields.Integer(strict=not query, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def time_field(**kwargs: Any) -> fields.AwareDateTime:
    """A time between ``EARLIEST`` and ``LATEST``; one without a zone is UTC."""
    return fields.AwareDateTime(
        default_timezone=UTC, validate=validate.Range(EARLIEST, LATEST), **kwargs
    )


class TimeRangeSchema(Schema):
    """``[start, end)``, start before end; a time without a zone is UTC."""

    start = time_field(load_default=None)
    end = time_field(load_default=None)

    @validates_schema
    def _ordered(self, data: dict, **_kwargs) -> None:
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise ValidationError("Must be before end.", "start")


class MarketDataQuerySchema(TimeRangeSchema):
    symbol_id = id_field(query=True, load_default=None)


class BarsQuerySchema(TimeRangeSchema):
    symbol_id = id_field(query=True, required=True)
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
        id_field(),
        validate=validate.Length(max=1000),
        load_default=None,
        metadata={"description": "Default: every symbol you watch"},
    )
