"""All configuration, read from the environment (and ``.env``) with typed parsing.

``Settings.from_env`` is the only place that reads variables. Invalid values fail inside
``create_app`` with one line that names the variable, never at import.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

# The key earlier versions used when none was set. It is published, so it is never used now:
# refused in production, replaced by a generated key elsewhere.
DEFAULT_SECRET = "photon-development-secret-not-for-production"
ENVIRONMENTS = ("development", "production", "test")
DATA_SOURCES = ("live", "replay")
ASYNC_MODES = ("eventlet", "threading")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says what to set."""


def _text(value: str) -> str:
    return value.strip()


def _optional(value: str) -> str | None:
    return value.strip() or None


def _int(value: str) -> int:
    return int(value.strip())


def _float(value: str) -> float:
    return float(value.strip())


def _non_negative_float(value: str) -> float:
    number = float(value.strip())
    if not number >= 0:
        raise ValueError(f"expected a number >= 0, got {value!r}")
    return number


def _positive_float(value: str) -> float:
    number = float(value.strip())
    if not number > 0:
        raise ValueError(f"expected a number > 0, got {value!r}")
    return number


def _positive_int(value: str) -> int:
    number = int(value.strip())
    if number < 1:
        raise ValueError(f"expected an integer >= 1, got {value!r}")
    return number


def _origins(value: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
    for origin in origins:
        if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
            raise ValueError(f"expected origins like https://host:port, got {origin!r}")
    return origins


_RATE = re.compile(r"^\d+/(second|minute|hour|day)$")


def _rate_limit(value: str) -> str:
    value = value.strip().lower()
    if not _RATE.match(value):
        raise ValueError(f"expected N/second, N/minute, N/hour or N/day, got {value!r}")
    return value


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip().lower()
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}, got {value!r}")
        return value

    return parse


