"""Counters that any process (web, worker, stream) adds to and ``/metrics`` reports, kept in
Redis so that they reach the web process from every machine (Prometheus' multiprocess mode
shares a directory, which only works on one).

Every write is one pipelined round trip and never raises: losing a sample to a Redis outage
is better than failing the work it measures.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis

log = logging.getLogger(__name__)

PREFIX = "photon:metrics:"
# Seconds: provider calls and monitor cycles both run from milliseconds to the 10 s budget.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _key(*parts: str) -> str:
    return "|".join(parts)


class Recorder:
    """Writes samples for one Redis connection."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def observe(self, name: str, labels: Iterable[str], seconds: float) -> None:
        """A histogram sample: count, sum and the cumulative buckets it falls in."""
        key = _key(*labels)
        try:
            with self._client.pipeline(transaction=False) as pipe:
                pipe.hincrby(f"{PREFIX}{name}:count", key, 1)
                pipe.hincrbyfloat(f"{PREFIX}{name}:sum", key, seconds)
                for bound in BUCKETS:
                    if seconds <= bound:
                        pipe.hincrby(f"{PREFIX}{name}:bucket", _key(key, str(bound)), 1)
                pipe.execute()
        except redis.RedisError as exc:
            log.debug("metric %s lost: %s", name, exc)

    def count(self, name: str, labels: Iterable[str], amount: int = 1) -> None:
        try:
            self._client.hincrby(f"{PREFIX}{name}", _key(*labels), amount)
        except redis.RedisError as exc:
            log.debug("metric %s lost: %s", name, exc)

    def gauge(self, name: str, labels: Iterable[str], value: float) -> None:
        try:
            self._client.hset(f"{PREFIX}{name}", _key(*labels), value)
        except redis.RedisError as exc:
            log.debug("metric %s lost: %s", name, exc)


def read(client: redis.Redis, name: str) -> dict[tuple[str, ...], float]:
    """A counter's or gauge's values by label tuple."""
    return {
        tuple(k.decode().split("|")): float(v) for k, v in client.hgetall(f"{PREFIX}{name}").items()
    }


def read_histogram(
    client: redis.Redis, name: str
) -> dict[tuple[str, ...], tuple[list[tuple[float, float]], float, float]]:
    """By label tuple: cumulative ``(bound, count)`` buckets, the sum and the count."""
    counts = read(client, f"{name}:count")
    sums = read(client, f"{name}:sum")
    buckets = read(client, f"{name}:bucket")
    out = {}
    for labels, total in counts.items():
        cumulative = [(bound, buckets.get((*labels, str(bound)), 0.0)) for bound in BUCKETS]
        out[labels] = (cumulative, sums.get(labels, 0.0), total)
    return out
