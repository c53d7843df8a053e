"""Scale-out on one Redis and one database: two of each process (web, worker, scheduler,
stream), Socket.IO clients of several users on both web processes, directly and through
deploy/haproxy.cfg, and one process of each kind killed with ``kill -9`` along the way.

Checked: every quote, bar, decision, agent status and order reaches every subscribed client
exactly once, whichever web process holds the client and whichever process produced the event
(the expected totals come from what the fake venue accepted and from the database); no periodic
job runs twice in an interval (its job-side record); every analysis asked for is decided once;
and the survivors take over. ``-s`` prints the figures.

PHOTON_SCALE_SECONDS sets how long the load runs (default 150 s: at least two minutes of checked
events either side of the failovers).
"""

from __future__ import annotations

import os
import signal
import statistics
import time

import pytest
import redis
import requests
import sqlalchemy as sa

from photon.tasks import periodic
from photon.tasks.stream.signals import LEASE_KEY
from tests.conftest import PASSWORD, _env
from tests.drills.conftest import DRILL_BACKEND
from tests.drills.scale import Client, Driver, haproxy_binary, start_haproxy
from tests.drills.scale_checks import INTERVAL, LOCK_PERIOD, MONITOR, check, rows
from tests.fakes.bybit_ws import FakeBybitStream
from tests.fakes.yahoo_ws import FakeYahooStreamer
from tests.realtime.conftest import free_port

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("PHOTON_SCALE_SECONDS", "150"))
LEASE = 2.0  # PHOTON_STREAM_LEASE_TTL
SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT"]  # BNB is never pushed: workers poll it
USERS = 4


@pytest.fixture
def haproxy():
    binary = haproxy_binary()
    if binary is None:
        pytest.skip("haproxy is not installed (apt-get install -y haproxy; .ci/run does)")
    return binary