@dataclass(frozen=True)
class Var:
    """One environment variable: its parser, default and README description."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str


VARIABLES: tuple[Var, ...] = (
    Var(
        "PHOTON_ENV",
        _choice(*ENVIRONMENTS),
        "development",
        "`development`, `production` or `test`. Production refuses default secrets.",
    ),
    Var(
        "DATABASE_URL",
        _optional,
        None,
        "SQLAlchemy URL. Unset: SQLite at `instance/photon.db` (WAL, busy timeout).",
    ),
    Var(
        "REDIS_URL",
        _optional,
        None,
        "Redis for RQ, Socket.IO and token revocation. Unset: `make run` starts an embedded "
        "Redis; the app alone falls back to `redis://127.0.0.1:6379/0`.",
    ),
    Var(
        "JWT_SECRET_KEY",
        _optional,
        None,
        "Signs JWTs and Flask sessions. Required in production. Unset elsewhere: a random key "
        "made once and kept in `instance/jwt-secret`.",
    ),
    Var("JWT_ACCESS_MINUTES", _int, 15, "Access-token lifetime in minutes."),
    Var("JWT_REFRESH_DAYS", _int, 7, "Refresh-token lifetime in days."),
    Var("PORT", _int, 8000, "Port of the web process."),
    Var("PHOTON_HOST", _text, "127.0.0.1", "Interface the web process binds."),
    Var(
        "PHOTON_ASYNC_MODE",
        _choice(*ASYNC_MODES),
        "eventlet",
        "Socket.IO server mode of the web process: `eventlet` or `threading`.",
    ),
    Var(
        "PHOTON_DATA_SOURCE",
        _choice(*DATA_SOURCES),
        "live",
        "`live` (Yahoo and Bybit) or `replay` (bundled real history as a live feed, offline).",
    ),
    Var(
        "PHOTON_BYBIT_URL",
        _optional,
        None,
        "Bybit v5 base URL. Unset: the real `https://api.bybit.com`. Tests point it locally.",
    ),
    Var(
        "PHOTON_YAHOO_URL",
        _optional,
        None,
        "Yahoo base URL. Unset: the real Yahoo hosts. Tests point it locally.",
    ),
    Var("BYBIT_API_KEY", _optional, None, "Optional; public endpoints need no key."),
    Var("BYBIT_SECRET_KEY", _optional, None, "Optional; public endpoints need no key."),
    Var("PHOTON_PROVIDER_TIMEOUT", _float, 5.0, "Seconds per provider HTTP request."),
    Var("PHOTON_MONITOR_INTERVAL", _int, 60, "Seconds between market-monitor cycles."),
    Var(
        "PHOTON_BYBIT_WS_URL",
        _text,
        "wss://stream.bybit.com/v5/public/spot",
        "Full URL of Bybit's public spot WebSocket the `stream` process holds. Tests point it "
        "locally.",
    ),
    Var(
        "PHOTON_YAHOO_WS_URL",
        _text,
        "wss://streamer.finance.yahoo.com/?version=2",
        "Full URL of Yahoo's streamer WebSocket the `stream` process holds. Tests point it "
        "locally.",
    ),
    Var(
        "PHOTON_STREAM_LEASE_TTL",
        _positive_float,
        10.0,
        "Seconds of a `stream` process's lease on a venue in Redis: one process streams each "
        "venue, and another takes over within this time after it dies.",
    ),
    Var(
        "PHOTON_STREAM_SILENCE",
        _positive_float,
        10.0,
        "Seconds without a push after which a venue's stream counts as silent: the market "
        "monitor is `degraded` and polls that source until pushes resume (Yahoo's count only "
        "in US trading hours).",
    ),
    Var(
        "PHOTON_REPLAY_SUBTICKS",
        _positive_int,
        4,
        "Quotes the replay stream pushes per replayed bar, walking from open through low and "
        "high to close: interpolated steps inside a real bar, not recorded trades.",
    ),
    Var(
        "PHOTON_REPLAY_START",
        _optional,
        None,
        "ISO date where replay starts. Unset: ~500 bars into each bundled series.",
    ),
    Var("PHOTON_REPLAY_TICK", _float, 0.0, "Seconds per replayed bar. 0: the monitor interval."),
    Var("PHOTON_LOG_LEVEL", _text, "INFO", "Python log level."),
    Var(
        "PHOTON_PAPER_STARTING_CASH",
        _positive_float,
        10000.0,
        "Paper portfolio starting cash in USD (a user may reset to another amount).",
    ),
    Var(
        "PHOTON_PAPER_FEE_CRYPTO",
        _non_negative_float,
        0.001,
        "Paper fee per side for crypto, as a fraction of notional (0.001 = 0.1%).",
    ),
    Var(
        "PHOTON_PAPER_FEE_STOCK",
        _non_negative_float,
        0.0,
        "Paper fee per side for stocks, as a fraction of notional.",
    ),
    Var(
        "PHOTON_PAPER_SLIPPAGE",
        _non_negative_float,
        0.0005,
        "Paper slippage off the last price when a quote has no bid/ask (0.0005 = 5 bp).",
    ),
    Var(
        "PHOTON_PAPER_MAX_QUOTE_AGE",
        _positive_float,
        300.0,
        "Seconds; an older quote gets no paper fill (stocks after the close are rejected). "
        "Keep it above `PHOTON_REPLAY_TICK` when replaying slowly.",
    ),
    Var(
        "PHOTON_PAPER_POSITION_FRACTION",
        _non_negative_float,
        0.1,
        "Fraction of equity per paper BUY, scaled by the decision's confidence.",
    ),
    Var(
        "PHOTON_PAPER_MAX_POSITION_PCT",
        _positive_float,
        0.25,
        "Largest paper position per symbol, as a fraction of equity.",
    ),
    Var("PHOTON_PAPER_MAX_POSITIONS", _positive_int, 10, "Most open paper positions at once."),
    Var(
        "PHOTON_PAPER_DAILY_LOSS_PCT",
        _positive_float,
        0.05,
        "Daily loss, as a fraction of the day's starting equity, that halts paper buys until "
        "the next UTC midnight.",
    ),
    Var(
        "PHOTON_PAPER_COOLDOWN",
        _non_negative_float,
        3600.0,
        "Seconds after a paper fill before the same symbol may fill again (no flip-flop).",
    ),
    Var(
        "PHOTON_CORS_ORIGINS",
        _origins,
        (),
        "Comma-separated origins (`https://app.example.com`) allowed to call the API and "
        "Socket.IO from a browser. Unset: the same origin only.",
    ),
    Var(
        "PHOTON_LOGIN_RATE_LIMIT",
        _rate_limit,
        "30/minute",
        "Logins per client IP (`N/second`, `N/minute`, `N/hour`); more get a 429.",
    ),
    Var(
        "PHOTON_LOGIN_FAILURE_LIMIT",
        _rate_limit,
        "10/minute",
        "Failed logins per username or email; more get a 429 even with the right password.",
    ),
    Var(
        "PHOTON_REGISTER_RATE_LIMIT",
        _rate_limit,
        "10/minute",
        "Registrations per client IP.",
    ),
    Var(
        "PHOTON_METRICS_TOKEN",
        _optional,
        None,
        "Bearer token `/metrics` requires. Unset: `/metrics` answers only requests from "
        "loopback (the machine itself).",
    ),
)


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str | None
    redis_url: str | None
    jwt_secret_key: str | None
    jwt_access_minutes: int
    jwt_refresh_days: int
    port: int
    host: str
    async_mode: str
    data_source: str
    bybit_url: str | None
    yahoo_url: str | None
    bybit_api_key: str | None
    bybit_secret_key: str | None
    provider_timeout: float
    monitor_interval: int
    bybit_ws_url: str
    yahoo_ws_url: str
    stream_lease_ttl: float
    stream_silence: float
    replay_subticks: int
    replay_start: str | None
    replay_tick: float
    log_level: str
    paper_starting_cash: float
    paper_fee_crypto: float
    paper_fee_stock: float
    paper_slippage: float
    paper_max_quote_age: float
    paper_position_fraction: float
    paper_max_position_pct: float
    paper_max_positions: int
    paper_daily_loss_pct: float
    paper_cooldown: float
    cors_origins: tuple[str, ...]
    login_rate_limit: str
    login_failure_limit: str
    register_rate_limit: str
    metrics_token: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for var, field in zip(VARIABLES, fields(cls), strict=True):
            raw = environ.get(var.name)
            if raw is None or (raw.strip() == "" and var.default is not None):
                values[field.name] = var.default
                continue
            try:
                values[field.name] = var.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{var.name} is invalid: {exc}") from None
        settings = cls(**values)
        settings.check()
        return settings

    @property
    def production(self) -> bool:
        return self.env == "production"

    def secret(self, instance_path: str) -> str:
        """``JWT_SECRET_KEY``; outside production, when it is unset, a random one made once and
        kept in the instance folder, so no published key can ever sign a valid token."""
        if self.jwt_secret_key and self.jwt_secret_key != DEFAULT_SECRET:
            return self.jwt_secret_key
        return _instance_secret(os.path.join(instance_path, "jwt-secret"))

    @property
    def effective_redis_url(self) -> str:
        return self.redis_url or "redis://127.0.0.1:6379/0"

    @property
    def effective_replay_tick(self) -> float:
        return self.replay_tick or float(self.monitor_interval)

    def check(self) -> None:
        if self.production and (
            not self.jwt_secret_key
            or self.jwt_secret_key == DEFAULT_SECRET
            or len(self.jwt_secret_key) < 32
        ):
            raise ConfigError(
                "Refusing to start in production: set JWT_SECRET_KEY to a random secret of at "
                "least 32 characters (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.monitor_interval < 1:
            raise ConfigError("PHOTON_MONITOR_INTERVAL must be at least 1 second")

    def database_uri(self, instance_path: str) -> str:
        if self.database_url:
            # Heroku-style URLs say postgres://; SQLAlchemy 2.1 would pick psycopg 3 for a bare
            # postgresql://, whose default wait freezes eventlet. psycopg2 cooperates with it.
            for prefix in ("postgres://", "postgresql://"):
                if self.database_url.startswith(prefix):
                    return "postgresql+psycopg2://" + self.database_url[len(prefix) :]
            return self.database_url
        return f"sqlite:///{os.path.join(instance_path, 'photon.db')}"


def _instance_secret(path: str) -> str:
    """The secret in ``path``, created (readable by its owner only) if it does not exist yet.
    Every process of one installation (web, worker, CLI) reads the same file."""
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    except FileNotFoundError:
        pass
    # Written whole under a private name, then linked into place: a process starting at the
    # same moment either links first or finds the complete file, never a half-written one.
    draft = f"{path}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
    with open(path, encoding="ascii") as fh:
        return fh.read().strip()
