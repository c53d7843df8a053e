"""Extensions, created unbound here and bound in ``create_app``; nothing connects at import."""

from __future__ import annotations

import redis
from flask import Flask, current_app
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
api = Api()
socketio = SocketIO()
# Bound in create_app to Redis, so every web process counts the same attempts.
limiter = Limiter(key_func=get_remote_address)


def init_redis(app: Flask, url: str) -> None:
    # Short timeouts: a Redis outage must degrade requests, not hang them.
    app.extensions["redis"] = redis.Redis.from_url(
        url, socket_connect_timeout=1.0, socket_timeout=2.0, health_check_interval=30
    )


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]
