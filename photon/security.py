"""Accounts and tokens: passwords, registering, logging in and out, refreshing, and revocation.

A login is a *family* of tokens: the refresh token it starts with, every refresh token a refresh
rotates to, and every access token any of them issued, all carrying the family's id (``fam``).
Each refresh token is good for one refresh; presenting one again (a stolen copy, replayed)
revokes the whole family. Logging out revokes the family too.

Revoked token ids and families live in Redis with a TTL equal to their remaining life, so the
lists never grow past the set of still-valid tokens. If Redis is down, what this process revoked
is still refused (a local fallback) and reads keep working rather than failing every request.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from typing import Any

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jwt
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
FAMILY_PREFIX = "photon:revoked-login:"


class RefreshReused(Unauthorized):
    """A refresh token was presented after it had been used: its whole login is revoked."""

    def __init__(self, family: str) -> None:
        super().__init__("That refresh token was already used; this login is revoked, log in again")
        self.family = family


def _hasher() -> PasswordHasher:
    return current_app.extensions["photon.hasher"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Whether ``password`` is ``user``'s. With no such user it verifies against a dummy hash
    all the same, so a login takes as long for an unknown name as for a known one."""
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def _dummy_hash() -> str:
    """What unknown users' logins verify against: a real hash at the real cost, of a password
    nobody knows. Made once per process, on the first login that needs it."""
    dummy = current_app.extensions.get("photon.dummy")
    if dummy is None:
        dummy = current_app.extensions["photon.dummy"] = hash_password(secrets.token_urlsafe(16))
    return dummy


def register(username: str, email: str, password: str) -> User:
    """Create an account, with its three agents stopped; a taken username or email is a
    ``Conflict``. (The agents' rows exist from the start, so reading a status never writes.)"""
    user = users.create(db.session, username, email, hash_password(password))
    for agent in Agent:
        agent_status.get(db.session, user.id, agent)
    db.session.commit()
    return user


def login(identity: str, password: str) -> dict[str, str]:
    """A new login's access and refresh token for the right credentials, else ``Unauthorized``."""
    user = users.by_identity(db.session, identity)
    if not verify_password(user, password):
        raise Unauthorized("Wrong username, email or password")
    db.session.commit()  # verify_password may have upgraded the hash
    return issue_tokens(user.id, uuid.uuid4().hex)


def issue_tokens(user_id: int, family: str) -> dict[str, str]:
    """A refresh token and an access token of the login ``family``."""
    refresh_token = create_refresh_token(identity=str(user_id), additional_claims={"fam": family})
    access = create_access_token(
        identity=str(user_id),
        additional_claims={"fam": family, "rjti": decode_token(refresh_token)["jti"]},
    )
    return {"access": access, "refresh": refresh_token}


def refresh(token: str) -> dict[str, str]:
    """Rotate: a new access and refresh token for a valid refresh token, which is used up.

    Raises ``RefreshReused`` (after revoking the login) when the token was used before.
    """
    claims = verify(token, "refresh", check_revoked=False)
    family = claims.get("fam") or claims["jti"]
    if family_revoked(family):
        raise Unauthorized("This login has been revoked; log in again")
    # Using a refresh token and revoking it is one atomic step, so two refreshes racing with
    # the same token cannot both succeed.
    if not _revoke_once(claims["jti"], claims["exp"]):
        revoke_family(family)
        raise RefreshReused(family)
    return issue_tokens(int(claims["sub"]), family)


def logout(user_id: int, refresh_token: str | None = None) -> list[str]:
    """Revoke the presented login (and the one ``refresh_token`` belongs to, which must be the
    user's); returns the revoked families, whose sockets the caller disconnects."""
    families = []
    if refresh_token:
        try:
            claims = decode_token(refresh_token, allow_expired=True)
        except (PyJWTError, JWTExtendedException) as exc:
            raise Unauthorized(f"Invalid refresh token: {exc}") from None
        if claims.get("type") != "refresh" or claims.get("sub") != str(user_id):
            raise Unauthorized("That is not your refresh token")
        families.append(claims.get("fam") or claims.get("jti"))
    claims = get_jwt()
    revoke(claims["jti"], claims["exp"])
    if claims.get("rjti"):
        # The refresh token this access token came with, by its id too: revoked on its own,
        # whatever becomes of the login's record.
        revoke(claims["rjti"], time.time() + _refresh_lifetime())
    families.append(claims.get("fam") or claims.get("rjti"))
    families = [f for f in dict.fromkeys(families) if f]
    for family in families:
        revoke_family(family)
    return families


def _refresh_lifetime() -> float:
    return current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()


