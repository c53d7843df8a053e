"""Queue names and the defaults every job is enqueued with."""

from __future__ import annotations

MONITOR = "monitor"
DECISIONS = "decisions"
EXECUTION = "execution"
# The order workers take jobs in. Paper fills first: they are short and fill at the latest quote,
# and behind a steady stream of market updates and auto-decisions (two of them for every user at
# every update) a worker that took them last never reached them (the scale-out drill, one worker
# left, had 25 fills waiting).
QUEUES = (EXECUTION, MONITOR, DECISIONS)

# RQ keeps results forever unless told otherwise; rq-scheduler's repeats would pile up.
RESULT_TTL = 600
FAILURE_TTL = 86400
DEFAULT_TIMEOUT = 300
