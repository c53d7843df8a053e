"""The parts of the scale-out drill that are not the drill itself: Socket.IO clients that move to
another web process when theirs dies, the proxy, the load the drill drives, and the keys that
tell one event from another.

Every event is keyed by what makes it unique (a quote by symbol and time, a bar by symbol,
interval, open time and values, a decision or order by id), so that a client that got one twice,
or never, shows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import requests
import socketio

from photon.realtime.events import SERVER_EVENTS

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if os.path.exists(p)), None
    )


def start_haproxy(binary: str, port: int, webs: list[str], log_path: Path) -> subprocess.Popen:
    """deploy/haproxy.cfg as it is in the repository, its addresses from the environment."""
    env = {
        **os.environ,
        "PHOTON_PROXY_BIND": f"127.0.0.1:{port}",
        "PHOTON_WEB1": webs[0].removeprefix("http://"),
        "PHOTON_WEB2": webs[1].removeprefix("http://"),
    }
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [binary, "-db", "-f", str(HAPROXY_CFG)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def ms(value: str | None) -> int | None:
    return None if value is None else int(datetime.fromisoformat(value).timestamp() * 1000)


def event_key(event: str, payload: dict) -> tuple | None:
    """What makes one event unique; None for those that repeat legitimately (an execution
    status is sent again at every market update with nothing changed)."""
    if event == "quote":
        return (payload["symbol"], ms(payload["ts"]), ms(payload.get("source_time")))
    if event == "bar":
        return (payload["symbol"], payload["interval"], ms(payload["open_time"]))
    if event in ("decision", "order"):
        return (payload["id"],)
    if event == "agent_status" and payload["agent"] != "execution":
        return (payload["agent"], payload["cycles"], payload["last_run_at"])
    return None


def bar_key(payload: dict) -> tuple:
    return (*event_key("bar", payload), payload["closed"], payload["close"])


@dataclass
class Connection:
    url: str
    connected: float
    subscribed: float | None = None
    lost: float | None = None


@dataclass
class Client:
    """One user's Socket.IO client. It subscribes on every connect; when its connection drops it
    connects again, to the next of ``urls`` (a web process's own URL then the other's, or the
    proxy's), with a fresh client, as a browser tab that reloads would."""

    name: str
    user_id: int
    token: str
    urls: list[str]
    symbols: list[str]
    transports: list[str]
    received: list[tuple[float, str, dict]] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._closing = False
        self._sio: socketio.Client | None = None
        self._next = 0

    def start(self, timeout: float = 20) -> Client:
        self._connect(timeout)
        return self

    def _connect(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self._closing:
            url = self.urls[self._next % len(self.urls)]
            self._next += 1
            sio = socketio.Client(reconnection=False)
            for name in SERVER_EVENTS:
                sio.on(name, self._recorder(name))
            sio.on("disconnect", lambda *_a, sio=sio: self._lost(sio))
            try:
                sio.connect(
                    url, auth={"token": self.token}, transports=self.transports, wait_timeout=5
                )
            except Exception as exc:
                self.errors.append(f"{url}: {exc}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
                continue
            connection = Connection(url, time.time())
            with self._lock:
                self.connections.append(connection)
                self._sio = sio
            sio.emit(
                "subscribe",
                {"symbols": self.symbols},
                callback=lambda answer, c=connection: self._subscribed(c, answer),
            )
            return

    def _subscribed(self, connection: Connection, answer: dict) -> None:
        if sorted(answer.get("joined", [])) != sorted(self.symbols):
            self.errors.append(f"subscribe answered {answer}")
        connection.subscribed = time.time()

    def _lost(self, sio: socketio.Client) -> None:
        with self._lock:
            if sio is not self._sio or self._closing:
                return
            self.connections[-1].lost = time.time()
            self._sio = None
        threading.Thread(target=self._connect, args=(60,), daemon=True).start()

    def _recorder(self, name: str):
        def record(payload=None) -> None:
            self.received.append((time.time(), name, payload))

        return record

    @property
    def ready(self) -> bool:
        return bool(self.connections) and self.connections[-1].subscribed is not None

    def connected_throughout(self, start: float, end: float) -> bool:
        return any(
            c.subscribed is not None and c.subscribed <= start and (c.lost or end + 1) >= end
            for c in self.connections
        )

    def close(self) -> None:
        self._closing = True
        with self._lock:
            sio, self._sio = self._sio, None
        if sio is not None:
            sio.disconnect()

    def keys(self, event: str, start: float = 0, end: float = float("inf")) -> list[tuple]:
        """Keys of ``event`` received in [start, end] (wall clock), repeats included."""
        key = bar_key if event == "bar" else (lambda p: event_key(event, p))
        return [key(p) for t, e, p in self.received if e == event and start <= t <= end]


class Driver(threading.Thread):
    """The load: ticker and kline pushes from the fake Bybit stream, and analyses asked for
    through the API (each a one-off job), recording what was accepted and when."""

    def __init__(self, bybit, api_urls: list[str], users: list[dict], symbols: dict) -> None:
        super().__init__(daemon=True)
        self.bybit, self.api_urls, self.users, self.symbols = bybit, api_urls, users, symbols
        self.quotes: list[tuple[float, str, int]] = []  # (when, symbol, venue ts) delivered
        self.bars: list[tuple[float, tuple]] = []
        self.jobs: list[tuple[float, int, str]] = []  # (when, user id, job id) accepted (202)
        self.refused: list[str] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        tick, minute = 0, int(time.time()) // 60 - 5000
        session = requests.Session()
        while not self.stopping.is_set():
            for symbol in ("BTCUSDT", "ETHUSDT"):
                ts = int(time.time() * 1000)
                if self.bybit.push_ticker(symbol, 100 + tick % 50, ts):
                    self.quotes.append((time.time(), symbol, ts))
            if tick % 10 == 0:  # every 2 s: the forming 1m bar, closed every third push
                closed = tick % 30 == 20
                ohlcv = (100.0, 101.0 + tick % 7, 99.0, 100.0 + tick / 1000, 3.0 + tick)
                if self.bybit.push_kline("BTCUSDT", "1", minute * 60_000, ohlcv, closed):
                    key = ("BTCUSDT", "1m", minute * 60_000, closed, ohlcv[3])
                    self.bars.append((time.time(), key))
                minute += closed
            if tick % 15 == 7:  # every 3 s: an analysis, through each entry point in turn
                self._ask(session, tick // 15)
            tick += 1
            self.stopping.wait(0.2)

    def _ask(self, session: requests.Session, n: int) -> None:
        user = self.users[n % len(self.users)]
        symbol_id = self.symbols[("BTCUSDT", "ETHUSDT", "BNBUSDT")[n % 3]]
        url = self.api_urls[n % len(self.api_urls)]
        try:
            answer = session.post(
                url + "/api/trading/agents/decision-maker/",
                json={"symbol_id": symbol_id},
                headers={"Authorization": f"Bearer {user['access']}"},
                timeout=5,
            )
        except requests.RequestException as exc:
            self.refused.append(f"{url}: {exc}")
            return
        if answer.status_code == 202:
            self.jobs.append((time.time(), user["id"], answer.json()["job_id"]))
        else:
            self.refused.append(f"{url}: {answer.status_code} {answer.text[:200]}")


def counted(keys: list[tuple]) -> tuple[set, int]:
    """The distinct keys and how many arrived more than once."""
    seen: dict[tuple, int] = defaultdict(int)
    for key in keys:
        seen[key] += 1
    return set(seen), sum(n - 1 for n in seen.values())
