"""/api/trading/portfolio and /api/trading/orders: the user's paper portfolio and orders.

Paper only: these numbers come from simulated fills at stored quotes; nothing here ever reached
an exchange.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from photon.agents.execution import books
from photon.api.blueprint import Blueprint
from photon.api.schemas import TimeRangeSchema, id_field
from photon.extensions import db
from photon.models import EquitySnapshot, PaperOrder
from photon.realtime.payloads import OrderSchema, PortfolioSchema
from photon.store import equity, orders
from photon.tasks.control import paper_settings
from photon.types import ORDER_STATUSES, SIDES

blp = Blueprint(
    "portfolio",
    __name__,
    url_prefix="/api/trading",
    description="Your paper portfolio and paper orders (simulated, never sent)",
)


class EquityQuerySchema(TimeRangeSchema):
    limit = fields.Integer(
        load_default=1000,
        validate=validate.Range(min=1, max=5000),
        metadata={"description": "The newest points, up to this many"},
    )


class EquityPointSchema(Schema):
    ts = fields.DateTime(metadata={"description": "Wall-clock time of the mark"})
    equity = fields.Float(metadata={"description": "Cash + positions at the latest quotes"})
    cash = fields.Float()


class OrderQuerySchema(TimeRangeSchema):
    symbol_id = id_field(query=True, load_default=None)
    side = fields.String(load_default=None, validate=validate.OneOf(SIDES))
    status = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATUSES))


@blp.route("/portfolio/")
class PortfolioView(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, PortfolioSchema)
    def get(self) -> dict[str, Any]:
        """Your paper portfolio: cash, equity, PnL, open positions and the last orders"""
        return books.portfolio_summary(db.session, current_user.id, paper_settings())


@blp.route("/portfolio/equity/")
class EquityCurve(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(EquityQuerySchema, location="query")
    @blp.response(200, EquityPointSchema(many=True))
    def get(self, args: dict) -> list[EquitySnapshot]:
        """Your paper equity curve, oldest first: a point at every fill, and every 15 s as
        quotes move it"""
        return equity.curve(db.session, current_user.id, args["start"], args["end"], args["limit"])


@blp.route("/orders/")
class Orders(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(OrderQuerySchema, location="query")
    @blp.response(200, OrderSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args: dict, pagination_parameters: PaginationParameters) -> list[PaperOrder]:
        """Your paper orders, newest first; filter by symbol_id, side, status and [start, end)"""
        rows, pagination_parameters.item_count = orders.page(
            db.session,
            current_user.id,
            args,
            pagination_parameters.page,
            pagination_parameters.page_size,
        )
        return rows


@blp.route("/orders/<int:order_id>/")
class OrderDetail(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, OrderSchema)
    def get(self, order_id: int) -> PaperOrder:
        """One of your paper orders"""
        return orders.get(db.session, current_user.id, order_id)
