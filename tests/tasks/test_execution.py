"""The paper-execution job for real: through RQ, twice, concurrently, and killed halfway."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from photon.agents.execution import agent as execution
from photon.agents.execution import books
from photon.agents.execution.settings import PaperSettings
from photon.extensions import db
from photon.models import PaperOrder, Portfolio, Position, TradingDecision
from photon.realtime.events import channel
from photon.store import agent_status
from photon.tasks.enqueue import queue_paper_execution
from photon.tasks.execution import execute_decision
from photon.types import Agent, AgentState
from tests.agents.execution import factories as f
from tests.conftest import install_worker_app

ROOT = Path(__file__).resolve().parents[2]
NO_COOLDOWN = PaperSettings(cooldown=0)


@pytest.fixture
def worker_env(worker_env, monkeypatch):
    # The job reads its settings from the environment, like a real worker.
    monkeypatch.setenv("PHOTON_PAPER_COOLDOWN", "0")
    return install_worker_app({**worker_env, "PHOTON_PAPER_COOLDOWN": "0"})


@pytest.fixture
def alice(app, worker_env):
    """A running execution agent and a fresh BTC quote (jobs fill at the real clock)."""
    with app.app_context():
        uid = f.user("alice")
        f.start(uid)
        btc = f.symbol("BTCUSDT", "crypto", watcher=uid)
        f.quote(btc, 50_000.0, ts=datetime.now(UTC), bid=49_990.0, ask=50_010.0, currency="USDT")
    return uid, btc


def _events(pubsub) -> list[dict]:
    out = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message is None:
            if out:
                break
            continue
        if message["type"] == "message":
            body = json.loads(message["data"])
            if body.get("method") == "emit":
                out.append({**body, "data": body["data"][0]})  # the emitted payload
    return out


def _orders(decision_id: int) -> list[PaperOrder]:
    return list(db.session.scalars(select(PaperOrder).where(PaperOrder.decision_id == decision_id)))


def test_queued_job_fills_and_announces(app, alice, redis_client, redis_url, run_jobs):
    uid, btc = alice
    pubsub = redis_client.pubsub()
    pubsub.subscribe(channel(redis_url))
    with app.app_context():
        decision_id = f.decision(uid, btc, "BUY", 0.5, at=datetime.now(UTC))
        decision = db.session.get(TradingDecision, decision_id)
        assert queue_paper_execution(db.session, redis_client, uid, [decision]) == [
            f"execute-{decision_id}"
        ]
    run_jobs()
    by_name = {e["event"]: e for e in _events(pubsub)}
    assert by_name["order"]["room"] == f"user:{uid}"
    order = by_name["order"]["data"]
    assert (order["decision_id"], order["status"], order["price"]) == (
        decision_id,
        "filled",
        50_010.0,
    )
    status = by_name["agent_status"]["data"]
    assert status["agent"] == "execution" and status["state"] == "running"
    assert status["mode"] == "paper"
    assert status["equity"] == pytest.approx(10_000 - order["fee"] - 10 * order["quantity"])
    with app.app_context():
        assert [o.id for o in _orders(decision_id)] == [order["id"]]


def test_rejection_is_announced_too(app, alice, redis_client, redis_url, worker_env):
    uid, btc = alice
    pubsub = redis_client.pubsub()
    pubsub.subscribe(channel(redis_url))
    with app.app_context():
        decision_id = f.decision(uid, btc, "SELL", at=datetime.now(UTC))
    result = execute_decision(decision_id)
    assert result["status"] == "rejected" and "never shorts" in result["reason"]
    events = [e["event"] for e in _events(pubsub)]
    assert events == ["order", "agent_status"]


def test_the_same_job_twice_makes_one_order(app, alice, redis_client, worker_env, run_jobs):
    uid, btc = alice
    with app.app_context():
        decision_id = f.decision(uid, btc, at=datetime.now(UTC))
        decision = db.session.get(TradingDecision, decision_id)
        queue_paper_execution(db.session, redis_client, uid, [decision])
    run_jobs()
    with app.app_context():
        decision = db.session.get(TradingDecision, decision_id)
        # The first job finished, so the same job id queues again: it must change nothing.
        assert queue_paper_execution(db.session, redis_client, uid, [decision])
    run_jobs()
    again = execute_decision(decision_id)
    assert again["created"] is False
    with app.app_context():
        orders = _orders(decision_id)
        assert len(orders) == 1
        portfolio = db.session.scalars(select(Portfolio)).one()
        order = orders[0]
        assert portfolio.cash == pytest.approx(10_000 - order.quantity * order.price - order.fee)


def test_stopped_agent_and_hold_make_nothing(app, alice, worker_env):
    uid, btc = alice
    with app.app_context():
        hold = f.decision(uid, btc, "HOLD", at=datetime.now(UTC))
    assert execute_decision(hold) == {"decision_id": hold, "order_id": None}
    assert execute_decision(123_456) == {"decision_id": 123_456, "order_id": None}


def test_concurrent_executions_neither_lose_cash_nor_double_fill(app, alice):
    """Threads with their own sessions: the portfolio lock serialises them."""
    uid, btc = alice
    now = datetime.now(UTC)
    with app.app_context():
        symbols = [btc]
        for ticker in ("ETHUSDT", "SOLUSDT", "XRPUSDT"):
            sid = f.symbol(ticker, "crypto", watcher=uid)
            f.quote(sid, 100.0, ts=now, currency="USDT")
            symbols.append(sid)
        decisions = [f.decision(uid, sid, at=now) for sid in symbols]
    work = decisions + decisions  # every decision twice, all at once
    barrier = threading.Barrier(len(work))
    outcomes: list = []
    errors: list = []

    def one(decision_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                outcome = execution.execute(db.session, decision_id, NO_COOLDOWN, now=now)
                outcomes.append((decision_id, outcome.order.id, outcome.created))
                db.session.remove()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(d,)) for d in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(d for d, _, created in outcomes if created) == sorted(decisions)
    with app.app_context():
        orders = list(db.session.scalars(select(PaperOrder)))
        assert len(orders) == len(decisions) and all(o.status == "filled" for o in orders)
        spent = sum(o.quantity * o.price + o.fee for o in orders)
        portfolio = db.session.scalars(select(Portfolio)).one()
        assert portfolio.cash == pytest.approx(10_000 - spent, abs=1e-6)
        assert books.money_gap(db.session, uid) == pytest.approx(0.0, abs=1e-9)


# --- a worker killed halfway -------------------------------------------------------------------

# Runs the job in a child process and prints each SQL statement before it is sent, so the test
# knows where the child is blocked when it kills it.
CHILD = """
import sys
from sqlalchemy import event
from sqlalchemy.engine import Engine

