"""Every error leaves as ``{"code", "status", "message", "errors"}``, whatever raised it."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import redis
from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from photon import security
from photon.errors import PhotonError
from photon.extensions import db, jwt

log = logging.getLogger(__name__)


def error_response(
    code: int,
    message: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    status = HTTPStatus(code)
    response = jsonify(
        code=code,
        status=status.phrase,
        message=message or status.description,
        errors=errors or {},
    )
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or {}
    message = data.get("message")
    if not message:
        message = _webargs_message(errors) if errors else exc.description
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(exc, "valid_methods", None)
    if code == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return error_response(code, message, errors, headers)


def _webargs_message(errors: dict[str, Any]) -> str:
    # webargs nests by location ({"json": {"symbol": [...]}}); name the fields in the summary.
    fields: list[str] = []
    for problems in errors.values():
        if isinstance(problems, dict):
            fields.extend(str(name) for name in problems)
        elif problems:
            # A whole-body problem such as malformed JSON: its own text says it best.
            return str(problems[0]) if isinstance(problems, list) else str(problems)
    return "Invalid input: " + ", ".join(fields) if fields else "Invalid input"


def _photon_error(exc: PhotonError) -> Response:
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, int(round(retry_after))))
    if exc.http_status >= 500:
        log.warning("%s: %s", type(exc).__name__, exc.message)
    return error_response(exc.http_status, exc.message, exc.errors, headers)


def _database_down(exc: DBAPIError) -> Response:
    """The database cannot be reached (stopped, restarting, network): a 503 the client may
    retry, not a 500. The pool pre-pings, so service returns by itself when it is back."""
    db.session.rollback()
    log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
    return error_response(
        503, "The database is unavailable; try again shortly", {}, {"Retry-After": "5"}
    )


def _redis_down(exc: redis.RedisError) -> Response:
    """Redis (queues, events, limits) cannot be reached: reads from the database keep working,
    and what needs Redis, such as starting an agent, is refused as retryable."""
    db.session.rollback()
    log.warning("Redis unavailable: %s", exc)
    return error_response(
        503, "The job queue is unavailable; try again shortly", {}, {"Retry-After": "5"}
    )


def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return http_error(exc)
    log.exception("Unhandled error")
    return error_response(500, "Internal server error; it has been logged.")


def _revoked_or_malformed(_header: dict, payload: dict) -> Response:
    # The blocklist check also refuses malformed tokens (see security.init_app): say which.
    problem = security.malformed(payload)
    return error_response(401, f"Invalid token: {problem}" if problem else "Token has been revoked")


def _jwt_error(status: int, message: str):
    return lambda *args: error_response(status, message)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(PhotonError, _photon_error)
    app.register_error_handler(Exception, _unexpected)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(InterfaceError, _database_down)
    app.register_error_handler(redis.RedisError, _redis_down)
    # flask-jwt-extended answers {"msg": ...} by default; its errors take the one shape too.
    jwt.unauthorized_loader(
        lambda reason: error_response(401, f"Authentication required: {reason}")
    )
    jwt.invalid_token_loader(lambda reason: error_response(401, f"Invalid token: {reason}"))
    jwt.expired_token_loader(_jwt_error(401, "Token has expired"))
    jwt.revoked_token_loader(_revoked_or_malformed)
    jwt.needs_fresh_token_loader(_jwt_error(401, "A fresh token is required"))
    jwt.user_lookup_error_loader(_jwt_error(401, "The token's user no longer exists"))
