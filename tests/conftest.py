"""Shared fixtures: a real Redis, real databases (SQLite always, PostgreSQL when configured),
and a guard that fails any test that tries to reach beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from photon.app import create_app
from photon.extensions import db

POSTGRES_URL = os.environ.get("PHOTON_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]
PASSWORD = "correct-horse-9"


# --- no internet ------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "", None):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class InternetAccess(RuntimeError):
    pass


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _check(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise InternetAccess(f"test tried to connect to {address!r}; tests stay on loopback")


def _connect(self, address):
    _check(self, address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _check(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host, *args, **kwargs):
    if isinstance(host, bytes):
        host = host.decode()
    if host is not None and not _is_loopback(host):
        raise InternetAccess(f"test tried to resolve {host!r}; tests stay on loopback")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config) -> None:
    socket.socket.connect = _connect
    socket.socket.connect_ex = _connect_ex
    socket.getaddrinfo = _getaddrinfo
    # libcurl (yfinance's curl_cffi) opens sockets in C, out of the guard's reach: route anything
    # non-local to a closed loopback port so it fails instead of leaving the machine.
    dead = "http://127.0.0.1:9"
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        os.environ[name] = dead
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    if url:
        # Tests own database 15 and flush it; never the database a running system uses.
        parts = urlsplit(url)
        yield urlunsplit(parts._replace(path="/15"))
        return
    from photon.devserver import start_embedded_redis

    proc, url = start_embedded_redis(tmp_path_factory.mktemp("redis"))
    yield url.rsplit("/", 1)[0] + "/15"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


# --- a local fake exchange: the real provider code talks to it over HTTP ---------------------


@pytest.fixture(scope="session")
def exchange():
    from tests.fakes import FakeExchange
    from tests.fakes.yahoo_api import Stock

    with FakeExchange() as fx:
        for stock in (
            Stock("TSLA", "Tesla, Inc.", 250.0, 1277818200),
            Stock(
                "BRK-B",
                "Berkshire Hathaway Inc. New",
                450.0,
                831648600,
                exchange="NYQ",
                full_exchange="NYSE",
            ),
            Stock(
                "^GSPC",
                "S&P 500",
                5900.0,
                -1325583000,
                exchange="SNP",
                full_exchange="SNP",
                instrument_type="INDEX",
            ),
        ):
            fx.yahoo.add_stock(stock)
        yield fx


@pytest.fixture(autouse=True)
def _exchange_is_clean(request):
    """Faults and call counts never leak from one test into the next."""
    if "exchange" not in request.fixturenames:
        yield
        return
    from yfinance.data import YfData

    fx = request.getfixturevalue("exchange")
    fx.clear_faults()
    fx.reset_calls()
    # yfinance memoises responses process-wide, failed ones included.
    YfData.cache_get.cache_clear()
    yield
    fx.clear_faults()


# --- databases --------------------------------------------------------------------------------


def _migrate(url: str, redis_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(_env(url, redis_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _env(url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "PHOTON_ENV": "test",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "PHOTON_LOG_LEVEL": "WARNING",
        "JWT_SECRET_KEY": "test-secret-that-is-long-enough-for-hs256",
        # Tests register and log in many users from one address; tests/api/test_auth.py
        # checks the real limits.
        "PHOTON_LOGIN_RATE_LIMIT": "10000/minute",
        "PHOTON_LOGIN_FAILURE_LIMIT": "10000/minute",
        "PHOTON_REGISTER_RATE_LIMIT": "10000/minute",
        **extra,
    }


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory, redis_url):
    """One migrated database per backend for the whole session (the migration is under test)."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'photon.db'}"}
    _migrate(urls["sqlite"], redis_url)
    created = None
    if POSTGRES_URL:
        name = f"photon_test_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(
            POSTGRES_URL.replace("postgresql://", "postgresql+psycopg2://"),
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created = (admin, name)
        urls["postgres"] = urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
        _migrate(urls["postgres"], redis_url)
    yield urls
    if created:
        admin, name = created
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PHOTON_TEST_POSTGRES_URL is not set")
    return request.param


def _empty_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_env(backend, database_urls, redis_url, exchange):
    return _env(
        database_urls[backend],
        redis_url,
        PHOTON_BYBIT_URL=exchange.url,
        PHOTON_YAHOO_URL=exchange.url,
        PHOTON_PROVIDER_TIMEOUT="1",
    )


@pytest.fixture
def app(app_env, redis_client):
    app = create_app(app_env)
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Registers and logs in users through the real API."""

    def __init__(self, client):
        self.client = client

    def register(self, username: str = "alice", password: str = PASSWORD, email=None):
        return self.client.post(
            "/api/auth/register/",
            json={
                "username": username,
                "email": email or f"{username}@example.com",
                "password": password,
            },
        )

    def login(self, username: str = "alice", password: str = PASSWORD) -> dict:
        response = self.client.post(
            "/api/auth/login/", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.json
        return response.json

    def headers(self, username: str = "alice") -> dict[str, str]:
        self.register(username)
        return {"Authorization": f"Bearer {self.login(username)['access']}"}


@pytest.fixture
def auth(client):
    return Auth(client)


# --- PostgreSQL must really have run in CI ------------------------------------------------------

_pg_passed = 0


def pytest_runtest_logreport(report) -> None:
    global _pg_passed
    if report.when == "call" and report.passed and "[postgres" in report.nodeid:
        _pg_passed += 1


def pytest_sessionfinish(session, exitstatus) -> None:
    if os.environ.get("PHOTON_REQUIRE_POSTGRES") and _pg_passed == 0:
        print("\nPHOTON_REQUIRE_POSTGRES is set but no PostgreSQL test passed")
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    if POSTGRES_URL:
        terminalreporter.write_line(f"PostgreSQL-backed tests passed: {_pg_passed}")


# --- jobs, run for real in this process ----------------------------------------------------------


@pytest.fixture
def worker_env(app_env, monkeypatch):
    """Install, for jobs run in this process, an app on the same database and Redis as ``app``
    (as ``workers.worker`` does in a worker process)."""
    for key, value in app_env.items():
        monkeypatch.setenv(key, value)
    yield install_worker_app(app_env)
    uninstall_worker_app()


def install_worker_app(env: dict[str, str]) -> dict[str, str]:
    from photon.tasks import context

    context.install(create_app(env))
    return env


def uninstall_worker_app() -> None:
    from photon.tasks import context

    if context._installed:
        with context.app().app_context():
            db.session.remove()
            db.engine.dispose()
    context._installed.clear()


@pytest.fixture
def run_jobs(worker_env, redis_client):
    """Run every queued job with a real RQ SimpleWorker in burst mode."""
    from rq import Queue, SimpleWorker

    from photon.tasks.queues import QUEUES

    def run() -> None:
        queues = [Queue(name, connection=redis_client) for name in QUEUES]
        SimpleWorker(queues, connection=redis_client).work(burst=True)

    return run
