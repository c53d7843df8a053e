"""/health: is the database reachable, is Redis reachable, which data source serves quotes."""

from __future__ import annotations

import logging

import redis
from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from photon.api.blueprint import Blueprint
from photon.extensions import db, get_redis

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__, description="Liveness of the database and Redis")


class HealthSchema(Schema):
    status = fields.String(metadata={"description": "ok or degraded"})
    database = fields.String()
    redis = fields.String()
    data_source = fields.String(metadata={"description": "live or replay"})


@blp.route("/health")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
    def get(self) -> tuple[dict[str, str], int]:
        """Check the database and Redis"""
        checks = {"database": _database(), "redis": _redis()}
        ok = all(value == "ok" for value in checks.values())
        body = {
            "status": "ok" if ok else "degraded",
            **checks,
            "data_source": current_app.config["PHOTON"].data_source,
        }
        return body, 200 if ok else 503


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("health: database unreachable: %s", exc)
        return f"unreachable: {type(exc).__name__}"


def _redis() -> str:
    try:
        get_redis().ping()
        return "ok"
    except redis.RedisError as exc:
        log.warning("health: redis unreachable: %s", exc)
        return f"unreachable: {type(exc).__name__}"
