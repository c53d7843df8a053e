"""A real local HTTP server that answers like Bybit v5 and Yahoo Finance, with faults on demand.

    with FakeExchange() as fx:
        provider = BybitProvider(endpoint=fx.url)
        fx.fault("http_500", path_prefix="/v5/market/tickers", times=1)
        provider.quotes(["BTCUSDT"])
        assert fx.calls("/v5/market/tickers") == 2

It listens on 127.0.0.1 on a free port, in a background thread, so the real provider code, with
its real HTTP clients (requests inside pybit, curl_cffi inside yfinance), is what gets tested.
Bybit lives under ``/v5``; everything else is Yahoo (the Yahoo provider rewrites query1, query2,
fc, guce and finance.yahoo.com onto this one base URL, so fc.yahoo.com's root is ``/``).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .bybit_api import BybitMarket
from .http import Reply, text_reply
from .yahoo_api import YahooMarket

FAULT_KINDS = (
    "delay",  # sleep ``seconds``, then answer normally: a client with a short timeout gives up
    "http_500",
    "http_502",
    "http_403",  # Bybit's IP ban ("access too frequent")
    "http_429",
    "bybit_10006",  # HTTP 200 with retCode 10006, rate limited
    "bybit_10016",  # HTTP 200 with retCode 10016, server-side timeout
    "truncated",  # the connection drops halfway through the body
    "truncated_json",  # a complete HTTP response whose JSON body is cut short
    "garbage",  # HTTP 200 with an HTML page instead of JSON
    "unknown_symbol",  # Bybit retCode 10001; Yahoo's symbol endpoints answer as for no such symbol
)


@dataclass
class Fault:
    kind: str
    path_prefix: str | None = None
    times: int | None = None
    seconds: float = 2.0
    reset_ms: int = 300
    hits: int = 0

    def matches(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]


class FakeExchange:
    """The server, its market data, the faults to inject, and what it was asked."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.bybit = BybitMarket(lambda: round(self.clock() * 1000))
        self.yahoo = YahooMarket(self.clock)
        self._faults: list[Fault] = []
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server_seconds = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeExchange:
        self._closing.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.exchange = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-exchange"
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()  # wakes handlers stuck in a "delay" fault
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> FakeExchange:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- market set-up -------------------------------------------------------------------------

    def add_synthetic_pairs(self, n: int) -> list[str]:
        """Add SYM0001USDT ... to Bybit and return their symbols."""
        return self.bybit.add_synthetic_pairs(n)

    def add_synthetic_stocks(self, n: int) -> list[str]:
        """Add SYMS0001 ... to Yahoo and return their symbols."""
        return self.yahoo.add_synthetic_stocks(n)

    # --- faults --------------------------------------------------------------------------------

    def fault(
        self,
        kind: str,
        path_prefix: str | None = None,
        times: int | None = None,
        *,
        seconds: float = 2.0,
        reset_ms: int = 300,
    ) -> Fault:
        """Inject ``kind`` into requests whose path starts with ``path_prefix`` (all if None).

        ``times`` limits it to that many requests (None: until ``clear_faults``). ``seconds`` is
        the "delay" length; ``reset_ms`` is how far ahead a 10006 puts its limit-reset header.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {FAULT_KINDS}")
        fault = Fault(kind, path_prefix, times, seconds, reset_ms)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- what was asked ------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def calls(self, path: str | None = None, *, prefix: str | None = None) -> int:
        """Requests for exactly ``path``, or under ``prefix``, or all of them."""
        with self._lock:
            if path is not None:
                return sum(r.path == path for r in self._requests)
            if prefix is not None:
                return sum(r.path.startswith(prefix) for r in self._requests)
            return len(self._requests)

    def reset_calls(self) -> None:
        with self._lock:
            self._requests.clear()
            self._server_seconds = 0.0

    @property
    def server_seconds(self) -> float:
        """Wall time spent inside request handlers (injected delays included)."""
        with self._lock:
            return self._server_seconds

    # --- serving -------------------------------------------------------------------------------

    def _serve(self, method: str, target: str) -> Reply:
        parts = urlsplit(target)
        # A real server decodes the path: yfinance asks for /v8/finance/chart/%5EGSPC.
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self._requests.append(Request(method, path, query))
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "delay":
            self._closing.wait(fault.seconds)
        elif fault is not None:
            return self._fault_reply(fault, path, method, query)
        return self._route(method, path, query)

    def _route(self, method: str, path: str, query: dict[str, str]) -> Reply:
        if path.startswith("/v5/"):
            return self.bybit.handle(path, query)
        return self.yahoo.handle(method, path, query)

    def _fault_reply(self, fault: Fault, path: str, method: str, query: dict[str, str]) -> Reply:
        bybit = path.startswith("/v5/")
        kind = fault.kind
        if kind in ("http_500", "http_502"):
            status = int(kind[-3:])
            title = "Internal Server Error" if status == 500 else "Bad Gateway"
            return text_reply(status, f"<html><body><h1>{status} {title}</h1></body></html>")
        if kind == "http_403":
            return text_reply(403, "access too frequent")
        if kind == "http_429":
            return text_reply(429, "Too Many Requests\r\n")
        if kind == "bybit_10006":
            return self.bybit.error("err_10006_too_many_visits", reset_ms=fault.reset_ms)
        if kind == "bybit_10016":
            return self.bybit.error("err_10016_request_timeout")
        if kind == "garbage":
            return text_reply(200, "<!DOCTYPE html><html><head><title>Just a moment...</title>")
        if kind == "unknown_symbol":
            if bybit:
                return self.bybit.error("err_10001_not_supported_symbols")
            return self.yahoo.unknown_symbol(method, path, query)
        reply = self._route(method, path, query)
        if kind == "truncated":
            reply.cut_transfer = True
        else:  # truncated_json
            reply.body = reply.body[: max(1, len(reply.body) // 2)]
        return reply

    def _add_time(self, seconds: float) -> None:
        with self._lock:
            self._server_seconds += seconds


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    exchange: FakeExchange

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on idle keep-alive clients, so their handler threads end with the server."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        # A client that gave up (timeout) closes its socket; that is expected here, not news.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeExchange/1.0"
    # Headers and body in one segment: otherwise Nagle plus delayed ACKs add 40 ms per request.
    disable_nagle_algorithm = True
    wbufsize = -1
    server: _Server

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._handle("POST")

    def _handle(self, method: str) -> None:
        exchange = self.server.exchange
        started = time.perf_counter()
        try:
            reply = exchange._serve(method, self.path)
            self._send(reply)
        finally:
            exchange._add_time(time.perf_counter() - started)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        for cookie in reply.cookies:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        if reply.cut_transfer:
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass
