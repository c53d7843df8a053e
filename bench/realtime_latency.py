"""Quote latency through the real web process, against a bare Flask-SocketIO relay.

Run:   .venv/bin/python bench/realtime_latency.py                      (about 9 minutes)
Quick: .venv/bin/python bench/realtime_latency.py --clients 1,100 --events 200

For each async mode (eventlet, threading) it starts the real web process (``python wsgi.py``,
PHOTON_ENV=production so no access log, replay data, a SQLite database of its own) and the bare
relay (bench/bare_relay.py: Flask-SocketIO with the same ``message_queue``, on a channel of its
own, no auth, no Photon code). For each client count it connects that many authenticated
python-socketio clients, each subscribed to BTCUSDT, then a separate process emits the quote
events through Redis exactly as a worker does (``photon.realtime.events.emit(QUOTE, payload,
symbol_room(ticker), redis_url=...)``; for the bare relay a write-only ``SocketIO(message_queue=
...)`` on its channel). Every payload carries its send time; every client records
receive time minus send time for every event.

Clients: several processes (``--client-procs``), each running its share of ``socketio.Client``
instances in threads. (``socketio.AsyncClient`` would need aiohttp, which Photon does not ship.)
A stock ``socketio.Client`` starts a new thread for every message it receives; here the clients'
engine.io layer runs the handler in its read thread instead, which makes 500 clients affordable
on two cores and applies to both servers alike.

Rate: the events go out at a steady rate, not as fast as possible, so that the figures are
latency rather than backlog. By default the rate keeps the total delivery at about
5,000 messages/s (200 events/s for one client, 50/s for 100, 10/s for 500); ``--rate`` fixes it.
The clients share the two cores with the server: their CPU is printed too ("cli %", all client
processes together, 100 = one core).

Redis: $REDIS_URL's server (default 127.0.0.1:6379) but always database 12, whose Socket.IO
channel no running Photon system listens to. Printed: p50, p99 and max latency, the share of
messages delivered, clients whose connection dropped, the web process's CPU during the run, and
its RSS before the clients connect and at its peak (psutil, else /proc).
Goals: Photon p99 <= 2x bare p99 at 500 clients; web RSS < 300 MB. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
SYMBOL = "BTCUSDT"
BARE_CHANNEL = "photon-bench-bare-relay"
PASSWORD = "correct-horse-9"
SECRET = "bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
DELIVERY_BUDGET = 5_000  # messages per second to all clients together, for the default rate
WARMUP = 10  # events sent first and not measured
DRAIN = 10.0  # seconds to wait for stragglers after the last emit


# --- processes under test -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return times.user + times.system
    except ImportError:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(
        self, name: str, cmd: list[str], env: dict, port: int, ready_path: str, log_dir: Path
    ):
        self.name, self.url = name, f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}-{port}.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + ready_path, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def photon_env(mode: str, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "PHOTON_ENV": "production",
        "JWT_SECRET_KEY": SECRET,
        "JWT_ACCESS_MINUTES": "240",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PHOTON_ASYNC_MODE": mode,
        "PHOTON_DATA_SOURCE": "replay",
        "PHOTON_LOG_LEVEL": "WARNING",
    }


def migrate(database_url: str, redis_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "photon.app:create_app", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **photon_env("threading", database_url, redis_url)},
        check=True,
        capture_output=True,
    )


def login(url: str) -> str:
    """A user who watches BTCUSDT; every client connects with this user's access token."""
    user = {"username": "bench", "email": "bench@example.com", "password": PASSWORD}
    requests.post(url + "/api/auth/register/", json=user, timeout=30)  # 409 on later runs
    tokens = requests.post(
        url + "/api/auth/login/", timeout=30, json={"username": "bench", "password": PASSWORD}
    )
    tokens.raise_for_status()
    token = tokens.json()["access"]
    added = requests.post(
        url + "/api/trading/symbols/",
        json={"symbol": "BTC"},
        timeout=30,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert added.status_code in (200, 201), added.text
    return token


# --- client processes -------------------------------------------------------------------------


def client_process(url: str, token: str, count: int, ready, counter, stop, results) -> None:
    import logging

    import engineio
    import socketio

    # A dropped connection is counted below, not logged once per client.
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)

    class InlineEngineIO(engineio.Client):
        def _trigger_event(self, event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False  # handle in the read thread: no thread per message
            return super()._trigger_event(event, *args, **kwargs)

    class BenchClient(socketio.Client):
        def _engineio_client_class(self):
            return InlineEngineIO

    latencies = [array("d") for _ in range(count)]
    dropped: list[int] = []

    def connect(i: int):
        sio = BenchClient(reconnection=False)
        record = latencies[i].append

        def on_quote(payload):
            received = time.time()
            if not payload.get("warmup"):
                record(received - payload["sent"])

        sio.on("quote", on_quote)
        sio.on("disconnect", lambda *_reason: None if stop.is_set() else dropped.append(i))
        sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
        answer = sio.call("subscribe", {"symbols": [SYMBOL]}, timeout=60)
        if SYMBOL not in answer.get("joined", []):
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
        counter.value = sum(len(a) for a in latencies)
    merged = array("d")
    for one in latencies:
        merged.extend(one)
    results.put((merged.tobytes(), len(set(dropped))))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda sio: sio.disconnect(), clients))


