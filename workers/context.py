"""The worker's app and Redis connection, built lazily inside the worker process."""

from __future__ import annotations

import functools

import redis
from flask import Flask


@functools.cache
def get_app() -> Flask:
    from photon.app import create_app

    return create_app()


def redis_connection() -> redis.Redis:
    from photon.config import Settings

    return redis.Redis.from_url(Settings.from_env().effective_redis_url)
