"""/api/trading/decisions: decide now, history, and statistics."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from photon.agents.decision import agent as decider
from photon.api.blueprint import Blueprint
from photon.api.schemas import TimeRangeSchema, id_field
from photon.extensions import db
from photon.models import TradingDecision
from photon.providers import get_providers
from photon.realtime.payloads import DecisionSchema
from photon.store import decisions
from photon.tasks.decisions import hand_on
from photon.types import ACTIONS

blp = Blueprint(
    "decisions",
    __name__,
    url_prefix="/api/trading/decisions",
    description="BUY/SELL/HOLD decisions with their reasons",
)


class DecisionQuerySchema(TimeRangeSchema):
    symbol_id = id_field(query=True, load_default=None)
    action = fields.String(load_default=None, validate=validate.OneOf(ACTIONS))


class DecideSchema(Schema):
    symbol_id = id_field(required=True)


class BucketSchema(Schema):
    count = fields.Integer()
    mean_confidence = fields.Float(allow_none=True)
    scored = fields.Integer()
    hit_rate = fields.Float(allow_none=True)


class StatisticsSchema(Schema):
    total = fields.Integer()
    mean_confidence = fields.Float(allow_none=True)
    scored = fields.Integer(metadata={"description": "Decisions whose horizon has passed"})
    hit_rate = fields.Float(allow_none=True, metadata={"description": "Right / scored"})
    by_action = fields.Dict(keys=fields.String(), values=fields.Nested(BucketSchema))
    by_symbol = fields.Dict(keys=fields.String(), values=fields.Nested(BucketSchema))
    by_model = fields.Dict(keys=fields.String(), values=fields.Integer())


@blp.route("/")
class Decisions(MethodView):
    decorators = [jwt_required()]

    @blp.arguments(DecisionQuerySchema, location="query")
    @blp.response(200, DecisionSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=500)
    def get(self, args: dict, pagination_parameters: PaginationParameters) -> list[TradingDecision]:
        """Your decisions, newest first; filter by symbol_id, action and [start, end)"""
        rows, pagination_parameters.item_count = decisions.page(
            db.session,
            current_user.id,
            args,
            pagination_parameters.page,
            pagination_parameters.page_size,
        )
        return rows

    @blp.arguments(DecideSchema)
    @blp.response(201, DecisionSchema)
    def post(self, data: dict) -> TradingDecision:
        """Decide now for one of your symbols (409 when there are too few bars)"""
        decision = decider.decide_now(
            db.session, get_providers(), current_user.id, data["symbol_id"]
        )
        try:
            hand_on(current_user.id, [decision])
        except redis.RedisError as exc:
            # The decision is stored and shown; only its paper order and training wait.
            current_app.logger.warning("paper execution or training not queued: %s", exc)
        return decision


@blp.route("/<int:decision_id>/")
class DecisionDetail(MethodView):
    @jwt_required()
    @blp.response(200, DecisionSchema)
    def get(self, decision_id: int) -> TradingDecision:
        """One of your decisions"""
        return decisions.get(db.session, current_user.id, decision_id)


@blp.route("/statistics/")
class Statistics(MethodView):
    @jwt_required()
    @blp.arguments(DecisionQuerySchema, location="query")
    @blp.response(200, StatisticsSchema)
    def get(self, args: dict) -> dict[str, Any]:
        """Counts by action, symbol and model, mean confidence, and the realised hit rate"""
        return decisions.statistics(db.session, current_user.id, args)
