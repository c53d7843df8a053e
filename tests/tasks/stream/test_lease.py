"""The lease: one holder, kept by renewing, taken over within one period when the holder dies."""

from __future__ import annotations

import time

from photon.tasks.stream.lease import Lease

KEY = "photon:stream:lease:test"


def test_one_holder_and_renewal_keeps_it(redis_client):
    a = Lease(redis_client, KEY, "a", ttl=1.0)
    b = Lease(redis_client, KEY, "b", ttl=1.0)
    assert a.acquire() and not b.acquire()
    for _ in range(8):  # two periods of renewals
        time.sleep(0.25)
        assert a.keep() and not b.acquire()
    assert a.holder() == "a" and a.valid()


def test_a_dead_holder_is_replaced_within_one_period(redis_client):
    a = Lease(redis_client, KEY, "a", ttl=1.0)
    b = Lease(redis_client, KEY, "b", ttl=1.0)
    assert a.acquire()
    died = time.monotonic()  # a stops renewing, as after kill -9
    while not b.acquire():
        time.sleep(b.poll)
    assert time.monotonic() - died <= 1.0
    # a could not count on the lease any longer than the key lived.
    assert not a.valid() and not a.keep() and not a.held
    a.release()
    assert b.holder() == "b"


def test_release_hands_over_at_once_and_only_by_the_holder(redis_client):
    a = Lease(redis_client, KEY, "a", ttl=10.0)
    b = Lease(redis_client, KEY, "b", ttl=10.0)
    assert a.acquire()
    b.held = True  # b wrongly believes it holds the lease: its release deletes nothing
    b.release()
    assert a.holder() == "a"
    a.release()
    assert b.acquire() and b.holder() == "b"