@pytest.mark.parametrize("backend", [DRILL_BACKEND], indirect=True)
def test_two_of_everything(
    backend, database_urls, redis_url, redis_client, exchange, processes, app, haproxy, tmp_path
):
    with FakeBybitStream() as bybit, FakeYahooStreamer() as yahoo:
        env = _env(
            database_urls[backend],
            redis_url,
            PHOTON_BYBIT_URL=exchange.url,
            PHOTON_YAHOO_URL=exchange.url,
            PHOTON_BYBIT_WS_URL=bybit.url,
            PHOTON_YAHOO_WS_URL=yahoo.url,
            PHOTON_PROVIDER_TIMEOUT="2",
            PHOTON_MONITOR_INTERVAL=str(INTERVAL),
            PHOTON_STREAM_LEASE_TTL=str(LEASE),
            PHOTON_ASYNC_MODE="eventlet",
        )
        webs = [processes.web(f"web{i}", env) for i in (1, 2)]
        proxy_port = free_port()
        proxy = start_haproxy(haproxy, proxy_port, webs, tmp_path / "haproxy.log")
        try:
            proxy_url = f"http://127.0.0.1:{proxy_port}"
            processes.until(lambda: _healthy(proxy_url), 20, "haproxy to serve")
            for name in ("worker1", "worker2"):
                processes.start(name, {**env, "PHOTON_LOG_LEVEL": "INFO"}, "-m", "workers.worker")
            for name in ("scheduler1", "scheduler2"):
                processes.start(name, env, "-m", "workers.scheduler")
            for name in ("stream1", "stream2"):
                processes.start(name, {**env, "PHOTON_LOG_LEVEL": "INFO"}, "-m", "workers.stream")
            _drill(webs, proxy_url, bybit, redis_client, database_urls[backend], processes)
        finally:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        return requests.get(url + "/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _users(webs: list[str], proxy: str) -> tuple[list[dict], dict[str, int]]:
    users, symbols = [], {}
    for i in range(USERS):
        url = (webs + [proxy])[i % 3]  # registered and set up through every entry point
        name = f"trader{i}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert requests.post(url + "/api/auth/register/", json=body).status_code == 201
        tokens = requests.post(
            url + "/api/auth/login/", json={"username": name, "password": PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {tokens['access']}"}
        for symbol in SYMBOLS:
            added = requests.post(
                url + "/api/trading/symbols/", json={"symbol": symbol}, headers=headers
            )
            assert added.status_code in (200, 201), added.text
            symbols[symbol] = added.json()["id"]
        me = requests.get(url + "/api/auth/me/", headers=headers).json()
        users.append({"id": me["id"], "access": tokens["access"], "headers": headers, "url": url})
    return users, symbols


def _start_agents(users: list[dict]) -> None:
    for user in users:
        for agent in ("execution", "decision-maker", "market-monitor"):
            started = requests.post(
                user["url"] + f"/api/trading/agents/{agent}/",
                json={"action": "start"},
                headers=user["headers"],
            )
            assert started.status_code == 200, started.text


def _clients(users: list[dict], webs: list[str], proxy: str) -> list[Client]:
    clients = []
    for user in users:
        for where, urls, transports in (
            ("web1", [webs[0], webs[1]], ["websocket"]),
            ("web2", [webs[1], webs[0]], ["websocket"]),
            # Long-polling first, then the upgrade: only sticky sessions make this work.
            ("proxy-polling", [proxy], ["polling", "websocket"]),
            ("proxy-ws", [proxy], ["websocket"]),
        ):
            name = f"u{user['id']}-{where}"
            clients.append(Client(name, user["id"], user["access"], urls, SYMBOLS, transports))
    for client in clients:
        client.start()
    return clients


def _drill(webs, proxy, bybit, control: redis.Redis, database_url: str, processes) -> None:
    users, symbols = _users(webs, proxy)
    processes.until(lambda: len(bybit.live) == 0 or True, 1, "")
    _start_agents(users)
    # One stream process holds the Bybit lease and subscribed every watched pair.
    processes.until(
        lambda: any("tickers.BNBUSDT" in c.topics for c in bybit.live), 60, "the stream"
    )
    processes.until(lambda: periodic.runs(control, MONITOR), 60, "the first periodic run")
    clients = _clients(users, webs, proxy)
    processes.until(lambda: all(c.ready for c in clients), 30, "every client subscribed")
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://"))
    driver = Driver(bybit, [webs[0], webs[1], proxy], users, symbols)
    figures: dict[str, object] = {}
    start = time.time()
    driver.start()
    try:
        time.sleep(min(40, SECONDS / 3.5))
        w1 = (start + 2, time.time() - 1)
        figures.update(_kill_web(processes, clients, webs))
        w2_start = time.time() + 2
        time.sleep(5)
        figures.update(_kill_stream(processes, bybit, control, clients))
        stream_gap = figures.pop("stream_gap")
        time.sleep(8)
        figures.update(_kill_scheduler(processes, control))
        time.sleep(6)
        figures.update(_kill_worker(processes, control))
        time.sleep(max(0.0, start + SECONDS - time.time()))
    finally:
        driver.stopping.set()
        driver.join(timeout=10)
    w2 = (w2_start, time.time() - 1)
    # What was accepted finishes: every analysis asked for is decided, every BUY/SELL filled.
    try:
        settling = time.time()
        processes.until(lambda: _settled(engine, driver), 150, "every accepted job to finish")
        figures["jobs: load stopped to every accepted job finished (s)"] = time.time() - settling
    except AssertionError as exc:
        raise AssertionError(f"unsettled: {_unsettled}\n{_queues(control)}") from exc
    time.sleep(3)
    for client in clients:
        client.close()
    check(clients, driver, engine, control, users, (w1, w2), stream_gap, figures, SECONDS)
    engine.dispose()
    assert all(processes.alive().values()), processes.logs()


def _kill_web(processes, clients: list[Client], webs: list[str]) -> dict:
    before = {c.name: len(c.connections) for c in clients}
    killed = time.time()
    processes.kill("web1")
    moved = lambda: [c for c in clients if len(c.connections) > before[c.name]]  # noqa: E731
    # Every client of web1 (its direct ones and the proxy's that it held) is back and subscribed.
    processes.until(
        lambda: len(moved()) >= USERS and all(c.ready for c in clients), 30, "clients to move"
    )
    time.sleep(1)
    back = [c.connections[-1].subscribed - killed for c in moved()]
    assert all(c.connections[-1].url != webs[0] for c in clients)
    return {
        "web: clients moved": len(back),
        "web: kill -9 to resubscribed (median, max s)": (statistics.median(back), max(back)),
    }


def _kill_stream(processes, bybit, control: redis.Redis, clients: list[Client]) -> dict:
    owner = control.get(LEASE_KEY.format("bybit")).decode()
    holder = next(
        n for n, p in processes.running.items() if n.startswith("stream") and f":{p.pid}:" in owner
    )
    killed = time.time()
    processes.kill(holder)
    processes.until(
        lambda: (
            (h := control.get(LEASE_KEY.format("bybit")))
            and h.decode() != owner
            and any("tickers.BTCUSDT" in c.topics for c in bybit.live)
        ),
        5 * LEASE,
        "the standby to stream Bybit",
    )
    took = time.time() - killed
    processes.until(
        lambda: all(
            any(e == "quote" and t > killed + took for t, e, _p in c.received) for c in clients
        ),
        10,
        "quotes again on every client",
    )
    assert took <= LEASE + 1.0, took
    return {
        "stream: kill -9 to the standby's subscriptions (s)": took,
        "stream_gap": (killed - 0.5, killed + took + 1),
    }


def _kill_scheduler(processes, control: redis.Redis) -> dict:
    killed = time.time()
    processes.kill("scheduler1")
    processes.until(
        lambda: any(r["at"] > killed + 1 for r in periodic.runs(control, MONITOR)),
        LOCK_PERIOD + 2 * INTERVAL,
        "the other scheduler to carry on",
    )
    times = [r["at"] for r in periodic.runs(control, MONITOR)]
    after = min(t for t in times if t > killed)
    last = max((t for t in times if t <= killed), default=killed)
    return {"scheduler: gap in periodic runs across kill -9 (s)": after - last}


def _kill_worker(processes, control: redis.Redis) -> dict:
    # The busy one, when one is: RQ retries its job on the other (photon's workers recover an
    # abandoned job within about half a minute).
    from rq import Worker

    states = {w.pid: w.get_state() for w in Worker.all(connection=control)}
    pids = {n: p.pid for n, p in processes.running.items() if n.startswith("worker")}
    name = next((n for n, pid in pids.items() if states.get(pid) == "busy"), "worker1")
    processes.kill(name)
    return {"worker: killed": f"{name} ({states.get(pids[name], 'unknown')})"}


def _queues(control: redis.Redis) -> dict:
    from rq import Queue, Worker
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    out = {}
    for name in ("monitor", "decisions", "execution"):
        out[name] = {
            "queued": Queue(name, connection=control).get_job_ids(),
            "started": StartedJobRegistry(name, connection=control).get_job_ids(),
            "failed": FailedJobRegistry(name, connection=control).get_job_ids(),
        }
    out["workers"] = [
        (w.pid, w.get_state(), w.get_current_job_id()) for w in Worker.all(connection=control)
    ]
    return out


def _settled(engine, driver: Driver) -> bool:
    """Every analysis asked for is decided, and every BUY/SELL has its paper order."""
    _unsettled[:] = rows(
        engine,
        "SELECT d.id, d.action, d.request_id, d.created_at FROM trading_decisions d "
        "LEFT JOIN paper_orders o ON o.decision_id = d.id "
        "WHERE d.action IN ('BUY', 'SELL') AND o.id IS NULL",
    )
    decided = {r for (r,) in rows(engine, "SELECT request_id FROM trading_decisions")}
    _unsettled.extend(j for _t, _u, j in driver.jobs if f"job:{j}" not in decided)
    return not _unsettled


_unsettled: list = []
