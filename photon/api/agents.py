"""/api/trading/agents: status and control of the three agents, per user."""

from __future__ import annotations

import redis
from flask.views import MethodView
from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from photon import watchlist
from photon.agents import execution
from photon.agents import status as agent_status
from photon.api.portfolio import PaperSettingsSchema, PortfolioSchema, paper_settings
from photon.api.portfolio import summary as portfolio_summary
from photon.errors import ServiceUnavailable
from photon.events import AGENT_STATUS, emit, user_room
from photon.extensions import db, get_redis
from photon.models.agent import DECISION_MAKER, EXECUTION, MARKET_MONITOR, STATES

blp = Blueprint("agents", __name__, url_prefix="/api/trading/agents",
                description="The three agents, as they work for you")


class StatusSchema(Schema):
    agent = fields.String()
    state = fields.String(validate=validate.OneOf(STATES))
    last_run_at = fields.String(allow_none=True)
    last_success_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    cycles = fields.Integer()
    symbols_watched = fields.Integer()
    job_id = fields.String(allow_none=True)


class ActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(("start", "stop")))


class DecisionMakerInSchema(Schema):
    action = fields.String(validate=validate.OneOf(("start", "stop")),
                           metadata={"description": "Turn auto-decide on fresh bars on or off"})
    symbol_id = fields.Integer(validate=validate.Range(min=1),
                               metadata={"description": "Queue one analysis now"})

    @validates_schema
    def _one_of(self, data: dict, **_kwargs) -> None:
        if ("action" in data) == ("symbol_id" in data):
            raise ValidationError("Give either an action or a symbol_id.", "_schema")


def enqueue(queue: str, func: str, *args) -> str:
    from workers.enqueue import enqueue as rq_enqueue

    try:
        return rq_enqueue(get_redis(), queue, func, *args).id
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"The job queue is unavailable: {exc}") from exc


def status_body(agent: str, job_id: str | None = None) -> dict:
    status = agent_status.get(db.session, current_user.id, agent)
    db.session.commit()
    return agent_status.payload(status, {
        "symbols_watched": len(watchlist.watched_symbols(current_user.id)),
        "job_id": job_id,
    })


def announce(body: dict) -> None:
    emit(AGENT_STATUS, {k: v for k, v in body.items() if k != "job_id"},
         user_room(current_user.id))


@blp.route("/market-monitor/")
class MarketMonitor(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, StatusSchema)
    def get(self):
        """Your market monitor: state, last run, last success, last error, cycles"""
        return status_body(MARKET_MONITOR)

    @blp.arguments(ActionSchema)
    @blp.response(200, StatusSchema)
    def post(self, data: dict):
        """Start or stop your market monitor; starting twice is harmless"""
        job_id = None
        if data["action"] == "start":
            agent_status.start(db.session, current_user.id, MARKET_MONITOR)
            db.session.commit()
            from workers.queues import MONITOR

            job_id = enqueue(MONITOR, "workers.jobs.start_market_monitoring", current_user.id)
        else:
            agent_status.stop(db.session, current_user.id, MARKET_MONITOR)
            db.session.commit()
        body = status_body(MARKET_MONITOR, job_id)
        announce(body)
        return body


def _toggle(agent: str, action: str) -> None:
    if action == "start":
        agent_status.start(db.session, current_user.id, agent)
    else:
        agent_status.stop(db.session, current_user.id, agent)
    db.session.commit()


@blp.route("/decision-maker/")
class DecisionMaker(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, StatusSchema)
    def get(self):
        """Your decision maker's status; running means it decides on every fresh bar"""
        return status_body(DECISION_MAKER)

    @blp.arguments(DecisionMakerInSchema)
    @blp.response(200, StatusSchema)
    @blp.alt_response(202, schema=StatusSchema, description="Analysis queued; see job_id")
    def post(self, data: dict):
        """Queue an analysis of one symbol (202 + job id), or turn auto-decide on or off"""
        if "symbol_id" in data:
            watchlist.get(current_user.id, data["symbol_id"])
            from workers.queues import DECISIONS

            job_id = enqueue(DECISIONS, "workers.jobs.decide_symbol", current_user.id,
                             data["symbol_id"])
            return status_body(DECISION_MAKER, job_id), 202
        _toggle(DECISION_MAKER, data["action"])
        body = status_body(DECISION_MAKER)
        announce(body)
        return body


class ExecutionStatusSchema(PortfolioSchema, StatusSchema):
    counters = fields.Dict(metadata={"description": "orders_filled, orders_rejected, "
                                                    "halted_until"})


class ExecutionInSchema(Schema):
    action = fields.String(required=True,
                           validate=validate.OneOf(("start", "stop", "reset", "configure")))
    starting_cash = fields.Float(validate=validate.Range(min=1, max=1e12),
                                 metadata={"description": "With reset; default: as before"})
    settings = fields.Nested(PaperSettingsSchema,
                             metadata={"description": "With configure: your overrides"})

    @validates_schema
    def _fits_action(self, data: dict, **_kwargs) -> None:
        if "starting_cash" in data and data["action"] != "reset":
            raise ValidationError("starting_cash goes with reset.", "starting_cash")
        if (data["action"] == "configure") != ("settings" in data):
            raise ValidationError("settings goes with configure, and configure needs it.",
                                  "settings")


def execution_body() -> dict:
    body = status_body(EXECUTION)
    body.update(portfolio_summary(current_user.id))
    body["counters"] = agent_status.get(db.session, current_user.id, EXECUTION).counters or {}
    return body


@blp.route("/execution/")
class Execution(MethodView):
    decorators = [jwt_required()]

    @blp.response(200, ExecutionStatusSchema)
    def get(self):
        """Your paper-execution agent: state, mode paper, equity, cash, PnL, positions, orders"""
        return execution_body()

    @blp.arguments(ExecutionInSchema)
    @blp.response(200, ExecutionStatusSchema)
    def post(self, data: dict):
        """Start or stop paper execution, reset the paper portfolio, or set your overrides"""
        action = data["action"]
        if action in ("start", "stop"):
            _toggle(EXECUTION, action)
        elif action == "reset":
            execution.reset(db.session, current_user.id, data.get("starting_cash"),
                            paper_settings())
        else:
            execution.configure(db.session, current_user.id, data["settings"], paper_settings())
        body = execution_body()
        announce(ExecutionStatusSchema().dump(body))
        return body
