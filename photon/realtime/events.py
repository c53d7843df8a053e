"""Socket.IO event names, rooms, and the one way every process emits.

The web process emits through its own server; workers publish through Redis with a write-only
``SocketIO(message_queue=...)`` in threading mode (never eventlet), and the web process relays.
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import urlsplit

from flask_socketio import SocketIO

from photon.extensions import socketio

log = logging.getLogger(__name__)

QUOTE = "quote"
DECISION = "decision"
AGENT_STATUS = "agent_status"
ORDER = "order"
BAR = "bar"
ERROR = "error"
SERVER_EVENTS = (QUOTE, DECISION, AGENT_STATUS, ORDER, BAR, ERROR)

SUBSCRIBE = "subscribe"
UNSUBSCRIBE = "unsubscribe"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def symbol_room(ticker: str) -> str:
    return f"symbol:{ticker}"


def channel(redis_url: str) -> str:
    """Pub/sub ignores Redis database numbers; naming the channel after the database keeps a
    test run (db 15) from talking to a system running on the same server (db 0)."""
    path = urlsplit(redis_url).path.strip("/") or "0"
    return f"photon-socketio-{path}"


@functools.cache
def _queue_emitter(redis_url: str) -> SocketIO:
    return SocketIO(message_queue=redis_url, channel=channel(redis_url), async_mode="threading")


def emit(event: str, payload: Any, room: str, *, redis_url: str | None = None) -> None:
    """Emit to a room. Inside the web app it goes straight out; elsewhere through Redis.

    A failed emit is logged, never raised: the data is already stored, and clients catch up
    from the REST API.
    """
    assert event in SERVER_EVENTS, event
    try:
        if redis_url is None:
            socketio.emit(event, payload, to=room)
        else:
            _queue_emitter(redis_url).emit(event, payload, to=room)
    except Exception as exc:
        log.warning("emit %s to %s failed: %s", event, room, exc)


def _server(redis_url: str | None):
    return socketio.server if redis_url is None else _queue_emitter(redis_url).server


def disconnect(sid: str, *, redis_url: str | None = None) -> None:
    """Close a connection, in whichever web process holds it (Socket.IO's queue carries it)."""
    try:
        _server(redis_url).disconnect(sid, namespace="/")
    except Exception as exc:
        log.warning("disconnect of %s failed: %s", sid, exc)


def leave_room(sid: str, room: str, *, redis_url: str | None = None) -> None:
    """Take a connection out of a room, in whichever web process holds it."""
    try:
        _server(redis_url).leave_room(sid, room, namespace="/")
    except Exception as exc:
        log.warning("leave_room %s %s failed: %s", sid, room, exc)
