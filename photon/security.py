"""Accounts and tokens: passwords, registering, logging in and out, refreshing, and revocation.

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
from flask_jwt_extended import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
)
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from photon.config import Settings
from photon.errors import Unauthorized
from photon.extensions import db, get_redis, jwt
from photon.models import User
from photon.store import agent_status, users
from photon.types import Agent

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


def register(username: str, email: str, password: str) -> User:
    """Create an account, with its three agents stopped; a taken username or email is a
    ``Conflict``. (The agents' rows exist from the start, so reading a status never writes.)"""
    user = users.create(db.session, username, email, hash_password(password))
    for agent in Agent:
        agent_status.get(db.session, user.id, agent)
    db.session.commit()
    return user


def login(identity: str, password: str) -> dict[str, str]:
    """An access and a refresh token for the right credentials, else ``Unauthorized``."""
    user = users.by_identity(db.session, identity)
    if user is None or not verify_password(user, password):
        raise Unauthorized("Wrong username, email or password")
    db.session.commit()  # verify_password may have upgraded the hash
    return issue_tokens(user.id)


def issue_tokens(user_id: int) -> dict[str, str]:
    """A fresh login: a refresh token and an access token that names it (``rjti``)."""
    refresh = create_refresh_token(identity=str(user_id))
    access = create_access_token(
        identity=str(user_id), additional_claims={"rjti": decode_token(refresh)["jti"]}
    )
    return {"access": access, "refresh": refresh}


def refresh(token: str) -> dict[str, str]:
    """A new access token for a valid, unrevoked refresh token."""
    claims = verify(token, "refresh")
    access = create_access_token(identity=claims["sub"], additional_claims={"rjti": claims["jti"]})
    return {"access": access}


def logout(user_id: int, refresh_token: str | None = None) -> None:
    """Revoke the presented access token and the refresh token of the same login (or the one
    given, which must be the user's)."""
    refresh_jti = None
    if refresh_token:
        try:
            claims = decode_token(refresh_token, allow_expired=True)
        except (PyJWTError, JWTExtendedException) as exc:
            raise Unauthorized(f"Invalid refresh token: {exc}") from None
        if claims.get("type") != "refresh" or claims["sub"] != str(user_id):
            raise Unauthorized("That is not your refresh token")
        refresh_jti = claims["jti"]
    claims = get_jwt()
    revoke(claims["jti"], claims["exp"])
    paired = refresh_jti or claims.get("rjti")
    if paired:
        refresh_exp = time.time() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()
        revoke(paired, refresh_exp)


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
    if users.get(db.session, int(claims["sub"])) is None:
        raise Unauthorized("The token's user no longer exists")
    return claims


def init_app(app: Flask, settings: Settings) -> None:
    if settings.env == "test":
        # Still argon2, with small costs so the suite does not spend minutes hashing.
        app.extensions["photon.hasher"] = PasswordHasher(time_cost=1, memory_cost=1024)
    else:
        app.extensions["photon.hasher"] = PasswordHasher()
    app.extensions["photon.revoked_local"] = {}

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> User | None:
        return users.get(db.session, int(payload["sub"]))

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        return is_revoked(payload["jti"])
