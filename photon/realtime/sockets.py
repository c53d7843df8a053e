"""Socket.IO handlers: token auth on connect, the user's room, and symbol subscriptions."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, request
from flask_socketio import ConnectionRefusedError, join_room, leave_room

from photon import security
from photon.config import Settings
from photon.errors import PhotonError
from photon.extensions import db, socketio
from photon.market.symbols import resolve
from photon.realtime import payloads, presence
from photon.realtime.events import (
    ERROR,
    SUBSCRIBE,
    UNSUBSCRIBE,
    channel,
    symbol_room,
    user_room,
)
from photon.store import watchlist

log = logging.getLogger(__name__)
MAX_SYMBOLS = 200

# sid -> (user id, login); lives in the web process that holds the connection.
_users: dict[str, tuple[int, str | None]] = {}
# Seconds between re-registering this process's connections in Redis (presence.reassert).
REASSERT_EVERY = 15.0
_reasserting: list[bool] = []


def _authenticate(auth: object) -> tuple[int, str | None]:
    token = auth.get("token") if isinstance(auth, dict) else None
    if not token:
        raise ConnectionRefusedError("Authentication required: pass auth={'token': <access JWT>}")
    try:
        claims = security.verify(token, "access")
    except PhotonError as exc:
        raise ConnectionRefusedError(exc.message) from None
    finally:
        db.session.remove()
    return int(claims["sub"]), claims.get("fam")


def on_connect(auth: object = None) -> bool:
    user_id, family = _authenticate(auth)
    _users[request.sid] = (user_id, family)
    join_room(user_room(user_id))
    presence.joined(request.sid, user_id, family)
    _connections(+1)
    if not _reasserting:
        # Started by the first connection, not at import: the app factory stays side-effect free.
        _reasserting.append(True)
        socketio.start_background_task(_keep_present, current_app._get_current_object())
    return True


def _keep_present(app: Flask) -> None:
    while True:
        socketio.sleep(REASSERT_EVERY)
        with app.app_context():
            presence.reassert(_users)


def on_disconnect(*_args: object) -> None:
    known = _users.pop(request.sid, None)
    if known is not None:
        presence.left(request.sid, *known)
        _connections(-1)


def _connections(change: int) -> None:
    # The gauge lives with the app's other metrics (photon.api.metrics), when it has them.
    gauge = current_app.extensions.get("photon.metrics", {}).get("sockets")
    if gauge is not None:
        gauge.inc(change)


def _symbols_arg(data: object) -> list[str] | None:
    symbols = data.get("symbols") if isinstance(data, dict) else None
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        return None
    return symbols[:MAX_SYMBOLS]


def on_subscribe(data: object = None) -> dict[str, Any]:
    """Join ``symbol:<TICKER>`` rooms for watched symbols; refuse the rest, saying why."""
    user_id = _users.get(request.sid, (None, None))[0]
    symbols = _symbols_arg(data)
    if user_id is None or symbols is None:
        message = "subscribe expects {'symbols': ['AAPL', ...]}"
        socketio.emit(ERROR, payloads.error(message), to=request.sid)
        return {"joined": [], "refused": {}, "error": message}
    try:
        watched = {s.ticker for s in watchlist.watched_symbols(db.session, user_id)}
    finally:
        db.session.remove()
    joined, refused = [], {}
    for raw in symbols:
        try:
            ticker = resolve(raw).ticker
        except PhotonError as exc:
            refused[raw] = exc.message
            continue
        if ticker not in watched:
            refused[raw] = f"You do not watch {ticker}; add it to your symbols first"
            continue
        join_room(symbol_room(ticker))
        joined.append(ticker)
    if refused:
        socketio.emit(ERROR, payloads.error("Some symbols were refused", refused), to=request.sid)
    return {"joined": joined, "refused": refused}


def on_unsubscribe(data: object = None) -> dict[str, list[str]]:
    symbols = _symbols_arg(data) or []
    left = []
    for raw in symbols:
        try:
            ticker = resolve(raw).ticker
        except PhotonError:
            continue
        leave_room(symbol_room(ticker))
        left.append(ticker)
    return {"left": left}


def init_app(app: Flask, settings: Settings, web: bool) -> None:
    """Only the web process serves Socket.IO in the configured async mode; everything else
    (CLI, workers, tests) stays in threading mode and never imports eventlet."""
    socketio.init_app(
        app,
        async_mode=settings.async_mode if web else "threading",
        # Workers publish to Redis; the web process subscribes and relays to its clients.
        message_queue=settings.effective_redis_url if web else None,
        channel=channel(settings.effective_redis_url),
        # Browsers may connect from the same origin only, or from PHOTON_CORS_ORIGINS.
        cors_allowed_origins=list(settings.cors_origins) or None,
    )
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event(SUBSCRIBE, on_subscribe)
    socketio.on_event(UNSUBSCRIBE, on_unsubscribe)
