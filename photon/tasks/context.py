"""The app that jobs run in, installed by the process that runs them.

``workers.worker`` builds the app once and installs it before RQ forks a process per job, so no
job imports the app factory (which sits above the jobs) or builds the app again.
"""

from __future__ import annotations

import redis
from flask import Flask

from photon.config import Settings

_installed: list[Flask] = []


def install(app: Flask) -> Flask:
    """Make ``app`` the one every job in this process runs in."""
    _installed[:] = [app]
    return app


def app() -> Flask:
    if not _installed:
        raise RuntimeError("no app installed; workers.worker installs one before jobs run")
    return _installed[0]


def redis_connection() -> redis.Redis:
    return redis.Redis.from_url(Settings.from_env().effective_redis_url)


def redis_url() -> str:
    return app().config["PHOTON"].effective_redis_url