def emit_process(kind: str, redis_url: str, events: int, rate: float) -> None:
    """Emit the quotes through Redis as a worker does, at a steady rate."""
    if kind == "photon":
        from photon.realtime.events import QUOTE, emit, symbol_room

        def send(payload: dict) -> None:
            emit(QUOTE, payload, symbol_room(SYMBOL), redis_url=redis_url)
    else:
        from flask_socketio import SocketIO

        relay = SocketIO(message_queue=redis_url, channel=BARE_CHANNEL, async_mode="threading")

        def send(payload: dict) -> None:
            relay.emit("quote", payload, to=f"symbol:{SYMBOL}")

    start = time.perf_counter()
    for i in range(WARMUP + events):
        pause = start + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        send(
            {
                "symbol": SYMBOL,
                "price": 43000.0 + i,
                "change": 1.0,
                "change_pct": 0.01,
                "volume": 12.5,
                "ts": "2024-01-01T00:00:00+00:00",
                "source": "bench",
                "seq": i - WARMUP,
                "warmup": i < WARMUP,
                "sent": time.time(),
            }
        )


# --- one measured run -------------------------------------------------------------------------


@dataclass
class Result:
    mode: str
    server: str
    clients: int
    rate: float
    p50: float
    p99: float
    max: float
    delivered: float
    connect_s: float
    cpu_pct: float
    client_cpu_pct: float
    dropped: int
    rss_idle: float
    rss_peak: float


