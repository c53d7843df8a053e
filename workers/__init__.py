"""Process entry points only: ``python -m workers.worker`` and ``python -m workers.scheduler``.

The jobs they run live in ``photon.tasks``.
"""
