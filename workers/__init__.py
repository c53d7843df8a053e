"""Process entry points only: ``python -m workers.worker``, ``python -m workers.scheduler`` and
``python -m workers.stream``.

The jobs they run live in ``photon.tasks``.
"""
