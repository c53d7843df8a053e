"""/api/trading/symbols: the user's watch list."""

from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields

from photon import providers
from photon.api.blueprint import Blueprint
from photon.extensions import db
from photon.models import Watch
from photon.realtime import presence
from photon.store import watchlist
from photon.tasks.stream import signals

blp = Blueprint(
    "symbols", __name__, url_prefix="/api/trading/symbols", description="Your watch list"
)


class SymbolInSchema(Schema):
    symbol = fields.String(
        required=True, metadata={"description": "AAPL, BTC, eth/usdt, BRK.B, ^GSPC ..."}
    )


class SymbolSchema(Schema):
    id = fields.Integer(attribute="symbol.id")
    symbol = fields.String(attribute="symbol.ticker")
    asset_class = fields.String(attribute="symbol.asset_class")
    source = fields.String(attribute="symbol.source")
    name = fields.String(attribute="symbol.name", allow_none=True)
    currency = fields.String(attribute="symbol.currency", allow_none=True)
    exchange = fields.String(attribute="symbol.exchange", allow_none=True)
    added_at = fields.DateTime(attribute="created_at")


@blp.route("/")
class Symbols(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, SymbolSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, pagination_parameters: PaginationParameters) -> list[Watch]:
        """List the symbols you watch"""
        items, pagination_parameters.item_count = watchlist.page(
            db.session, current_user.id, pagination_parameters.page, pagination_parameters.page_size
        )
        return items

    @blp.arguments(SymbolInSchema)
    @blp.response(201, SymbolSchema)
    @blp.alt_response(200, schema=SymbolSchema, description="Already watched; nothing added")
    def post(self, data: dict) -> tuple[Watch, int]:
        """Watch a symbol; the data source is detected from it (BTC becomes BTCUSDT on Bybit)"""
        watch, created = watchlist.add(
            db.session, current_user.id, data["symbol"], providers.describe
        )
        if created:
            signals.watch_changed()  # the stream subscribes if this user's monitor runs
        return watch, 201 if created else 200


@blp.route("/<int:symbol_id>/")
class SymbolDetail(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, SymbolSchema)
    def get(self, symbol_id: int) -> Watch:
        """One watched symbol"""
        return watchlist.get(db.session, current_user.id, symbol_id)

    @blp.response(204)
    def delete(self, symbol_id: int) -> None:
        """Stop watching a symbol; your live connections leave its room"""
        presence.unwatch(current_user.id, symbol_id)
        signals.watch_changed()
