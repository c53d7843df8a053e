"""RQ jobs, the periodic schedule, and the worker and scheduler entry points.

Nothing here creates the Flask app at import; jobs build it inside the worker on first use.
"""
