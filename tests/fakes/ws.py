"""A real local WebSocket server (the ``websockets`` library) in a background thread: the base of
the fake venues in ``bybit_ws.py`` and ``yahoo_ws.py``.

The clients under test are the real ones (pybit's ``WebSocket``, yfinance's ``AsyncWebSocket``)
pointed at ``url``; only the server side is Photon's, and it speaks each venue's wire format.
Everything a test calls is thread-safe: it hops onto the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed


@dataclass
class Connection:
    """One client connection: what it subscribed to and what it sent."""

    id: str
    ws: ServerConnection
    topics: set[str] = field(default_factory=set)
    received: list[Any] = field(default_factory=list)
    open: bool = True


class FakeWebSocketServer:
    path = "/"

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fake-ws")
        self._server = None
        self._changed = threading.Condition()
        self.connections: list[Connection] = []
        self.port = 0

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeWebSocketServer:
        self._thread.start()
        self._server = self._run(self._serve())
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._run(self._server.wait_closed(), timeout=5)
            self._server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeWebSocketServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.path}"

    # --- what tests do -------------------------------------------------------------------------

    @property
    def live(self) -> list[Connection]:
        with self._changed:
            return [c for c in self.connections if c.open]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every server event)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    what = what or predicate
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
                self._changed.wait(min(left, 0.05))

    def sent_by_clients(self) -> list[Any]:
        """Every message the clients sent, over all connections, in order per connection."""
        with self._changed:
            return [m for c in self.connections for m in c.received]

    def send_raw(self, text: str) -> None:
        """A frame exactly as given, to every open connection (garbage, for instance)."""
        for conn in self.live:
            self._run(self._send(conn, text))

    def drop(self, clean: bool = False) -> None:
        """Hang up on every client: abruptly (no close frame, like a dead link) or cleanly."""
        for conn in self.live:
            self._run(self._drop(conn, clean))

    # --- plumbing ------------------------------------------------------------------------------

    def _run(self, coro, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    async def _serve(self):
        # A client that never answers a close frame holds the server's shutdown for at most 1 s.
        return await serve(self._handle, "127.0.0.1", 0, close_timeout=1)

    async def _send(self, conn: Connection, text: str) -> bool:
        try:
            await conn.ws.send(text)
            return True
        except ConnectionClosed:
            return False

    async def _send_json(self, conn: Connection, body: Any) -> bool:
        return await self._send(conn, json.dumps(body, separators=(",", ":")))

    async def _drop(self, conn: Connection, clean: bool) -> None:
        if clean:
            # Sends the close frame; the closing handshake finishes in the background (not every
            # client answers it at once, and a test should not wait for it).
            asyncio.get_running_loop().create_task(conn.ws.close())
        else:
            conn.ws.transport.abort()
        conn.open = False
        self._notify()

    async def _handle(self, ws: ServerConnection) -> None:
        conn = Connection(id=f"conn-{len(self.connections) + 1}", ws=ws)
        with self._changed:
            self.connections.append(conn)
            self._changed.notify_all()
        try:
            async for frame in ws:
                try:
                    message = json.loads(frame)
                except ValueError:
                    message = frame
                with self._changed:
                    conn.received.append(message)
                await self.on_message(conn, message)
                self._notify()
        except ConnectionClosed:
            pass
        finally:
            conn.open = False
            self._notify()

    async def on_message(self, conn: Connection, message: Any) -> None:
        """Answer one client message, as the venue would."""
        raise NotImplementedError
