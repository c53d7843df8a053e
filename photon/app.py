"""The application factory. Importing this module connects to nothing."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from photon import log
from photon.config import Settings


def create_app(test_config: Mapping[str, str] | None = None, *, web: bool = False) -> Flask:
    """Build the app. ``test_config`` holds environment-style overrides (``DATABASE_URL`` ...).

    Only the web entry point passes ``web=True``: it alone serves Socket.IO in the configured
    async mode. Everything else (CLI, workers, tests) stays in threading mode and never imports
    eventlet.
    """
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    if test_config is None:
        from dotenv import load_dotenv

        # .env is optional and never overrides the real environment.
        load_dotenv(os.path.join(app.root_path, os.pardir, ".env"), override=False)
    environ = {**os.environ, **(test_config or {})}
    settings = Settings.from_env(environ)
    _configure(app, settings)
    # Blocking C-level I/O (curl_cffi) must leave the event loop when eventlet serves the web.
    app.config["PHOTON_GREEN"] = web and settings.async_mode == "eventlet"
    _init_extensions(app, settings, web)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    log.setup(settings.log_level)
    uri = settings.database_uri(app.instance_path)
    app.config.update(
        PHOTON=settings,
        TESTING=settings.env == "test",
        SECRET_KEY=settings.secret,
        JWT_SECRET_KEY=settings.secret,
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
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
        JSON_SORT_KEYS=False,
    )
    from photon.api.docs import STATIC_URL

    app.config["OPENAPI_SWAGGER_UI_URL"] = STATIC_URL
    # Serve /x and /x/ alike: the contract uses Django-style slashes, and a redirect would turn
    # a POST into a second request some clients will not make.
    app.url_map.strict_slashes = False


def _engine_options(uri: str) -> dict:
    if uri.startswith("sqlite"):
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the worker write while the web process reads; foreign keys are off by default.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _init_extensions(app: Flask, settings: Settings, web: bool) -> None:
    from photon import models, security  # noqa: F401  (models registers the tables)
    from photon.api import errors
    from photon.extensions import api, db, init_redis, jwt, migrate, socketio

    db.init_app(app)
    migrate.init_app(
        app, db, directory=os.path.join(app.root_path, os.pardir, "migrations"),
        render_as_batch=True, compare_type=True,
    )
    jwt.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    security.init_app(app, settings)
    init_redis(app, settings.effective_redis_url)
    from photon.events import channel

    socketio.init_app(
        app,
        async_mode=settings.async_mode if web else "threading",
        # Workers publish to Redis; the web process subscribes and relays to its clients.
        message_queue=settings.effective_redis_url if web else None,
        channel=channel(settings.effective_redis_url),
        cors_allowed_origins="*",
    )


def _register_blueprints(app: Flask) -> None:
    from photon import sockets
    from photon.api import (
        agents,
        auth,
        dashboard,
        decisions,
        docs,
        health,
        market_data,
        portfolio,
        symbols,
    )
    from photon.extensions import api

    api.register_blueprint(auth.blp)
    api.register_blueprint(symbols.blp)
    api.register_blueprint(market_data.blp)
    api.register_blueprint(decisions.blp)
    api.register_blueprint(agents.blp)
    api.register_blueprint(portfolio.blp)
    api.register_blueprint(health.blp)
    app.register_blueprint(docs.bp)
    dashboard.init_app(app)
    sockets.init_app()


def _register_cli(app: Flask) -> None:
    from photon.cli import photon_cli

    app.cli.add_command(photon_cli)
