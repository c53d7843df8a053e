"""/api/trading/decisions: decide now, history, statistics, and the audit of one decision."""

from __future__ import annotations

from typing import Any

import redis
from flask import current_app
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, fields, validate

from photon.agents.decision import agent as decider
from photon.agents.decision.audit import audit
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


class ReliabilityBinSchema(Schema):
    bin_lo = fields.Float()
    bin_hi = fields.Float()
    n = fields.Integer()
    mean_confidence = fields.Float(allow_none=True)
    hit_rate = fields.Float(allow_none=True)


class JudgedSchema(Schema):
    n = fields.Integer(metadata={"description": "Scored decisions"})
    hit_rate = fields.Float(allow_none=True)
    hit_rate_ci = fields.List(
        fields.Float(),
        allow_none=True,
        metadata={
            "description": "95 % Wilson interval; it assumes independent decisions, and "
            "overlapping horizons on one symbol are not, so the real interval is wider"
        },
    )
    mean_confidence = fields.Float(allow_none=True, metadata={"description": "Calibrated P(right)"})
    ece = fields.Float(allow_none=True, metadata={"description": "10 equal-width bins"})
    brier = fields.Float(allow_none=True)
    brier_base_rate = fields.Float(
        allow_none=True,
        metadata={"description": "Brier of stating the training labels' base rate instead"},
    )
    n_base_rate = fields.Integer()
    horizons = fields.List(fields.String(), metadata={"description": "Horizons, in bars"})


class GroupSchema(JudgedSchema):
    model = fields.String()
    action = fields.String()
    reliability = fields.List(fields.Nested(ReliabilityBinSchema))


class StatisticsSchema(Schema):
    total = fields.Integer()
    mean_confidence = fields.Float(allow_none=True)
    scored = fields.Integer(metadata={"description": "Decisions whose horizon has passed"})
    hit_rate = fields.Float(allow_none=True, metadata={"description": "Right / scored"})
    by_action = fields.Dict(keys=fields.String(), values=fields.Nested(BucketSchema))
    by_symbol = fields.Dict(keys=fields.String(), values=fields.Nested(BucketSchema))
    by_model = fields.Dict(keys=fields.String(), values=fields.Integer())
    reliability = fields.List(
        fields.Nested(ReliabilityBinSchema),
        metadata={"description": "Scored decisions pooled, 10 equal-width confidence bins"},
    )
    calibration = fields.Nested(JudgedSchema, metadata={"description": "Scored, pooled"})
    groups = fields.List(
        fields.Nested(GroupSchema), metadata={"description": "Scored, per model and action"}
    )


class CheckSchema(Schema):
    stored = fields.Raw(allow_none=True)
    derived = fields.Raw(allow_none=True)
    match = fields.Boolean()


class SignalCheckSchema(Schema):
    match = fields.Boolean()
    differences = fields.Dict(keys=fields.String(), values=fields.Dict())
    missing = fields.List(fields.String())


class AuditSchema(Schema):
    decision_id = fields.Integer()
    match = fields.Boolean(metadata={"description": "Everything below matches bit for bit"})
    problem = fields.String(allow_none=True, metadata={"description": "Why it could not rerun"})
    model = fields.String()
    model_version = fields.String(allow_none=True)
    bar_time = fields.DateTime(allow_none=True)
    window_start = fields.DateTime(allow_none=True)
    bars_read = fields.Integer()
    action = fields.Nested(CheckSchema)
    confidence = fields.Nested(CheckSchema)
    probabilities = fields.Nested(CheckSchema)
    price = fields.Nested(CheckSchema)
    signals = fields.Nested(SignalCheckSchema)


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


@blp.route("/<int:decision_id>/audit/")
class DecisionAudit(MethodView):
    @jwt_required()
    @blp.response(200, AuditSchema)
    def get(self, decision_id: int) -> dict[str, Any]:
        """Re-derive one of your decisions from its stored bars and model, and compare"""
        return audit(db.session, decisions.get(db.session, current_user.id, decision_id))


@blp.route("/statistics/")
class Statistics(MethodView):
    @jwt_required()
    @blp.arguments(DecisionQuerySchema, location="query")
    @blp.response(200, StatisticsSchema)
    def get(self, args: dict) -> dict[str, Any]:
        """Counts, hit rates with intervals, and calibration (reliability, ECE, Brier) of scored
        decisions, pooled and per model and action"""
        return decisions.statistics(db.session, current_user.id, args)
