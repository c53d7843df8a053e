"""Queue names and the defaults every job is enqueued with."""

from __future__ import annotations

MONITOR = "monitor"
DECISIONS = "decisions"
EXECUTION = "execution"
QUEUES = (MONITOR, DECISIONS, EXECUTION)

# RQ keeps results forever unless told otherwise; rq-scheduler's repeats would pile up.
RESULT_TTL = 600
FAILURE_TTL = 86400
DEFAULT_TIMEOUT = 300
