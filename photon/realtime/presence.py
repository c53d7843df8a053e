"""Which Socket.IO connections belong to which login and which user, across every web process,
so that revoking a login or unwatching a symbol reaches each connection it concerns.

Each connection's sid is kept in two Redis sets, by login and by user, with a TTL as long as a
login can live; a web process that died leaves ids behind that expire, and disconnecting or
moving an id that is gone does nothing. Disconnects and room changes go through Socket.IO's
Redis message queue, which hands them to whichever web process holds the connection.
"""

from __future__ import annotations

import logging

import redis
from flask import current_app

from photon import security
from photon.extensions import db, get_redis
from photon.models import Symbol
from photon.realtime.events import disconnect as disconnect_sid
from photon.realtime.events import leave_room, symbol_room
from photon.store import watchlist

log = logging.getLogger(__name__)

LOGIN_KEY = "photon:sockets:login:"
USER_KEY = "photon:sockets:user:"


def _ttl() -> int:
    return int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()) + 60


def joined(sid: str, user_id: int, family: str | None) -> None:
    try:
        with get_redis().pipeline() as pipe:
            for key in (USER_KEY + str(user_id), LOGIN_KEY + family if family else None):
                if key:
                    pipe.sadd(key, sid).expire(key, _ttl())
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("socket %s not registered (Redis: %s); logout cannot reach it", sid, exc)


def reassert(connections: dict[str, tuple[int, str | None]]) -> None:
    """Register this process's connections again: a Redis that came back empty (restarted
    without persistence, flushed) has forgotten them, and logout could not reach them."""
    if not connections:
        return
    ttl = _ttl()
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for sid, (user_id, family) in list(connections.items()):
                for key in (USER_KEY + str(user_id), LOGIN_KEY + family if family else None):
                    if key:
                        pipe.sadd(key, sid).expire(key, ttl)
            pipe.execute()
    except redis.RedisError as exc:
        log.debug("sockets not re-registered yet (Redis: %s)", exc)


def left(sid: str, user_id: int, family: str | None) -> None:
    try:
        with get_redis().pipeline() as pipe:
            pipe.srem(USER_KEY + str(user_id), sid)
            if family:
                pipe.srem(LOGIN_KEY + family, sid)
            pipe.execute()
    except redis.RedisError:
        pass  # the ids expire with their sets


def _members(key: str) -> list[str]:
    try:
        return [m.decode() for m in get_redis().smembers(key)]
    except redis.RedisError as exc:
        log.warning("sockets of %s unknown (Redis: %s)", key, exc)
        return []


def disconnect_logins(families: list[str]) -> int:
    """Close every connection of these logins, in whichever web process it is."""
    closed = 0
    for family in families:
        for sid in _members(LOGIN_KEY + family):
            disconnect_sid(sid)
            closed += 1
    return closed


# --- what the API calls ------------------------------------------------------------------------


def logout(user_id: int, refresh_token: str | None) -> None:
    """Revoke the login (and the one ``refresh_token`` names) and close its connections."""
    disconnect_logins(security.logout(user_id, refresh_token))


def refresh(token: str) -> dict[str, str]:
    """Rotate the refresh token; a reused one revokes its login, whose connections close."""
    try:
        return security.refresh(token)
    except security.RefreshReused as exc:
        disconnect_logins([exc.family])
        raise


def unwatch(user_id: int, symbol_id: int) -> Symbol:
    """Stop watching a symbol, and take the user's connections out of its room."""
    symbol = watchlist.remove(db.session, user_id, symbol_id)
    for sid in _members(USER_KEY + str(user_id)):
        leave_room(sid, symbol_room(symbol.ticker))
    return symbol
