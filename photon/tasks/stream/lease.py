"""A lease in Redis: one holder at a time, kept by renewing it, lost by not doing so.

``ttl`` is the lease period: a standby that asks every ``ttl / 10`` seconds gets the lease within
``ttl`` of the holder dying (``kill -9`` included), because the key lives ``ttl - ttl / 10``
after each renewal. The holder renews every ``ttl / 4``, and counts itself the holder only until
the key could have expired (``valid``): a holder paused past that stops pushing before another
process could have started.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

log = logging.getLogger(__name__)

# Renew or release only a lease this owner still holds.
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end"
)


class Lease:
    def __init__(
        self,
        client: redis.Redis,
        key: str,
        owner: str,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.key, self.owner, self.ttl = client, key, owner, ttl
        self.poll = ttl / 10
        self.renew_every = ttl / 4
        self._key_ms = max(1, int((ttl - self.poll) * 1000))
        self._clock = clock
        self._valid_until = 0.0
        self._renewed = 0.0
        self.held = False

    def valid(self) -> bool:
        return self.held and self._clock() < self._valid_until

    def acquire(self) -> bool:
        """Take the lease if nobody holds it; True if this owner holds it now."""
        asked = self._clock()
        try:
            got = self.client.set(self.key, self.owner, nx=True, px=self._key_ms)
        except redis.RedisError as exc:
            log.warning("lease %s: %s", self.key, exc)
            return False
        if got:
            self._held_from(asked)
        return bool(got)

    def keep(self) -> bool:
        """Renew when due; False once the lease is lost (expired, or taken by another)."""
        if not self.held:
            return False
        asked = self._clock()
        if asked - self._renewed < self.renew_every:
            return self.valid()
        try:
            renewed = self.client.eval(_RENEW, 1, self.key, self.owner, self._key_ms)
        except redis.RedisError as exc:
            # Redis is out of reach: hold on while the key may still live, then give up.
            log.warning("lease %s not renewed: %s", self.key, exc)
            self.held = self.valid()
            return self.held
        if renewed:
            self._held_from(asked)
        else:
            self.held = False
        return self.held

    def release(self) -> None:
        if self.held:
            self.held = False
            try:
                self.client.eval(_RELEASE, 1, self.key, self.owner)
            except redis.RedisError as exc:
                log.warning("lease %s not released (it expires): %s", self.key, exc)

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None

    def _held_from(self, asked: float) -> None:
        self.held = True
        self._renewed = asked
        # The key's expiry counts from when Redis got the request, no earlier than ``asked``.
        self._valid_until = asked + self._key_ms / 1000
