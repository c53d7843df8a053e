"""Under eventlet, a request stuck on the database does not stall Socket.IO: quotes relayed from
Redis keep reaching clients while it waits (psycopg2 cooperates with eventlet)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from photon.realtime.events import QUOTE, emit, symbol_room

# These tests start a real web process.
pytestmark = pytest.mark.slow

DEADLINE = 0.5  # seconds from emit to arrival while the request is blocked
HOLD = 1.5  # seconds the table stays locked


@pytest.mark.postgres
@pytest.mark.parametrize("db_backend", ["postgres"])
def test_quotes_flow_while_a_request_waits_on_a_locked_table(db_backend, live_pg, listeners):
    user = live_pg.user("BTC")
    client = listeners(live_pg).connect({"token": user.access})
    assert client.call("subscribe", {"symbols": ["BTC"]})["joined"] == ["BTCUSDT"]

    engine = sa.create_engine(
        live_pg.env["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg2://")
    )
    slow: dict = {}

    def list_symbols() -> None:
        started = time.monotonic()
        slow["response"] = live_pg.api("GET", "/api/trading/symbols/", user, timeout=30)
        slow["seconds"] = time.monotonic() - started

    request = threading.Thread(target=list_symbols, daemon=True)
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(sa.text("LOCK TABLE watches IN ACCESS EXCLUSIVE MODE"))
            locked = time.monotonic()
            request.start()
            _wait_until_blocked(conn)

            redis_url = live_pg.env["REDIS_URL"]
            delays = []
            for n in range(6):
                sent = time.monotonic()
                emit(
                    QUOTE,
                    {"symbol": "BTCUSDT", "price": 1.0 + n, "n": n, "source": "test"},
                    symbol_room("BTCUSDT"),
                    redis_url=redis_url,
                )
                client.wait_for(QUOTE, lambda p, n=n: p.get("n") == n, timeout=DEADLINE)
                delays.append(time.monotonic() - sent)
                time.sleep(0.15)
            assert max(delays) < DEADLINE, delays
            # Another request that needs no locked table is served meanwhile too.
            health = live_pg.api("GET", "/health", timeout=DEADLINE * 4)
            assert health.status_code == 200
            assert request.is_alive() and "response" not in slow, "the request did not wait"
            assert _waiting(conn) == 1

            time.sleep(max(0.0, HOLD - (time.monotonic() - locked)))
            transaction.rollback()
        request.join(timeout=10)
    finally:
        engine.dispose()
    assert not request.is_alive()
    assert slow["response"].status_code == 200, slow["response"].text
    assert [s["symbol"] for s in slow["response"].json()] == ["BTCUSDT"]
    assert slow["seconds"] >= HOLD - 0.2


def _waiting(conn) -> int:
    """Sessions waiting for a lock on ``watches`` (pg_locks, unlike pg_stat_activity, is not
    frozen for the length of our transaction)."""
    return conn.execute(
        sa.text(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'watches'::regclass"
        )
    ).scalar()


def _wait_until_blocked(conn, timeout: float = 10.0) -> None:
    """Until the web process's query waits on our lock, so the test proves what it says."""
    deadline = time.monotonic() + timeout
    while _waiting(conn) == 0:
        assert time.monotonic() < deadline, "the request never reached the locked table"
        time.sleep(0.02)