def revoke(jti: str, expires_at: float) -> None:
    _revoke_once(jti, expires_at)


def _revoke_once(jti: str, expires_at: float) -> bool:
    """Revoke ``jti``; False if it already was (in Redis, or in this process)."""
    local: dict[str, float] = current_app.extensions["photon.revoked_local"]
    if REVOKED_PREFIX + jti in local:
        return False
    _prune(local)
    local[REVOKED_PREFIX + jti] = expires_at
    try:
        return bool(get_redis().set(REVOKED_PREFIX + jti, "1", ex=_ttl(expires_at), nx=True))
    except redis.RedisError:
        _redis_down(f"token {jti} revoked in this process until Redis is back")
        current_app.extensions["photon.revoked_pending"].add(REVOKED_PREFIX + jti)
        return True


def revoke_family(family: str) -> None:
    key = FAMILY_PREFIX + family
    expires_at = time.time() + _refresh_lifetime()
    _prune(current_app.extensions["photon.revoked_local"])
    current_app.extensions["photon.revoked_local"][key] = expires_at
    try:
        get_redis().set(key, "1", ex=_ttl(expires_at))
    except redis.RedisError:
        _redis_down(f"login {family} revoked in this process until Redis is back")
        current_app.extensions["photon.revoked_pending"].add(key)


def _prune(local: dict[str, float]) -> None:
    # The local list mirrors Redis' TTLs, so a long-lived process does not keep every token.
    if len(local) > 1000:
        now = time.time()
        for key in [k for k, until in local.items() if until < now]:
            del local[key]


def _ttl(expires_at: float) -> int:
    return max(1, int(expires_at - time.time()) + 1)


_last_warning = [0.0]


def _redis_down(message: str) -> None:
    # Once per half minute per process: an outage must not turn every request into a log line.
    if time.monotonic() - _last_warning[0] > 30:
        _last_warning[0] = time.monotonic()
        log.warning("Redis unavailable: %s", message)


def _publish_pending(client: redis.Redis) -> None:
    """What this process revoked while Redis was away reaches every process once it is back."""
    pending: set[str] = current_app.extensions["photon.revoked_pending"]
    local = current_app.extensions["photon.revoked_local"]
    with client.pipeline(transaction=False) as pipe:
        for key in list(pending):
            pipe.set(key, "1", ex=_ttl(local[key]))
        pipe.execute()
    pending.clear()
    log.info("Redis is back: revocations made meanwhile are shared again")


def _revoked_key(key: str) -> bool:
    try:
        client = get_redis()
        if current_app.extensions["photon.revoked_pending"]:
            _publish_pending(client)
        if key in current_app.extensions["photon.revoked_local"]:
            return True
        return bool(client.exists(key))
    except redis.RedisError:
        _redis_down("revocation checked against this process's own list only")
        return key in current_app.extensions["photon.revoked_local"]


def is_revoked(jti: str) -> bool:
    return _revoked_key(REVOKED_PREFIX + jti)


def family_revoked(family: str) -> bool:
    return _revoked_key(FAMILY_PREFIX + family)


def malformed(claims: dict[str, Any]) -> str | None:
    """What is wrong with a decoded token's claims, if anything: Photon's tokens always name a
    user by a numeric ``sub`` and carry a ``jti``."""
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        return "missing jti"
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.isdigit() or len(sub) > 18:
        return "sub is not a user id"
    if claims.get("fam") is not None and not isinstance(claims["fam"], str):
        return "fam is not a login id"
    return None


def token_revoked(claims: dict[str, Any]) -> bool:
    """The token itself, or its whole login, has been revoked."""
    family = claims.get("fam")
    return is_revoked(claims["jti"]) or (family is not None and family_revoked(family))


def verify(token: object, expected_type: str, *, check_revoked: bool = True) -> dict[str, Any]:
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
    if problem := malformed(claims):
        raise Unauthorized(f"Invalid token: {problem}")
    if claims.get("type") != expected_type:
        raise Unauthorized(f"Invalid token: expected a token of type {expected_type!r}")
    if check_revoked and token_revoked(claims):
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
    # key -> when it expires; and the keys Redis has not heard of yet (it was down).
    app.extensions["photon.revoked_local"] = {}
    app.extensions["photon.revoked_pending"] = set()

    @jwt.user_lookup_loader
    def _load_user(_header: dict, payload: dict) -> User | None:
        return users.get(db.session, int(payload["sub"]))

    @jwt.token_in_blocklist_loader
    def _revoked(_header: dict, payload: dict) -> bool:
        # A malformed token counts as revoked: nothing after this may read its claims.
        return malformed(payload) is not None or token_revoked(payload)
