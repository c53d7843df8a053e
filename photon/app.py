"""The application factory. Importing this module connects to nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from dotenv import load_dotenv
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from photon import api, cli, log, models, security  # noqa: F401  (models registers the tables)
from photon.api.docs import STATIC_URL
from photon.config import Settings
from photon.extensions import db, init_redis, jwt, limiter, migrate
from photon.realtime import sockets


def create_app(test_config: Mapping[str, str] | None = None, *, web: bool = False) -> Flask:
    """Build the app. ``test_config`` holds environment-style overrides (``DATABASE_URL`` ...).

    Only the web entry point passes ``web=True``: it alone serves Socket.IO in the configured
    async mode.
    """
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    settings = _settings(app, test_config)
    _configure(app, settings, web)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(app.root_path, os.pardir, "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    jwt.init_app(app)
    security.init_app(app, settings)
    init_redis(app, settings.effective_redis_url)
    limiter.init_app(app)
    sockets.init_app(app, settings, web)
    api.init_app(app)
    cli.init_app(app)
    return app


def _settings(app: Flask, test_config: Mapping[str, str] | None) -> Settings:
    if test_config is None:
        # .env is optional and never overrides the real environment.
        load_dotenv(os.path.join(app.root_path, os.pardir, ".env"), override=False)
    return Settings.from_env({**os.environ, **(test_config or {})})


def _configure(app: Flask, settings: Settings, web: bool) -> None:
    log.setup(settings.log_level)
    uri = settings.database_uri(app.instance_path)
    secret = settings.secret(app.instance_path)
    app.config.update(
        PHOTON=settings,
        # Blocking C-level I/O (curl_cffi) must leave the event loop when eventlet serves.
        PHOTON_GREEN=web and settings.async_mode == "eventlet",
        TESTING=settings.env == "test",
        SECRET_KEY=secret,
        JWT_SECRET_KEY=secret,
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(minutes=settings.jwt_access_minutes),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(days=settings.jwt_refresh_days),
        JWT_TOKEN_LOCATION=["headers"],
        SQLALCHEMY_DATABASE_URI=uri,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(uri),
        API_TITLE="Photon",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=STATIC_URL,
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
        JSON_SORT_KEYS=False,
        # Login and register limits, counted in Redis so that every web process shares them;
        # if Redis is down, requests pass rather than fail.
        RATELIMIT_STORAGE_URI=settings.effective_redis_url,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1.0, "socket_timeout": 2.0},
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_KEY_PREFIX="photon-limit",
    )
    # Serve /x and /x/ alike: the contract uses Django-style slashes, and a redirect would turn
    # a POST into a second request some clients will not make.
    app.url_map.strict_slashes = False


def _engine_options(uri: str) -> dict:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the worker write while the web process reads; foreign keys are off by default.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
