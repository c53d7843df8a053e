"""One full quote cycle (fetch, parse, upsert) for 10, 100 and 1,000 watched symbols.

Half the symbols are Bybit pairs and half Yahoo stocks, served by the local fake exchange in the
real formats; the real providers and the real upsert path do the work, on SQLite and on
PostgreSQL. Prints HTTP calls per source per cycle (goal <= 2), the cycle time with the fake
server's own handler time subtracted (goal <= 0.5 s at 1,000 symbols), and rows written.

    .venv/bin/python bench/monitor_cycle.py [--sizes 10,100,1000] [--repeat 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/test] [--redis redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from photon.agents import monitor  # noqa: E402
from photon.app import create_app  # noqa: E402
from photon.extensions import db  # noqa: E402
from photon.models import Symbol, User, Watch  # noqa: E402
from photon.providers import get_providers  # noqa: E402
from tests.fakes import FakeExchange  # noqa: E402


def make_database(kind: str, pg_url: str | None) -> tuple[str, callable]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: None
    name = f"photon_bench_{uuid.uuid4().hex[:8]}"
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


def run(kind: str, sizes: list[int], repeat: int, pg_url: str | None, redis_url: str) -> list:
    url, drop = make_database(kind, pg_url)
    rows = []
    try:
        with FakeExchange() as fx:
            pairs = fx.add_synthetic_pairs(max(sizes) // 2)
            stocks = fx.add_synthetic_stocks(max(sizes) - max(sizes) // 2)
            app = create_app(
                {
                    "PHOTON_ENV": "test",
                    "DATABASE_URL": url,
                    "REDIS_URL": redis_url,
                    "PHOTON_BYBIT_URL": fx.url,
                    "PHOTON_YAHOO_URL": fx.url,
                    "PHOTON_LOG_LEVEL": "WARNING",
                }
            )
            with app.app_context():
                from flask_migrate import upgrade

                upgrade()
                db.session.add_all(
                    [Symbol(ticker=t, asset_class="crypto", source="bybit") for t in pairs]
                    + [Symbol(ticker=t, asset_class="stock", source="yahoo") for t in stocks]
                )
                db.session.commit()
                users = {}
                for size in sizes:
                    # One user watching ``size`` symbols: a cycle is exactly what the periodic
                    # job runs (load the union of watched symbols, fetch, upsert, statuses).
                    user = User(
                        username=f"bench{size}", email=f"bench{size}@example.com", password_hash="-"
                    )
                    db.session.add(user)
                    db.session.flush()
                    wanted = pairs[: size // 2] + stocks[: size - size // 2]
                    for symbol_id in db.session.scalars(
                        sa.select(Symbol.id).where(Symbol.ticker.in_(wanted))
                    ):
                        db.session.add(Watch(user_id=user.id, symbol_id=symbol_id))
                    users[size] = user.id
                db.session.commit()
                for size in sizes:
                    monitor.run_cycle(db.session, get_providers(), [users[size]])  # warm-up
                    times, net, calls = [], [], []
                    for _ in range(repeat):
                        time.sleep(1.05)  # the fake's clocks tick in seconds: new quote rows
                        fx.reset_calls()
                        started = time.perf_counter()
                        result = monitor.run_cycle(db.session, get_providers(), [users[size]]).cycle
                        elapsed = time.perf_counter() - started
                        times.append(elapsed)
                        net.append(elapsed - fx.server_seconds)
                        calls.append(
                            {
                                "bybit": fx.calls(prefix="/v5/"),
                                "yahoo": fx.calls() - fx.calls(prefix="/v5/"),
                            }
                        )
                    rows.append(
                        {
                            "db": kind,
                            "symbols": size,
                            "bybit_calls": max(c["bybit"] for c in calls),
                            "yahoo_calls": max(c["yahoo"] for c in calls),
                            "cycle_s": statistics.median(times),
                            "net_s": statistics.median(net),
                            "rows": result.rows_written,
                            "errors": len([r for r in result.results if r.error]),
                        }
                    )
                db.session.remove()
                db.engine.dispose()
    finally:
        drop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PHOTON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = run("sqlite", sizes, args.repeat, None, args.redis)
    if not args.no_postgres:
        results += run("postgres", sizes, args.repeat, args.postgres, args.redis)
    print(
        "| db | symbols | bybit calls | yahoo calls | cycle s | cycle - fake server s "
        "| rows written | per-symbol errors |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['db']} | {r['symbols']} | {r['bybit_calls']} | {r['yahoo_calls']} | "
            f"{r['cycle_s']:.3f} | {r['net_s']:.3f} | {r['rows']} | {r['errors']} |"
        )
    big = [r for r in results if r["symbols"] == max(sizes)]
    for r in big:
        verdict = "meets" if r["net_s"] <= 0.5 else "misses"
        calls = "meets" if max(r["bybit_calls"], r["yahoo_calls"]) <= 2 else "misses"
        print(
            f"{r['db']}: {r['net_s']:.3f} s net at {r['symbols']} symbols ({verdict} <= 0.5 s);"
            f" calls per source {calls} <= 2"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