@event.listens_for(Engine, "before_cursor_execute")
def show(conn, cursor, statement, params, context, executemany):
    print("SQL", " ".join(statement.split())[:120], flush=True)

from photon.app import create_app
from photon.tasks import context
from photon.tasks.execution import execute_decision
context.install(create_app())  # as workers.worker does
print("RESULT", execute_decision(int(sys.argv[1])), flush=True)
"""


def _child(decision_id: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(decision_id)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _read_until(proc: subprocess.Popen, needle: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"child ended before {needle!r}: {seen[-5:]}")
        seen.append(line.strip())
        if needle in line:
            return
    raise AssertionError(f"child never reached {needle!r}")


class _Holder:
    """Holds a lock from outside the app, the way another worker would."""

    def __init__(self, app, backend: str, user_id: int) -> None:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        if backend == "sqlite":
            # The whole database's write lock, which the job's first write waits for.
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
            self.engine = None
        else:
            # Only the position row: the job locks the portfolio, writes its order, and then
            # blocks on the position, with the order row flushed but not committed.
            self.engine = sa.create_engine(url)
            self.conn = self.engine.connect()
            self.conn.execute(
                sa.text("SELECT id FROM paper_positions WHERE user_id = :u FOR UPDATE"),
                {"u": user_id},
            )

    def waiters(self) -> int:
        if self.engine is None:
            return -1
        with self.engine.connect() as other:
            return other.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted"))

    def release(self) -> None:
        self.conn.rollback() if self.engine else self.conn.execute("ROLLBACK")
        self.conn.close()
        if self.engine is not None:
            self.engine.dispose()


@pytest.mark.slow
def test_a_worker_killed_halfway_leaves_nothing_and_the_rerun_fills_once(
    app, alice, worker_env, backend
):
    uid, btc = alice
    now = datetime.now(UTC)
    with app.app_context():
        bought = f.decision(uid, btc, at=now)
        first = execution.execute(db.session, bought, NO_COOLDOWN, now=now).order
        assert first.status == "filled"
        cash_before = db.session.scalars(select(Portfolio)).one().cash
        sell = f.decision(uid, btc, "SELL", at=now)
    holder = _Holder(app, backend, uid)
    proc = _child(sell, worker_env)
    seen: list[str] = []
    try:
        if backend == "sqlite":
            _read_until(proc, "UPDATE paper_portfolios", seen)
            time.sleep(0.5)  # inside SQLite's busy wait for the write lock
        else:
            _read_until(proc, "paper_positions WHERE", seen)
            assert any(s.startswith("SQL INSERT INTO paper_orders") for s in seen), seen
            deadline = time.monotonic() + 10
            while holder.waiters() == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert holder.waiters() > 0
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        holder.release()
    assert not any(s.startswith("RESULT") for s in seen)
    with app.app_context():
        assert _orders(sell) == []  # the dead worker's order never committed
        assert db.session.scalars(select(Portfolio)).one().cash == cash_before
    result = execute_decision(sell)
    assert result["created"] is True and result["status"] == "filled"
    assert execute_decision(sell)["created"] is False
    with app.app_context():
        orders = _orders(sell)
        assert len(orders) == 1
        assert db.session.scalar(select(func.count()).select_from(Position)) == 0
        portfolio = db.session.scalars(select(Portfolio)).one()
        order = orders[0]
        assert portfolio.cash == pytest.approx(
            cash_before + order.quantity * order.price - order.fee
        )
        assert portfolio.cash == pytest.approx(
            portfolio.starting_cash + portfolio.realised_pnl - portfolio.fees_paid, abs=1e-9
        )


def test_a_crash_degrades_the_agent_and_is_reraised(app, alice, worker_env, monkeypatch):
    uid, btc = alice

    def boom(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(execution, "execute", boom)
    with app.app_context():
        decision_id = f.decision(uid, btc, at=datetime.now(UTC))
    with pytest.raises(RuntimeError, match="boom"):
        execute_decision(decision_id)
    with app.app_context():
        status = agent_status.get(db.session, uid, Agent.EXECUTION)
        assert status.state == AgentState.DEGRADED
        assert status.last_error == "paper execution failed: boom"


def test_fills_and_market_updates_draw_the_equity_curve(app, client, alice, worker_env):
    from photon.models import EquitySnapshot, User
    from photon.store import equity
    from photon.tasks.execution import mark_portfolios

    uid, btc = alice
    with app.app_context():
        decision_id = f.decision(uid, btc, "BUY", 0.5, at=datetime.now(UTC))
        username = db.session.get(User, uid).username
    assert execute_decision(decision_id)["status"] == "filled"
    with app.app_context():
        # Quotes move it every cycle, but a point is kept only every EQUITY_EVERY.
        for _cycle in range(3):
            mark_portfolios([uid], NO_COOLDOWN, None)
        points = db.session.scalars(select(EquitySnapshot)).all()
        assert len(points) == 1, "the fill's point, then nothing new within 15 s"
        past = points[0].ts - equity.EQUITY_EVERY
        db.session.execute(db.update(EquitySnapshot).values(ts=past))
        db.session.commit()
        mark_portfolios([uid], NO_COOLDOWN, None)
        assert db.session.scalar(select(func.count()).select_from(EquitySnapshot)) == 2
        db.session.get(User, uid).password_hash = security_hash()
        db.session.commit()
    tokens = client.post(
        "/api/auth/login/", json={"username": username, "password": "correct-horse-9"}
    ).json
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    curve = client.get("/api/trading/portfolio/equity/", headers=headers)
    assert curve.status_code == 200, curve.json
    portfolio = client.get("/api/trading/portfolio/", headers=headers).json
    assert [set(p) for p in curve.json] == [{"ts", "equity", "cash"}] * 2
    assert curve.json[0]["ts"] < curve.json[1]["ts"]
    assert curve.json[-1]["equity"] == pytest.approx(portfolio["equity"])
    assert client.get("/api/trading/portfolio/equity/?limit=1", headers=headers).json == [
        curve.json[-1]
    ]
    reset = client.post("/api/trading/agents/execution/", json={"action": "reset"}, headers=headers)
    assert reset.status_code == 200
    assert client.get("/api/trading/portfolio/equity/", headers=headers).json == []


def security_hash() -> str:
    from photon import security

    return security.hash_password("correct-horse-9")
