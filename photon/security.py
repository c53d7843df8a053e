"""Passwords, JWT loaders and token revocation.

Revoked token ids live in Redis with a TTL equal to the token's remaining life, so the list never
grows past the set of still-valid tokens. If Redis is down, the ids this process revoked are still
refused (a local fallback) and reads keep working rather than failing every request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from flask_jwt_extended import decode_token, get_jwt
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from photon.api.errors import error_response
from photon.errors import Unauthorized
from photon.extensions import db, get_redis, jwt
from photon.models import User

log = logging.getLogger(__name__)

REVOKED_PREFIX = "photon:revoked:"


def _hasher() -> PasswordHasher:
    return current_app.extensions["photon.hasher"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def revoke(jti: str, expires_at: float) -> None:
    ttl = max(1, int(expires_at - time.time()) + 1)
    current_app.extensions["photon.revoked_local"][jti] = expires_at
    try:
        get_redis().set(REVOKED_PREFIX + jti, "1", ex=ttl)
    except redis.RedisError:
        log.warning("Redis unavailable: token %s revoked in this process only", jti)


def is_revoked(jti: str) -> bool:
    local: dict[str, float] = current_app.extensions["photon.revoked_local"]
    if jti in local:
        return True
    try:
        return bool(get_redis().exists(REVOKED_PREFIX + jti))
    except redis.RedisError:
        log.warning("Redis unavailable: revocation of %s checked in this process only", jti)
        return False


def verify(token: object, expected_type: str) -> dict[str, Any]:
    """Claims of a valid, unrevoked ``expected_type`` token whose user exists; else Unauthorized.

    For tokens that arrive outside the Authorization header (a refresh body, a Socket.IO auth
    payload), so they pass the same checks the header path does.
    """
    if not token or not isinstance(token, str):
        raise Unauthorized("Authentication required: no token given")
    try:
        claims = decode_token(token)
    except (PyJWTError, JWTExtendedException) as exc:
        raise Unauthorized(f"Invalid token: {exc}") from None
    if claims.get("type") != expected_type:
        raise Unauthorized(f"Invalid token: expected a token of type {expected_type!r}")
    if is_revoked(claims["jti"]):
        raise Unauthorized("Token has been revoked")
    if db.session.get(User, int(claims["sub"])) is None:
        raise Unauthorized("The token's user no longer exists")
    return claims


def revoke_current(refresh_jti: str | None = None) -> None:
    """Revoke the presented token and the refresh token of the same login."""
    claims = get_jwt()
    revoke(claims["jti"], claims["exp"])
    paired = refresh_jti or claims.get("rjti")
    if paired:
        refresh_exp = time.time() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()
        revoke(paired, refresh_exp)


def _jwt_error(status: int, message: str):
    return lambda *args: error_response(status, message)


def init_app(app: Flask, settings: Any) -> None:
    if settings.env == "test":
        # Still argon2, with small costs so the suite does not spend minutes hashing.
        app.extensions["photon.hasher"] = PasswordHasher(time_cost=1, memory_cost=1024)
    else:
        app.extensions["photon.hasher"] = PasswordHasher()
    app.extensions["photon.revoked_local"] = {}

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> User | None:
        return db.session.get(User, int(payload["sub"]))

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return is_revoked(payload["jti"])

    jwt.unauthorized_loader(
        lambda reason: error_response(401, f"Authentication required: {reason}")
    )
    jwt.invalid_token_loader(lambda reason: error_response(401, f"Invalid token: {reason}"))
    jwt.expired_token_loader(_jwt_error(401, "Token has expired"))
    jwt.revoked_token_loader(_jwt_error(401, "Token has been revoked"))
    jwt.needs_fresh_token_loader(_jwt_error(401, "A fresh token is required"))
    jwt.user_lookup_error_loader(_jwt_error(401, "The token's user no longer exists"))
