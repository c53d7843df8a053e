"""/api/trading/agents: status and control of the three agents, per user."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from photon.api.blueprint import Blueprint
from photon.api.schemas import id_field
from photon.realtime.payloads import (
    AgentStatusSchema,
    ExecutionStatusSchema,
    PaperSettingsSchema,
)
from photon.tasks import control
from photon.types import Agent

blp = Blueprint(
    "agents",
    __name__,
    url_prefix="/api/trading/agents",
    description="The three agents, as they work for you",
)


class QueuedStatusSchema(AgentStatusSchema):
    job_id = fields.String(allow_none=True, metadata={"description": "The job just queued"})


class ActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(("start", "stop")))


class DecisionMakerInSchema(Schema):
    action = fields.String(
        validate=validate.OneOf(("start", "stop")),
        metadata={"description": "Turn auto-decide on fresh bars on or off"},
    )
    symbol_id = id_field(metadata={"description": "Queue one analysis now"})

    @validates_schema
    def _one_of(self, data: dict, **_kwargs) -> None:
        if ("action" in data) == ("symbol_id" in data):
            raise ValidationError("Give either an action or a symbol_id.", "_schema")


class ExecutionInSchema(Schema):
    action = fields.String(
        required=True, validate=validate.OneOf(("start", "stop", "reset", "configure"))
    )
    starting_cash = fields.Float(
        validate=validate.Range(min=1, max=1e12),
        metadata={"description": "With reset; default: as before"},
    )
    settings = fields.Nested(
        PaperSettingsSchema, metadata={"description": "With configure: your overrides"}
    )

    @validates_schema
    def _fits_action(self, data: dict, **_kwargs) -> None:
        if "starting_cash" in data and data["action"] != "reset":
            raise ValidationError("starting_cash goes with reset.", "starting_cash")
        if (data["action"] == "configure") != ("settings" in data):
            raise ValidationError(
                "settings goes with configure, and configure needs it.", "settings"
            )


@blp.route("/market-monitor/")
class MarketMonitor(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, QueuedStatusSchema)
    def get(self) -> dict[str, Any]:
        """Your market monitor: state, last run, last success, last error, cycles"""
        return {**control.status(current_user.id, Agent.MARKET_MONITOR), "job_id": None}

    @blp.arguments(ActionSchema)
    @blp.response(200, QueuedStatusSchema)
    def post(self, data: dict) -> dict[str, Any]:
        """Start or stop your market monitor; starting twice is harmless"""
        return control.set_monitor(current_user.id, data["action"])


@blp.route("/decision-maker/")
class DecisionMaker(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, QueuedStatusSchema)
    def get(self) -> dict[str, Any]:
        """Your decision maker's status; running means it decides on every fresh bar"""
        return {**control.status(current_user.id, Agent.DECISION_MAKER), "job_id": None}

    @blp.arguments(DecisionMakerInSchema)
    @blp.response(200, QueuedStatusSchema)
    @blp.alt_response(202, schema=QueuedStatusSchema, description="Analysis queued; see job_id")
    def post(self, data: dict) -> dict[str, Any] | tuple[dict[str, Any], int]:
        """Queue an analysis of one symbol (202 + job id), or turn auto-decide on or off"""
        if "symbol_id" in data:
            return control.queue_analysis(current_user.id, data["symbol_id"]), 202
        return control.set_decision_maker(current_user.id, data["action"])


@blp.route("/execution/")
class Execution(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, ExecutionStatusSchema)
    def get(self) -> dict[str, Any]:
        """Your paper-execution agent: state, mode paper, equity, cash, PnL, positions, orders"""
        return control.status(current_user.id, Agent.EXECUTION)

    @blp.arguments(ExecutionInSchema)
    @blp.response(200, ExecutionStatusSchema)
    def post(self, data: dict) -> dict[str, Any]:
        """Start or stop paper execution, reset the paper portfolio, or set your overrides"""
        return control.set_execution(
            current_user.id, data["action"], data.get("starting_cash"), data.get("settings")
        )
