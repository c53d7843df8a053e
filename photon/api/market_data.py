"""/api/trading/market-data: quote history, latest quotes, refresh now, and bars."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest.pagination import PaginationParameters

from photon.agents import backfill, monitor
from photon.api.blueprint import Blueprint
from photon.api.schemas import (
    BarsQuerySchema,
    MarketDataQuerySchema,
    RefreshInSchema,
    RefreshResultSchema,
    error_item,
)
from photon.extensions import db
from photon.providers import get_providers
from photon.realtime.payloads import BarSchema, QuoteSchema, bar_fields, is_closed, quote_fields
from photon.store import quotes, watchlist

blp = Blueprint(
    "market_data",
    __name__,
    url_prefix="/api/trading/market-data",
    description="Quotes and bars of the symbols you watch",
)


@blp.route("/")
class History(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(MarketDataQuerySchema, location="query")
    @blp.response(200, QuoteSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=1000)
    def get(self, args: dict, pagination_parameters: PaginationParameters) -> list[dict[str, Any]]:
        """Quote history, newest first; filter by symbol_id and [start, end)"""
        if args["symbol_id"] is not None:
            watchlist.get(db.session, current_user.id, args["symbol_id"])
        rows, pagination_parameters.item_count = quotes.history(
            db.session,
            current_user.id,
            args["symbol_id"],
            args["start"],
            args["end"],
            pagination_parameters.page,
            pagination_parameters.page_size,
        )
        return [quote_fields(symbol, row) for symbol, row in rows]


@blp.route("/latest/")
class Latest(MethodView):
    @jwt_required()
    @blp.response(200, QuoteSchema(many=True))
    def get(self) -> list[dict[str, Any]]:
        """The latest stored quote of each symbol you watch"""
        return [
            quote_fields(symbol, row)
            for symbol, row in quotes.latest_for_user(db.session, current_user.id)
        ]


@blp.route("/refresh/")
class Refresh(MethodView):
    @jwt_required()
    @blp.arguments(RefreshInSchema, required=False)
    @blp.response(200, RefreshResultSchema)
    def post(self, data: dict | None) -> dict[str, Any]:
        """Fetch quotes now, one batch per source; one bad symbol never fails the others"""
        cycle = monitor.refresh(
            db.session, get_providers(), current_user.id, (data or {}).get("symbol_ids")
        )
        return {
            "results": [
                {
                    "symbol_id": r.symbol.id,
                    "symbol": r.symbol.ticker,
                    "quote": quote_fields(r.symbol, r.quote) if r.quote else None,
                    "error": error_item(r.error) if r.error else None,
                }
                for r in cycle.results
            ],
            "rows_written": cycle.rows_written,
            "provider_calls": cycle.calls,
        }


@blp.route("/bars/")
class Bars(MethodView):
    @jwt_required()
    @blp.arguments(BarsQuerySchema, location="query")
    @blp.response(200, BarSchema(many=True))
    def get(self, args: dict) -> tuple[list[dict[str, Any]], int, dict[str, str]]:
        """OHLCV bars in [start, end), oldest first; missing ranges are back-filled first"""
        symbol = watchlist.watched_symbol(db.session, current_user.id, args["symbol_id"])
        providers = get_providers()
        rows, warning = backfill.chart_bars(
            db.session,
            providers,
            symbol,
            args["interval"],
            args["start"],
            args["end"],
            args["limit"],
        )
        now = providers.market_now(symbol.source, symbol.ticker)
        body = [bar_fields(symbol, row, is_closed(row, now)) for row in rows]
        return body, 200, {"X-Photon-Backfill": warning} if warning else {}
