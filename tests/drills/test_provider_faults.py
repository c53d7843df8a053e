"""A minute of provider faults against a real worker and scheduler: timeouts, 5xx, 429, Bybit's
retCode 10006 and garbage. The monitor says ``degraded`` and keeps cycling, no job fails and no
process dies; once the provider heals, the next cycle is clean and quotes are fresh again."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from rq.registry import FailedJobRegistry

from photon.market.retry import DEFAULT_BUDGET
from tests.drills.conftest import DRILL_BACKEND

pytestmark = pytest.mark.slow

INTERVAL = 2  # seconds between monitor cycles
FAULT_SECONDS = 60
MONITOR = "/api/trading/agents/market-monitor/"
# (Bybit's fault, Yahoo's fault), about 12 s each; a "delay" outlasts the 1 s provider timeout.
PHASES = [
    ("delay", "delay"),
    ("http_500", "http_500"),
    ("http_429", "http_429"),
    ("bybit_10006", "http_502"),
    ("garbage", "garbage"),
]


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_MONITOR_INTERVAL": str(INTERVAL)}


@pytest.mark.parametrize("backend", [DRILL_BACKEND], indirect=True)
def test_a_minute_of_provider_faults_degrades_then_recovers_within_one_cycle(
    app_env, client, auth, exchange, processes, redis_client
):
    headers = auth.headers("alice")
    for symbol in ("BTC", "TSLA"):
        added = client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)
        assert added.status_code == 201, added.json
    assert client.post(MONITOR, json={"action": "start"}, headers=headers).status_code == 200
    processes.start("worker", app_env, "-m", "workers.worker")
    processes.start("scheduler", app_env, "-m", "workers.scheduler")

    def status() -> dict:
        return client.get(MONITOR, headers=headers).json

    processes.until(
        lambda: (s := status())["cycles"] >= 2 and s["state"] == "running", 60, "clean cycles"
    )

    timeline = []  # (seconds into the drill, phase, state, cycles)
    began, cycles_before = time.monotonic(), status()["cycles"]
    for i, (bybit_fault, yahoo_fault) in enumerate(PHASES):
        exchange.clear_faults()
        exchange.fault(bybit_fault, "/v5", seconds=3)  # first match wins: Bybit's own
        exchange.fault(yahoo_fault, None, seconds=3)  # everything else is Yahoo
        while time.monotonic() < began + (i + 1) * FAULT_SECONDS / len(PHASES):
            s = status()
            timeline.append((time.monotonic() - began, bybit_fault, s["state"], s["cycles"]))
            assert all(processes.alive().values()), processes.logs()
            time.sleep(0.5)
    faulted = status()
    exchange.clear_faults()
    healed, healed_wall = time.monotonic(), datetime.now().astimezone()

    first_degraded = next(t for t, _kind, state, _c in timeline if state == "degraded")
    after = [(t, kind, state) for t, kind, state, _c in timeline if t > first_degraded]
    cycles = faulted["cycles"] - cycles_before
    print(
        f"\nprovider faults: degraded {first_degraded:.1f}s into the faults; "
        f"{cycles} cycles in {FAULT_SECONDS}s of faults"
    )
    # A cycle under the "delay" fault retries timed-out calls for up to the retry budget before
    # it can report; the status shows it by the cycle after.
    assert first_degraded < DEFAULT_BUDGET + 2 * INTERVAL + 2, timeline[:20]
    assert all(state == "degraded" for _t, _k, state in after), after
    assert cycles >= FAULT_SECONDS / INTERVAL / 3, "the monitor stopped cycling under faults"
    assert "bybit" in faulted["last_error"].lower() or "yahoo" in faulted["last_error"].lower()
    for name in ("monitor", "decisions", "execution"):
        assert FailedJobRegistry(name, connection=redis_client).count == 0, processes.logs()

    # Healed: the cycle already running may still see the fault; the one after must be clean.
    processes.until(lambda: status()["state"] == "running", 4 * INTERVAL + 10, "recovery")
    recovered = status()
    print(
        f"provider healed: running again after {time.monotonic() - healed:.1f}s, "
        f"{recovered['cycles'] - faulted['cycles']} cycle(s) later"
    )
    assert recovered["cycles"] - faulted["cycles"] <= 2, (faulted, recovered)
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert sorted(q["symbol"] for q in latest) == ["BTCUSDT", "TSLA"]
    # Bybit's quote is fresh; Yahoo's carries the market's time (the fake's market may be shut).
    btc = next(q for q in latest if q["symbol"] == "BTCUSDT")
    assert datetime.fromisoformat(btc["ts"]) > healed_wall, (healed_wall, btc)
    assert all(processes.alive().values()), processes.logs()
