"""What the ``stream`` process and the rest of Photon tell each other, through Redis.

- Watch-list changes, to the stream: whoever starts or stops a monitor, or adds or removes a
  symbol, publishes on ``control_channel``; the stream then reads the watched set once and
  subscribes or unsubscribes. Pub/sub loses what is sent while nobody listens, so the stream also
  reads the set whenever it (re)subscribes to the channel.
- Health and coverage, from the stream: per source, ``STATE_KEY`` (JSON, short TTL: it vanishes
  soon after the stream process does) and ``SEEN_KEY`` (a hash, ticker -> "seen_ms:mark_ms": when
  the stream last pushed the ticker, wall clock, and the venue time of that quote). The market
  monitor reads them as ``StreamView``s: it polls only what no healthy stream carries.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import redis
from flask import current_app

from photon import metrics
from photon.agents.monitor import StreamView
from photon.extensions import get_redis
from photon.market.streams.base import Health

log = logging.getLogger(__name__)

STATE_KEY = "photon:stream:state:{}"
SEEN_KEY = "photon:stream:seen:{}"
LEASE_KEY = "photon:stream:lease:{}"
SEEN_TTL = 86400


def control_channel(redis_url: str) -> str:
    # Pub/sub ignores database numbers; the channel carries it, as Socket.IO's does.
    return f"photon-stream-control-{urlsplit(redis_url).path.strip('/') or '0'}"


def watch_changed() -> None:
    """Tell the stream that the watched set may have changed. Inside an app context. A failure
    is logged, not raised: the change is stored, and the stream reads the set again whenever
    its Redis connection comes back."""
    url = current_app.config["PHOTON"].effective_redis_url
    try:
        get_redis().publish(control_channel(url), "watch")
    except redis.RedisError as exc:
        log.warning("could not tell the stream about a watch-list change: %s", exc)


def publish(
    client: redis.Redis,
    venue: str,
    source: str,
    health: Health,
    seen: Mapping[str, tuple[int, int | None]],
    ttl: float,
) -> None:
    """The state of ``venue``'s stream for ``source`` (expiring after ``ttl`` s unless published
    again) and the tickers it pushed since the last call."""
    pipe = client.pipeline(transaction=False)
    body = {
        "venue": venue,
        "state": health.state,
        "detail": health.detail,
        "window": health.window,
    }
    pipe.set(STATE_KEY.format(source), json.dumps(body), px=int(ttl * 1000))
    if seen:
        values = {t: f"{at}:{'' if mark is None else mark}" for t, (at, mark) in seen.items()}
        pipe.hset(SEEN_KEY.format(source), mapping=values)
        pipe.expire(SEEN_KEY.format(source), SEEN_TTL)
    pipe.execute()
    if seen:
        _record(client, venue, seen)


def _record(client: redis.Redis, venue: str, seen: Mapping[str, tuple[int, int | None]]) -> None:
    # For /metrics: when the venue last pushed (alert on ``time() - ...``), and how far behind
    # the venue's own clock that newest push reached us.
    at, mark = max(seen.values(), key=lambda pair: pair[0])
    recorder = metrics.Recorder(client)
    recorder.gauge("stream_last_push_timestamp", (venue,), at / 1000)
    if mark is not None:
        recorder.gauge("stream_lag_seconds", (venue,), max(0.0, (at - mark) / 1000))


def withdraw(client: redis.Redis, source: str) -> None:
    """The stream stopped carrying ``source``: polling takes it back at once."""
    client.delete(STATE_KEY.format(source))


def read_views(
    client: redis.Redis, sources: Iterable[str], now_ms: int | None = None
) -> dict[str, StreamView]:
    """A ``StreamView`` per source a stream process works on (absent: no stream, poll all)."""
    sources = list(sources)
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    pipe = client.pipeline(transaction=False)
    for source in sources:
        pipe.get(STATE_KEY.format(source))
        pipe.hgetall(SEEN_KEY.format(source))
    answers = pipe.execute()
    views = {}
    for i, source in enumerate(sources):
        raw, seen = answers[2 * i], answers[2 * i + 1]
        if raw is None:
            continue
        state = json.loads(raw)
        ok = state["state"] in ("streaming", "idle")
        window_ms = float(state["window"]) * 1000
        covered, marks = set(), {}
        for ticker, value in seen.items():
            at, _, mark = value.decode().partition(":")
            name = ticker.decode()
            if mark:
                marks[name] = int(mark)
            if ok and now_ms - int(at) <= window_ms:
                covered.add(name)
        problem = None if ok else f"{state['venue']} stream {state['state']} ({state['detail']})"
        views[source] = StreamView(problem, frozenset(covered), marks)
    return views
