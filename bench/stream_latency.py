"""Venue push to Socket.IO client: Photon's stream and web processes against a bare relay.

Run:   .venv/bin/python bench/stream_latency.py                 (about 3 minutes a round)
Quick: .venv/bin/python bench/stream_latency.py --clients 100 --seconds 10

A local fake Bybit (tests/fakes/bybit_ws.py, Bybit's spot protocol) pushes ``tickers`` for 100
symbols at a steady rate, each push carrying its send time in Bybit's ``ts``. Two pipelines take
the same pushes, one after the other, through one embedded Redis:

- photon: ``python -m workers.stream`` (pybit's WebSocket, the whole stream service: lease,
  checks, payload, coalesced writes to SQLite) and ``python wsgi.py`` (eventlet, production
  settings, JWT-authenticated clients);
- bare: bench/bare_stream.py (websocket-client, a dict, ``SocketIO(message_queue).emit``) and
  bench/bare_relay.py (Flask-SocketIO on the same kind of message queue, no auth): no Photon code.

500 python-socketio clients (in ``--client-procs`` processes) each join 5 symbols' rooms, so
every symbol has 25 listeners, and record receive time minus the push's ``ts`` for every quote.
Printed: p50, p99 and max latency, the share of pushes delivered to every subscribed client,
duplicates, the longest gap a client saw between two quotes of a symbol (how stale a quote
gets), RSS and CPU of the web and stream processes (100 % = one core). Then, for Photon only:
klines for 10 symbols through 10 dropped connections, counting closed bars received and stored.
Goals: Photon p99 <= 1.5x the bare relay's and < 250 ms; 100 % delivered; zero duplicate closed
bars after 10 reconnects; staleness <= one push interval + p99. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from realtime_latency import (  # noqa: E402
    PASSWORD,
    SECRET,
    Server,
    cpu_seconds,
    free_port,
    migrate,
    percentile,
    rss_mb,
)

from photon.devserver import start_embedded_redis  # noqa: E402
from tests.fakes import FakeExchange  # noqa: E402
from tests.fakes.bybit_ws import FakeBybitStream  # noqa: E402

PER_CLIENT = 5
BARE_CHANNEL = "photon-bench-bare-stream"
WARMUP = 3.0  # seconds of pushes before the measured window
DRAIN = 5.0  # seconds to wait for stragglers after the last push
RECONNECTS = 10
BAR_SYMBOLS = 10


def photon_env(database_url: str, redis_url: str, exchange_url: str, ws_url: str) -> dict:
    return {
        "PHOTON_ENV": "production",
        "JWT_SECRET_KEY": SECRET,
        "JWT_ACCESS_MINUTES": "240",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PHOTON_ASYNC_MODE": "eventlet",
        "PHOTON_DATA_SOURCE": "live",
        "PHOTON_BYBIT_URL": exchange_url,
        "PHOTON_YAHOO_URL": exchange_url,
        "PHOTON_BYBIT_WS_URL": ws_url,
        "PHOTON_LOG_LEVEL": "WARNING",
    }


def prepare(url: str, symbols: list[str]) -> str:
    """A user who watches every symbol, with the monitor started; its access token."""
    user = {"username": "bench", "email": "bench@example.com", "password": PASSWORD}
    requests.post(url + "/api/auth/register/", json=user, timeout=30)
    login = {"username": "bench", "password": PASSWORD}
    token = requests.post(url + "/api/auth/login/", json=login, timeout=30).json()["access"]
    headers = {"Authorization": f"Bearer {token}"}
    with ThreadPoolExecutor(8) as pool:
        answers = pool.map(
            lambda s: requests.post(
                url + "/api/trading/symbols/", json={"symbol": s}, headers=headers, timeout=30
            ),
            symbols,
        )
        for answer in answers:
            assert answer.status_code in (200, 201), answer.text
    requests.post(
        url + "/api/trading/agents/market-monitor/",
        json={"action": "start"},
        headers=headers,
        timeout=30,
    )
    return token


# --- client processes -------------------------------------------------------------------------


def client_process(url, token, first, count, symbols, ready, counter, stop, results) -> None:
    import logging

    import engineio
    import socketio

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)

    class InlineEngineIO(engineio.Client):
        def _trigger_event(self, event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False  # handle in the read thread: no thread per message
            return super()._trigger_event(event, *args, **kwargs)

    class BenchClient(socketio.Client):
        def _engineio_client_class(self):
            return InlineEngineIO

    index = {s: i for i, s in enumerate(symbols)}
    received, sent, keys = array("d"), array("d"), array("q")
    lock = threading.Lock()
    dropped: list[int] = []

    def connect(n: int):
        client = first + n
        sio = BenchClient(reconnection=False)

        def on_quote(payload):
            now = time.time()
            at = datetime.fromisoformat(payload["source_time"]).timestamp()
            with lock:
                received.append(now)
                sent.append(at)
                keys.append(client * 1000 + index[payload["symbol"]])

        sio.on("quote", on_quote)
        sio.on("disconnect", lambda *_: None if stop.is_set() else dropped.append(client))
        sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
        mine = [symbols[(client * PER_CLIENT + k) % len(symbols)] for k in range(PER_CLIENT)]
        answer = sio.call("subscribe", {"symbols": mine}, timeout=60)
        if sorted(answer.get("joined", [])) != sorted(mine):
            raise RuntimeError(f"subscribe refused: {answer}")
        return sio

    try:
        with ThreadPoolExecutor(16) as pool:
            clients = list(pool.map(connect, range(count)))
    except Exception as exc:
        ready.put(f"client process failed to connect: {exc!r}")
        return
    ready.put("ok")
    while not stop.wait(0.05):
        counter.value = len(received)
    with lock:
        results.put((received.tobytes(), sent.tobytes(), keys.tobytes(), len(set(dropped))))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda sio: sio.disconnect(), clients))


# --- one measured pipeline --------------------------------------------------------------------


@dataclass
class Result:
    name: str
    clients: int
    pushes: int
    p50: float
    p99: float
    max: float
    delivered: float
    duplicates: int
    dropped: int
    stale_ms: float
    web_rss: float
    stream_rss: float
    web_cpu: float
    stream_cpu: float
    client_cpu: float


def measure(name, web: Server, stream: Server, fake, symbols, token, args) -> Result:
    ctx = mp.get_context("spawn")
    n = max(1, min(args.client_procs, args.clients))
    shares = [args.clients // n + (1 if i < args.clients % n else 0) for i in range(n)]
    firsts = [sum(shares[:i]) for i in range(n)]
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    counters = [ctx.Value("q", 0, lock=False) for _ in shares]
    procs = [
        ctx.Process(
            target=client_process,
            daemon=True,
            args=(web.url, token, firsts[i], shares[i], symbols, ready, counters[i], stop, results),
        )
        for i in range(n)
    ]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            status = ready.get(timeout=600)
            if status != "ok":
                raise RuntimeError(status)
        listeners = [0] * len(symbols)
        for client in range(args.clients):
            for k in range(PER_CLIENT):
                listeners[(client * PER_CLIENT + k) % len(symbols)] += 1
        peaks = {"web": [rss_mb(web.pid)], "stream": [rss_mb(stream.pid)]}
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.25):
                peaks["web"].append(rss_mb(web.pid))
                peaks["stream"].append(rss_mb(stream.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        fake.tick_times.clear()
        first_push = len(fake.tick_times)
        fake.start_ticking(symbols, args.rate)
        time.sleep(WARMUP)
        cpu0 = {p: cpu_seconds(p) for p in (web.pid, stream.pid, *(q.pid for q in procs))}
        t0 = time.time()
        time.sleep(args.seconds)
        t1 = time.time()
        elapsed = t1 - t0
        cpu = {p: 100 * (cpu_seconds(p) - c) / elapsed for p, c in cpu0.items()}
        fake.stop_ticking()
        pushed = fake.tick_times[first_push:]
        expected = sum(
            listeners[i % len(symbols)] for i, ts in enumerate(pushed) if t0 <= ts / 1000 <= t1
        )
        deadline = time.monotonic() + DRAIN
        while time.monotonic() < deadline:
            time.sleep(0.1)
        sampling.set()
        sampler.join()
        stop.set()
        received, sent, keys, dropped = array("d"), array("d"), array("q"), 0
        for _ in procs:
            r, s, k, lost = results.get(timeout=600)
            received.frombytes(r)
            sent.frombytes(s)
            keys.frombytes(k)
            dropped += lost
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    window = [i for i in range(len(sent)) if t0 <= sent[i] <= t1]
    latencies = sorted(received[i] - sent[i] for i in window)
    unique = {(keys[i], sent[i]) for i in window}
    # Staleness: the longest a client went without a new quote of a symbol it follows.
    by_key: dict[int, list[float]] = {}
    for i in window:
        by_key.setdefault(keys[i], []).append(received[i])
    gaps = []
    for times in by_key.values():
        times.sort()
        gaps.extend(b - a for a, b in zip(times, times[1:], strict=False))
    ms = 1000.0
    return Result(
        name=name,
        clients=args.clients,
        pushes=len([ts for ts in pushed if t0 <= ts / 1000 <= t1]),
        p50=percentile(latencies, 0.50) * ms if latencies else float("nan"),
        p99=percentile(latencies, 0.99) * ms if latencies else float("nan"),
        max=latencies[-1] * ms if latencies else float("nan"),
        delivered=len(unique) / expected if expected else float("nan"),
        duplicates=len(window) - len(unique),
        dropped=dropped,
        stale_ms=max(gaps) * ms if gaps else float("nan"),
        web_rss=max(peaks["web"]),
        stream_rss=max(peaks["stream"]),
        web_cpu=cpu[web.pid],
        stream_cpu=cpu[stream.pid],
        client_cpu=sum(cpu[q.pid] for q in procs),
    )


# --- closed bars through reconnects -----------------------------------------------------------


def bars_through_reconnects(web: Server, fake, symbols: list[str], token: str, topics: int):
    """Klines for ``BAR_SYMBOLS`` symbols, one closed minute bar each per round, the connection
    dropped after every round and the closed bar pushed again on the new one (as a venue
    resends its current candle). Returns closed bars pushed, received, distinct received."""
    import socketio

    closed: list[tuple[str, str]] = []
    sio = socketio.Client(reconnection=False)
    sio.on("bar", lambda b: closed.append((b["symbol"], b["open_time"])) if b["closed"] else None)
    sio.connect(web.url, auth={"token": token}, transports=["websocket"])
    chosen = symbols[:BAR_SYMBOLS]
    sio.call("subscribe", {"symbols": chosen}, timeout=30)
    start = (int(time.time()) // 60 - RECONNECTS - 1) * 60_000
    pushed = 0
    for k in range(RECONNECTS):
        opened = start + k * 60_000
        for symbol in chosen:
            fake.push_kline(symbol, "1", opened, (1.0, 1.2, 0.9, 1.1, 5.0), confirm=False)
            fake.push_kline(symbol, "1", opened, (1.0, 1.2, 0.9, 1.05, 6.0), confirm=True)
            pushed += 1
        connections = len(fake.connections)
        fake.drop()
        fake.wait_for(
            lambda c=connections: (
                len(fake.connections) > c
                and len(fake.live) == 1
                and len(fake.live[0].topics) == topics
            ),
            timeout=30,
            what="resubscribed",
        )
        for symbol in chosen:
            fake.push_kline(symbol, "1", opened, (1.0, 1.2, 0.9, 1.05, 6.0), confirm=True)
    time.sleep(2.0)
    sio.disconnect()
    return pushed, len(closed), len(set(closed))


# --- the whole run ----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2.0, help="pushes per symbol per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds")
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument(
        "--rounds", type=int, default=1, help="photon-then-bare pairs (medians are compared)"
    )
    args = parser.parse_args()
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.clients} clients x "
        f"{PER_CLIENT} symbols of {args.symbols}; {args.rate:g} pushes/s per symbol "
        f"({args.rate * args.symbols:g}/s in, {args.rate * args.clients * PER_CLIENT:g}/s out); "
        f"{args.seconds:g} s measured",
        flush=True,
    )
    results: list[Result] = []
    bars: list = []
    with tempfile.TemporaryDirectory(prefix="photon-bench-") as tmp:
        tmpdir = Path(tmp)
        redis_proc, redis_url = start_embedded_redis(tmpdir / "redis")
        try:
            with FakeExchange() as fx, FakeBybitStream() as fake:
                symbols = fx.add_synthetic_pairs(args.symbols)
                database_url = f"sqlite:///{tmpdir / 'bench.db'}"
                env = photon_env(database_url, redis_url, fx.url, fake.url)
                migrate(database_url, redis_url)
                bars = []
                for _ in range(args.rounds):
                    results.append(run_photon(env, tmpdir, fake, symbols, args, bars))
                    results.append(run_bare(redis_url, tmpdir, fake, symbols, args))
        finally:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
    summarise(results, bars, args)
    return 0


def _wait_subscribed(fake, topics: int, timeout: float = 120.0) -> None:
    fake.wait_for(
        lambda: len(fake.live) == 1 and len(fake.live[0].topics) == topics,
        timeout=timeout,
        what=f"{topics} topics subscribed",
    )


def run_photon(env, tmpdir, fake, symbols, args, bars_out: list) -> Result:
    port = free_port()
    command = [sys.executable, "wsgi.py"]
    web = Server("photon-web", command, {**env, "PORT": str(port)}, port, "/health", tmpdir)
    stream = None
    try:
        token = prepare(web.url, symbols)
        stream = Process("photon-stream", [sys.executable, "-m", "workers.stream"], env, tmpdir)
        topics = len(symbols) * 5  # a ticker and four kline intervals per pair
        _wait_subscribed(fake, topics)
        result = measure("photon", web, stream, fake, symbols, token, args)
        show(result)
        bars_out.append(bars_through_reconnects(web, fake, symbols, token, topics))
        return result
    finally:
        for server in (stream, web):
            if server is not None:
                server.stop()


def run_bare(redis_url, tmpdir, fake, symbols, args) -> Result:
    port = free_port()
    web = Server(
        "bare-web",
        [sys.executable, "bench/bare_relay.py", str(port), redis_url, BARE_CHANNEL, "eventlet"],
        {},
        port,
        "/socket.io/?EIO=4&transport=polling",
        tmpdir,
    )
    stream = None
    try:
        command = [sys.executable, "bench/bare_stream.py", fake.url, redis_url, BARE_CHANNEL]
        stream = Process("bare-stream", command + symbols, {}, tmpdir)
        _wait_subscribed(fake, len(symbols))
        result = measure("bare", web, stream, fake, symbols, "unused", args)
        show(result)
        return result
    finally:
        for server in (stream, web):
            if server is not None:
                server.stop()


class Process(Server):
    """A process without an HTTP port (the stream side): started, measured, stopped."""

    def __init__(self, name: str, cmd: list[str], env: dict, log_dir: Path) -> None:
        self.name, self.url = name, ""
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


HEADER = (
    f"{'pipeline':<9}{'clients':>8}{'pushes':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    f"{'deliv.':>8}{'dups':>6}{'drops':>6}{'stale ms':>9}{'web MB':>8}{'strm MB':>8}"
    f"{'web %':>7}{'strm %':>7}{'cli %':>7}"
)


def show(r: Result) -> None:
    if not getattr(show, "headed", False):
        print(HEADER, flush=True)
        show.headed = True
    print(
        f"{r.name:<9}{r.clients:>8}{r.pushes:>8}{r.p50:>9.1f}{r.p99:>9.1f}{r.max:>9.1f}"
        f"{100 * r.delivered:>7.2f}%{r.duplicates:>6}{r.dropped:>6}{r.stale_ms:>9.0f}"
        f"{r.web_rss:>8.0f}{r.stream_rss:>8.0f}{r.web_cpu:>7.0f}{r.stream_cpu:>7.0f}"
        f"{r.client_cpu:>7.0f}",
        flush=True,
    )


def _median(results: list[Result]) -> Result | None:
    """The round with the median p99 (the only round, with one)."""
    ranked = sorted(results, key=lambda r: r.p99)
    return ranked[(len(ranked) - 1) // 2] if ranked else None


def summarise(results: list[Result], bars: list, args) -> None:
    photon = _median([r for r in results if r.name == "photon"])
    bare = _median([r for r in results if r.name == "bare"])
    print()
    if args.rounds > 1:
        print(f"median of {args.rounds} rounds:")
    if photon and bare:
        ratio = photon.p99 / bare.p99 if bare.p99 else float("nan")
        met = ratio <= 1.5 and photon.p99 < 250
        print(
            f"p99 Photon / bare: {ratio:.2f}x ({photon.p99:.1f} vs {bare.p99:.1f} ms; goal "
            f"<= 1.5x and < 250 ms: {'met' if met else 'MISSED'}); p50 "
            f"{photon.p50 / bare.p50:.2f}x"
        )
    if photon:
        interval = 1000 / args.rate
        print(
            f"delivered {100 * photon.delivered:.2f}% (goal 100%), {photon.duplicates} twice; "
            f"a quote is stale at most one push interval + p99 = {interval:.0f} + "
            f"{photon.p99:.0f} = {interval + photon.p99:.0f} ms (longest gap seen "
            f"{photon.stale_ms:.0f} ms), against {60_000} ms polling"
        )
    for pushed, received, distinct in bars:
        print(
            f"closed bars through {RECONNECTS} reconnects: {pushed} closed, {received} received, "
            f"{received - distinct} duplicates (goal 0), {pushed - distinct} missing"
        )


if __name__ == "__main__":
    raise SystemExit(main())
