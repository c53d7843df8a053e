"""What every scheduled run goes through: it claims its interval in Redis first, so that a run
enqueued twice for one interval (two schedulers, a scheduler killed between enqueueing a job
and moving its next run, a re-registration after Redis came back empty, or a backlog drained
after an outage) runs once; and it leaves a record of itself that operators and tests read.

rq-scheduler's lock only keeps two schedulers from enqueueing *at the same moment*: it is
released after every pass and is not checked against its owner, and a scheduler killed half
way through ``enqueue_job`` leaves the job both queued and still due, so the next pass queues it
again. The claim here is the one place that decides whether a run happens.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import redis

from photon import metrics
from photon.tasks import context

log = logging.getLogger(__name__)

CLAIM_KEY = "photon:periodic:claim:{}"
RUNS_KEY = "photon:periodic:runs:{}"
KEEP_RUNS = 1000  # entries kept per job in RUNS_KEY: hours of the fastest schedule
# A claim lasts this share of the interval: a legitimate next run comes a whole interval later
# (rq-scheduler counts it from the moment it enqueued this one), while a doubled one runs within
# the same interval, up to a scheduler poll (1 s) late; half an interval let those through in the
# scale-out drill (runs 1.0 s apart at a 2 s interval). A run skipped because the one before it
# was picked up late loses nothing: that one has just fetched.
CLAIM_SHARE = 0.9


def run(func: str, interval: int) -> Any:
    """Run the periodic job ``func`` (a dotted path) unless this interval already had its run."""
    client = context.redis_connection()
    started = time.time()
    claimed = _claim(client, func, interval, started)
    recorder = metrics.Recorder(client)
    if not claimed:
        recorder.count("periodic_runs", (_short(func), "skipped"))
        log.info("periodic %s: already ran in this interval; skipped", func)
        return {"skipped": True}
    recorder.count("periodic_runs", (_short(func), "ran"))
    _record(client, func, started)
    return _resolve(func)()


def runs(client: redis.Redis, func: str) -> list[dict[str, Any]]:
    """The recorded runs of ``func``, oldest first (at most ``KEEP_RUNS``)."""
    return [json.loads(raw) for raw in reversed(client.lrange(RUNS_KEY.format(func), 0, -1))]


def _claim(client: redis.Redis, func: str, interval: int, now: float) -> bool:
    ttl_ms = max(1, int(interval * CLAIM_SHARE * 1000))
    try:
        return bool(client.set(CLAIM_KEY.format(func), f"{now:.3f}", nx=True, px=ttl_ms))
    except redis.RedisError as exc:
        # Without Redis the run could not be queued or report anything either; run rather than
        # skip, as before this claim existed.
        log.warning("periodic %s: claim unavailable (%s); running", func, exc)
        return True


def _record(client: redis.Redis, func: str, at: float) -> None:
    entry = {"at": round(at, 3), "host": socket.gethostname(), "pid": os.getpid()}
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.lpush(RUNS_KEY.format(func), json.dumps(entry))
            pipe.ltrim(RUNS_KEY.format(func), 0, KEEP_RUNS - 1)
            pipe.execute()
    except redis.RedisError as exc:
        log.debug("periodic %s: run not recorded: %s", func, exc)


def _short(func: str) -> str:
    return func.rsplit(".", 1)[-1]


def _resolve(func: str) -> Callable[[], Any]:
    module, _, name = func.rpartition(".")
    return getattr(importlib.import_module(module), name)
