"""retry.py: what is retried, how long it waits, and that it always ends within its budget."""

from __future__ import annotations

import pytest

from photon.errors import ProviderUnavailable, RateLimited, SymbolNotFound
from photon.market.retry import Deadline, backoff_delay, retrying


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _failing(errors, t: FakeTime | None = None, takes: float = 0.0):
    errors = list(errors)
    calls = []

    def fn():
        calls.append(1)
        if t is not None:
            t.now += takes
        if errors:
            raise errors.pop(0)
        return "ok"

    return fn, calls


def test_temporary_errors_are_retried_with_exponential_backoff():
    t = FakeTime()
    fn, calls = _failing([ProviderUnavailable("x", "HTTP 502")] * 2)
    result = retrying(fn, attempts=3, base_delay=0.1, max_delay=5, sleep=t.sleep, clock=t.clock)
    assert result == "ok" and len(calls) == 3
    assert t.slept == [0.1, 0.2]


def test_the_last_error_is_raised_when_attempts_run_out():
    t = FakeTime()
    fn, calls = _failing([ProviderUnavailable("x", str(i)) for i in range(5)])
    with pytest.raises(ProviderUnavailable) as caught:
        retrying(fn, attempts=3, sleep=t.sleep, clock=t.clock)
    assert caught.value.reason == "2" and len(calls) == 3


def test_symbol_not_found_and_bugs_are_not_retried():
    for error in (SymbolNotFound("NOPE"), ValueError("bug")):
        fn, calls = _failing([error])
        with pytest.raises(type(error)):
            retrying(fn, attempts=3, sleep=lambda s: None)
        assert len(calls) == 1


def test_retry_after_is_honoured_and_capped():
    t = FakeTime()
    fn, _ = _failing([RateLimited("x", 0.7), RateLimited("x", 3.0)])
    assert retrying(fn, attempts=3, max_delay=2.0, budget=9, sleep=t.sleep, clock=t.clock) == "ok"
    assert t.slept == [0.7, 2.0]


def test_a_wait_longer_than_the_budget_is_not_attempted():
    t = FakeTime()
    fn, calls = _failing([RateLimited("x", 60.0)])
    with pytest.raises(RateLimited):
        retrying(fn, attempts=3, budget=9, sleep=t.sleep, clock=t.clock)
    assert len(calls) == 1 and t.slept == []


def test_a_retry_starts_only_if_it_can_finish_inside_the_budget():
    t = FakeTime()
    fn, calls = _failing([ProviderUnavailable("x", "timeout")] * 5, t, takes=4.0)
    with pytest.raises(ProviderUnavailable):
        retrying(
            fn,
            attempts=5,
            base_delay=0.25,
            budget=9,
            attempt_time=4.0,
            sleep=t.sleep,
            clock=t.clock,
        )
    assert len(calls) == 2  # 4 s + 0.25 s + 4 s fits in 9 s; a third attempt would not
    assert t.now <= 9


def test_backoff_is_capped():
    assert [backoff_delay(n, 0.5, 2.0) for n in range(1, 5)] == [0.5, 1.0, 2.0, 2.0]


def test_deadline():
    now = [10.0]
    deadline = Deadline(5, clock=lambda: now[0])
    assert deadline.remaining() == 5 and not deadline.expired
    now[0] = 15.5
    assert deadline.expired
