"""/api/trading/market-data: quote history, latest quotes, refresh now, and bars."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from photon import marketdata, watchlist
from photon.agents import monitor
from photon.api.schemas import (
    BarSchema,
    BarsQuerySchema,
    MarketDataQuerySchema,
    QuoteSchema,
    RefreshInSchema,
    RefreshResultSchema,
    error_item,
    quote_fields,
)
from photon.errors import Invalid, ProviderError
from photon.extensions import db
from photon.market.types import INTERVAL_SECONDS
from photon.providers import get_providers

blp = Blueprint("market_data", __name__, url_prefix="/api/trading/market-data",
                description="Quotes and bars of the symbols you watch")


@blp.route("/")
class History(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(MarketDataQuerySchema, location="query")
    @blp.response(200, QuoteSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=1000)
    def get(self, args: dict, pagination_parameters):
        """Quote history, newest first; filter by symbol_id and [start, end)"""
        if args["symbol_id"] is not None:
            watchlist.get(current_user.id, args["symbol_id"])
        rows, total = marketdata.history(
            db.session, current_user.id, args["symbol_id"], args["start"], args["end"],
            pagination_parameters.page, pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        symbols = {s.id: s for s in watchlist.watched_symbols(current_user.id)}
        return [quote_fields(symbols[row.symbol_id], row) for row in rows]


@blp.route("/latest/")
class Latest(MethodView):
    @jwt_required()
    @blp.response(200, QuoteSchema(many=True))
    def get(self):
        """The latest stored quote of each symbol you watch"""
        return [quote_fields(symbol, row)
                for symbol, row in marketdata.latest_for_user(db.session, current_user.id)]


@blp.route("/refresh/")
class Refresh(MethodView):
    @jwt_required()
    @blp.arguments(RefreshInSchema, required=False)
    @blp.response(200, RefreshResultSchema)
    def post(self, data: dict | None):
        """Fetch quotes now, one batch per source; one bad symbol never fails the others"""
        symbols = watchlist.watched_symbols(current_user.id)
        wanted = (data or {}).get("symbol_ids")
        if wanted is not None:
            for symbol_id in wanted:
                watchlist.get(current_user.id, symbol_id)
            symbols = [s for s in symbols if s.id in set(wanted)]
        cycle = monitor.fetch_and_store(db.session, get_providers(), symbols)
        return {
            "results": [
                {"symbol_id": r.symbol.id, "symbol": r.symbol.ticker,
                 "quote": quote_fields(r.symbol, r.quote) if r.quote else None,
                 "error": error_item(r.error) if r.error else None}
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
    def get(self, args: dict):
        """OHLCV bars in [start, end), oldest first; missing ranges are back-filled first"""
        symbol = watchlist.get(current_user.id, args["symbol_id"]).symbol
        interval = args["interval"]
        step = timedelta(seconds=INTERVAL_SECONDS[interval])
        end = args["end"] or get_providers().market_now(symbol.source, symbol.ticker)
        start = args["start"] or end - step * args["limit"]
        if (end - start) / step > 20 * args["limit"]:
            raise Invalid("That range holds too many bars; narrow it or use a larger interval",
                          errors={"start": ["Range too long for this interval."]})
        provider = get_providers().for_source(symbol.source)
        headers = {}
        try:
            marketdata.backfill(db.session, provider, symbol, interval, start, end,
                                memo=get_providers().memo)
        except ProviderError as exc:
            db.session.rollback()
            if not marketdata.stored_bars(db.session, symbol.id, interval, start, end, limit=1):
                raise
            # Stored bars are still worth serving; say the back-fill failed.
            headers["X-Photon-Backfill"] = f"failed: {exc.message}"
            current_app.logger.warning("bars back-fill failed for %s: %s", symbol.ticker, exc)
        bars = marketdata.stored_bars(db.session, symbol.id, interval, start, end,
                                      limit=args["limit"])
        return bars, 200, headers