def percentile(sorted_values, q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def run(
    mode: str,
    server: Server,
    kind: str,
    token: str,
    clients: int,
    events: int,
    rate: float,
    client_procs: int,
    redis_url: str,
) -> Result:
    ctx = mp.get_context("spawn")
    nprocs = max(1, min(client_procs, clients))
    shares = [clients // nprocs + (1 if i < clients % nprocs else 0) for i in range(nprocs)]
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    counters = [ctx.Value("q", 0, lock=False) for _ in shares]
    rss_idle = rss_mb(server.pid)
    procs = [
        ctx.Process(
            target=client_process,
            daemon=True,
            args=(server.url, token, n, ready, counters[i], stop, results),
        )
        for i, n in enumerate(shares)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            status = ready.get(timeout=300)
            if status != "ok":
                raise RuntimeError(status)
        connect_s = time.monotonic() - started
        peak = [rss_mb(server.pid)]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.25):
                peak.append(rss_mb(server.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        client_cpu0 = sum(cpu_seconds(p.pid) for p in procs)
        emitter = ctx.Process(target=emit_process, args=(kind, redis_url, events, rate))
        emitter.start()
        emitter.join(timeout=(WARMUP + events) / rate + 120)
        expected = events * clients
        deadline = time.monotonic() + DRAIN
        while sum(c.value for c in counters) < expected and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.monotonic() - t0
        cpu_pct = 100 * (cpu_seconds(server.pid) - cpu0) / elapsed
        client_cpu_pct = 100 * (sum(cpu_seconds(p.pid) for p in procs) - client_cpu0) / elapsed
        sampling.set()
        sampler.join()
        stop.set()
        latencies, dropped = array("d"), 0
        for _ in procs:
            data, lost = results.get(timeout=300)
            latencies.frombytes(data)
            dropped += lost
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    values = sorted(latencies)
    ms = 1000.0
    return Result(
        mode,
        kind,
        clients,
        rate,
        percentile(values, 0.50) * ms if values else float("nan"),
        percentile(values, 0.99) * ms if values else float("nan"),
        values[-1] * ms if values else float("nan"),
        len(values) / expected,
        connect_s,
        cpu_pct,
        client_cpu_pct,
        dropped,
        rss_idle,
        max(peak),
    )


# --- the whole run ----------------------------------------------------------------------------

HEADER = (
    f"{'mode':<10}{'clients':>8}  {'server':<7}{'rate/s':>7}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'max ms':>9}{'deliv.':>8}{'drops':>6}{'conn s':>7}{'cpu %':>6}{'cli %':>6}"
    f"{'rss MB':>7}{'peak':>7}"
)


def show(r: Result) -> None:
    print(
        f"{r.mode:<10}{r.clients:>8}  {r.server:<7}{r.rate:>7.0f}{r.p50:>9.2f}{r.p99:>9.2f}"
        f"{r.max:>9.2f}{100 * r.delivered:>7.1f}%{r.dropped:>6}{r.connect_s:>7.1f}"
        f"{r.cpu_pct:>6.0f}{r.client_cpu_pct:>6.0f}{r.rss_idle:>7.0f}{r.rss_peak:>7.0f}",
        flush=True,
    )


def bench_redis_url() -> str:
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    return urlunsplit(parts._replace(path="/12"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,100,500", help="comma-separated client counts")
    parser.add_argument("--events", type=int, default=1000, help="measured events per run")
    parser.add_argument("--modes", default="eventlet,threading")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help=f"events/s (default: min(200, {DELIVERY_BUDGET} / clients))",
    )
    parser.add_argument(
        "--client-procs",
        type=int,
        default=4,
        help="client processes (each runs its share of clients in threads)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    modes = [m.strip() for m in args.modes.split(",")]
    redis_url = bench_redis_url()
    began = time.monotonic()
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, Redis {redis_url}, "
        f"{args.events} events per run, {args.client_procs} client processes",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="photon-bench-") as tmp:
        tmpdir = Path(tmp)
        database_url = f"sqlite:///{tmpdir / 'bench.db'}"
        migrate(database_url, redis_url)
        token = None
        print(HEADER, flush=True)
        for mode in modes:
            photon = bare = None
            try:
                port = free_port()
                photon = Server(
                    "photon",
                    [sys.executable, "wsgi.py"],
                    {**photon_env(mode, database_url, redis_url), "PORT": str(port)},
                    port,
                    "/health",
                    tmpdir,
                )
                token = token or login(photon.url)
                port = free_port()
                bare = Server(
                    "bare",
                    [
                        sys.executable,
                        "bench/bare_relay.py",
                        str(port),
                        redis_url,
                        BARE_CHANNEL,
                        mode,
                    ],
                    {},
                    port,
                    "/socket.io/?EIO=4&transport=polling",
                    tmpdir,
                )
                for clients in counts:
                    rate = args.rate or min(200.0, DELIVERY_BUDGET / clients)
                    for server, kind in ((photon, "photon"), (bare, "bare")):
                        result = run(
                            mode,
                            server,
                            kind,
                            token,
                            clients,
                            args.events,
                            rate,
                            args.client_procs,
                            redis_url,
                        )
                        results.append(result)
                        show(result)
            finally:
                for server in (photon, bare):
                    if server is not None:
                        server.stop()
    summarise(results)
    print(f"\ntotal {time.monotonic() - began:.0f} s")
    return 0


def summarise(results: list[Result]) -> None:
    print(
        "\nPhoton / bare, p99 latency (goal at 500 clients: <= 2.0x); web RSS peak (goal < 300 MB)"
    )
    by_key = {(r.mode, r.clients, r.server): r for r in results}
    for (mode, clients, server), photon in by_key.items():
        if server != "photon" or (mode, clients, "bare") not in by_key:
            continue
        bare = by_key[(mode, clients, "bare")]
        ratio = photon.p99 / bare.p99 if bare.p99 else float("nan")
        verdict = ""
        if clients == 500:
            verdict = "  goal met" if ratio <= 2.0 else "  GOAL MISSED"
        print(
            f"  {mode:<10}{clients:>5} clients: p50 {photon.p50 / bare.p50:5.2f}x   "
            f"p99 {ratio:5.2f}x ({photon.p99:.1f} vs {bare.p99:.1f} ms){verdict}   "
            f"web RSS {photon.rss_peak:.0f} MB (bare {bare.rss_peak:.0f} MB)"
            + ("" if photon.rss_peak < 300 else "  RSS GOAL MISSED")
        )


if __name__ == "__main__":
    raise SystemExit(main())
