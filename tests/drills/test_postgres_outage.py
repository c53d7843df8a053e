"""PostgreSQL stopped for a few seconds under a running web process, worker and scheduler (a
TCP proxy in front of it is taken down: open connections cut, new ones refused). Requests get a
503 in the error shape with Retry-After; once it is back, service returns by itself."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from tests.conftest import PASSWORD, POSTGRES_URL, _env
from tests.drills.conftest import Processes, error_shape
from tests.fakes.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="PHOTON_TEST_POSTGRES_URL is not set"),
]

OUTAGE = 5.0
MONITOR = "/api/trading/agents/market-monitor/"


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_stopped_briefly(
    backend, database_urls, redis_url, redis_client, exchange, app, processes
):
    real = urlsplit(database_urls["postgres"])
    with TcpProxy(real.hostname, real.port or 5432) as proxy:
        proxied = urlunsplit(real._replace(netloc=f"{real.username}@127.0.0.1:{proxy.port}"))
        env = _env(
            proxied,
            redis_url,
            PHOTON_BYBIT_URL=exchange.url,
            PHOTON_YAHOO_URL=exchange.url,
            PHOTON_PROVIDER_TIMEOUT="1",
            PHOTON_MONITOR_INTERVAL="1",
            PHOTON_ASYNC_MODE="eventlet",
        )
        _drill(proxy, env, processes)


def _drill(proxy: TcpProxy, env: dict, procs: Processes) -> None:
    url = procs.web("web", env)
    procs.start("worker", env, "-m", "workers.worker")
    procs.start("scheduler", env, "-m", "workers.scheduler")
    user = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert requests.post(url + "/api/auth/register/", json=user).status_code == 201
    login = {"username": "alice", "password": PASSWORD}
    token = requests.post(url + "/api/auth/login/", json=login).json()["access"]
    headers = {"Authorization": f"Bearer {token}"}
    added = requests.post(url + "/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers)
    assert added.status_code == 201, added.text
    assert requests.post(url + MONITOR, json={"action": "start"}, headers=headers).ok

    def cycles() -> int:
        return requests.get(url + MONITOR, headers=headers, timeout=5).json()["cycles"]

    procs.until(lambda: cycles() >= 2, 30, "monitor cycles")

    proxy.down()
    down, answers = time.monotonic(), []
    while time.monotonic() - down < OUTAGE:
        started = time.monotonic()
        response = requests.get(url + "/api/trading/symbols/", headers=headers, timeout=10)
        answers.append((response, time.monotonic() - started))
        time.sleep(0.2)
    for response, _took in answers:
        body = error_shape(response, 503)
        assert response.headers["Retry-After"] and "database" in body["message"].lower()
    error_shape(requests.post(url + "/api/auth/login/", json=login), 503)
    assert requests.get(url + "/health").json()["database"].startswith("unreachable")
    slowest = max(took for _r, took in answers)

    proxy.up()
    back = time.monotonic()
    procs.until(
        lambda: requests.get(url + "/api/trading/symbols/", headers=headers).status_code == 200,
        15,
        "the web process to serve again",
    )
    web_back = time.monotonic() - back
    before = cycles()
    procs.until(lambda: cycles() >= before + 2, 15, "monitor cycles to resume")
    print(
        f"\nPostgreSQL down {OUTAGE:.0f}s: {len(answers)} requests, all 503 in the error "
        f"shape (slowest {slowest * 1000:.0f} ms); web serving {web_back:.2f}s after it "
        f"returned, monitor cycling again {time.monotonic() - back:.2f}s after"
    )
    assert all(procs.alive().values()), procs.logs()
