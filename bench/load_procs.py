"""The load bench's measuring parts (bench/load.py runs them): Socket.IO client processes, the
REST driver process, Redis key snapshots and the web process's own request timings."""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

PATHS = {
    "latest": "/api/trading/market-data/latest/",
    "bars": "/api/trading/market-data/bars/",
    "decisions": "/api/trading/decisions/",
    "portfolio": "/api/trading/portfolio/",
}


def client_process(url, plan, quotes, events, ready, stop, results) -> None:
    """Connect one client per ``(token, tickers)`` in ``plan``, subscribe it to ``tickers``,
    and count, per client, the quotes (``quotes[i]``) and other events (``events[i]``)."""
    import logging
    import os

    import engineio
    import socketio

    # The clients would be elsewhere in production: on two shared cores they yield to the
    # server's processes, and if that starves them the quote counts show it.
    os.nice(10)
    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)

    class InlineEngineIO(engineio.Client):
        # Handle in the read thread: a stock client starts a thread per message, which 500
        # clients on two cores cannot afford (as in bench/realtime_latency.py).
        def _trigger_event(self, event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return super()._trigger_event(event, *args, **kwargs)

    class BenchClient(socketio.Client):
        def _engineio_client_class(self):
            return InlineEngineIO

    dropped, errors = set(), []

    def connect(i: int):
        token, tickers = plan[i]
        sio = BenchClient(reconnection=False)

        def on_quote(_payload):
            quotes[i] += 1  # one writer per slot: this client's read thread

        def on_other(*_args):
            events[i] += 1

        sio.on("quote", on_quote)
        sio.on("*", on_other)
        sio.on("disconnect", lambda *_: None if stop.is_set() else dropped.add(i))
        try:
            sio.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=60)
            answer = sio.call("subscribe", {"symbols": tickers}, timeout=60)
            if sorted(answer.get("joined", [])) != sorted(tickers):
                raise RuntimeError(f"subscribe refused: {answer}")
        except Exception as exc:
            errors.append(repr(exc)[:200])
        return sio

    with ThreadPoolExecutor(16) as pool:
        clients = list(pool.map(connect, range(len(plan))))
    ready.put(errors)
    stop.wait()
    results.put(len(dropped))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda sio: sio.disconnect(), clients))


def rest_driver(url: str, accounts: list[dict], rate: float, stop, results) -> None:
    """Open loop: request i is due at start + i / rate and goes to a pool thread whatever the
    others are doing, so a slow server shows as latency, not as a lower rate. Each record is
    (endpoint, wall time sent, seconds, status or exception name, seconds late)."""
    local, records, rng, lock = threading.local(), [], random.Random(14), threading.Lock()

    def one(endpoint: str, account: dict, k: int, due: float) -> None:
        session = getattr(local, "session", None) or requests.Session()  # keep-alive
        local.session = session
        params = None
        if endpoint == "bars":
            # The chart's first load: 300 bars of the series' own interval, up to now.
            params = {"symbol_id": account["ids"][k], "interval": account["intervals"][k]}
            params["limit"] = 300
        headers = {"Authorization": f"Bearer {account['token']}"}
        sent, began = time.time(), time.perf_counter()
        try:
            status = session.get(
                url + PATHS[endpoint], params=params, headers=headers, timeout=10
            ).status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        with lock:
            records.append((endpoint, sent, time.perf_counter() - began, status, began - due))

    endpoints = list(PATHS)
    with ThreadPoolExecutor(64) as pool:
        start, i = time.perf_counter(), 0
        while not stop.is_set():
            due = start + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            account = rng.choice(accounts)
            k = rng.randrange(len(account["ids"]))
            pool.submit(one, endpoints[i % len(endpoints)], account, k, due)
            i += 1
    results.put(records)


def key_group(key: str) -> str:
    # Ids (numbers, hex, uuids, sids) become "*", so that a group is one kind of key.
    parts = re.split(r"([:/|])", key)
    return "".join("*" if p.isdigit() or (re.search(r"\d", p) and len(p) > 8) else p for p in parts)


def redis_snapshot(redis_url: str) -> dict:
    """used_memory, DBSIZE, and keys by group, with how many of each never expire."""
    import redis

    conn = redis.Redis.from_url(redis_url)
    keys = list(conn.scan_iter(count=1000))
    with conn.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.ttl(key)
        ttls = pipe.execute()
    groups, forever = Counter(), Counter()
    for key, ttl in zip(keys, ttls, strict=True):
        group = key_group(key.decode(errors="replace"))
        groups[group] += 1
        forever[group] += ttl == -1
    memory = conn.info("memory")["used_memory"]
    return {"memory": memory, "keys": conn.dbsize(), "groups": groups, "forever": forever}


def server_timings(url: str) -> dict[str, Counter]:
    """Per endpoint, the web process's own timing of its requests (``/metrics``: before_request
    to after_request): "sum", "count" and a cumulative count per bucket bound. Queueing outside
    Flask (the event loop busy elsewhere, the accept backlog) is the client's time minus this."""
    found = {name: Counter() for name in PATHS}
    rules = {path: name for name, path in PATHS.items()}
    line_re = re.compile(r"^photon_http_request_seconds_(sum|count|bucket)\{([^}]*)\} (\S+)$")
    for line in requests.get(url + "/metrics", timeout=30).text.splitlines():
        match = line_re.match(line)
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match[2])) if match else {}
        if labels.get("endpoint") in rules:
            key = f"le {labels['le']}" if match[1] == "bucket" else match[1]
            found[rules[labels["endpoint"]]][key] += float(match[3])
    return found


def inside_flask(before: Counter, after: Counter) -> tuple[float, str]:
    """Mean seconds in Flask between two ``server_timings``, and the bucket bound under which
    99 % of those requests ended (``/metrics`` keeps buckets, not samples)."""
    count = after["count"] - before["count"]
    if not count:
        return float("nan"), "-"
    bounds = sorted((float(k[3:]), k[3:]) for k in after if k.startswith("le "))
    p99 = next(
        (
            label
            for bound, label in bounds
            if after[f"le {label}"] - before[f"le {label}"] >= 0.99 * count
        ),
        "-",
    )
    return (after["sum"] - before["sum"]) / count, p99


def log_problems(path: Path) -> Counter:
    """The warnings and errors a process logged, by message (its level is WARNING, so that is
    all it logs but RQ's start and stop lines); of a raw traceback, its last line."""
    found = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            if entry.get("level") in ("WARNING", "ERROR", "CRITICAL"):
                found[f"{entry['level']}: {str(entry.get('message'))[:150]}"] += 1
        except (ValueError, AttributeError):
            if line[:1].strip() and not line.startswith(("Traceback", "During handling")):
                found[line[:150]] += 1
    return found
