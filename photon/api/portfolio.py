"""/api/trading/portfolio and /api/trading/orders: the user's paper portfolio and orders.

Paper only: these numbers come from simulated fills at stored quotes; nothing here ever reached
an exchange.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, select

from photon import pagination
from photon.agents import portfolio as books
from photon.api.schemas import TimeRangeSchema
from photon.errors import NotFound
from photon.extensions import db
from photon.models import PaperOrder
from photon.paper import MODE, SIDES, STATUSES, PaperSettings

blp = Blueprint("portfolio", __name__, url_prefix="/api/trading",
                description="Your paper portfolio and paper orders (simulated, never sent)")


class OrderSchema(Schema):
    id = fields.Integer()
    symbol_id = fields.Integer()
    symbol = fields.String(attribute="symbol.ticker")
    decision_id = fields.Integer(allow_none=True)
    bar_time = fields.DateTime(attribute="decision.bar_time", allow_none=True,
                               metadata={"description": "Market time of the bar its decision "
                                                        "used (chart markers sit there)"})
    side = fields.String(metadata={"description": "BUY or SELL"})
    status = fields.String(metadata={"description": "filled or rejected"})
    quantity = fields.Float(metadata={"description": "0 when rejected"})
    price = fields.Float(allow_none=True, metadata={"description": "Fill price, in USD"})
    fee = fields.Float()
    realised_pnl = fields.Float(allow_none=True,
                                metadata={"description": "SELL fills: qty × (price − avg)"})
    reason = fields.String(allow_none=True, metadata={"description": "Why it was rejected"})
    quote_price = fields.Float(allow_none=True)
    quote_ts = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    mode = fields.Constant(MODE)


def order_payload(order: PaperOrder) -> dict:
    """The ``order`` event: the same schema as the REST API, serialised for Socket.IO."""
    return OrderSchema().dump(order)


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
    halted_until = fields.DateTime(allow_none=True,
                                   metadata={"description": "Daily loss limit hit: no buys until"})
    day_start_equity = fields.Float(allow_none=True)
    settings = fields.Nested(PaperSettingsSchema)
    positions = fields.List(fields.Nested(PositionSchema))
    last_orders = fields.List(fields.Nested(OrderSchema))


class OrderQuerySchema(TimeRangeSchema):
    symbol_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    side = fields.String(load_default=None, validate=validate.OneOf(SIDES))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


def paper_settings() -> PaperSettings:
    return PaperSettings.from_config(current_app.config["PHOTON"])


def summary(user_id: int) -> dict[str, Any]:
    body = books.portfolio_summary(db.session, user_id, paper_settings())
    db.session.commit()  # the portfolio may just have been opened
    return body


def _orders(user_id: int, args: dict) -> Select:
    query = select(PaperOrder).where(PaperOrder.user_id == user_id)
    for name in ("symbol_id", "side", "status"):
        if args[name] is not None:
            query = query.where(getattr(PaperOrder, name) == args[name])
    if args["start"] is not None:
        query = query.where(PaperOrder.created_at >= args["start"])
    if args["end"] is not None:
        query = query.where(PaperOrder.created_at < args["end"])
    return query


@blp.route("/portfolio/")
class PortfolioView(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, PortfolioSchema)
    def get(self):
        """Your paper portfolio: cash, equity, PnL, open positions and the last orders"""
        return summary(current_user.id)


@blp.route("/orders/")
class Orders(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(OrderQuerySchema, location="query")
    @blp.response(200, OrderSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args: dict, pagination_parameters):
        """Your paper orders, newest first; filter by symbol_id, side, status and [start, end)"""
        rows, pagination_parameters.item_count = pagination.page(
            db.session, _orders(current_user.id, args),
            (PaperOrder.created_at.desc(), PaperOrder.id.desc()),
            pagination_parameters.page, pagination_parameters.page_size)
        return rows


@blp.route("/orders/<int:order_id>/")
class OrderDetail(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, OrderSchema)
    def get(self, order_id: int):
        """One of your paper orders"""
        order = db.session.scalars(select(PaperOrder).where(
            PaperOrder.id == order_id, PaperOrder.user_id == current_user.id)).first()
        if order is None:
            raise NotFound(f"No order with id {order_id}")
        return order
