"""RQ jobs, their queues and enqueueing, and the periodic schedule. Jobs take ids, build the
app inside the worker, call an agent, and emit events; ``workers/`` only starts processes."""
