"""The real web process (``python wsgi.py``) for Socket.IO tests, python-socketio clients that
record what reaches them, and RQ jobs run in this process against the same database and Redis.

The server is module-scoped: the tests of a module share it and its database, so every test makes
its own users (``unique_name``). Tests here never use the ``app`` fixture, which empties the
tables under a running server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import socketio

from photon.realtime.events import SERVER_EVENTS
from tests.conftest import PASSWORD, POSTGRES_URL, _env

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique_name(prefix: str = "user") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@dataclass
class User:
    id: int
    username: str
    access: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class LiveServer:
    """A running ``python wsgi.py``: its URL, its environment, and a small API client."""

    url: str
    env: dict[str, str]
    proc: subprocess.Popen
    log_path: Path

    def api(self, method: str, path: str, user: User | None = None, **kwargs) -> requests.Response:
        headers = {**(user.headers if user else {}), **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 15)
        return requests.request(method, self.url + path, headers=headers, **kwargs)

    def user(self, *symbols: str, prefix: str = "user") -> User:
        """Register and log in a new user, who then watches ``symbols``."""
        username = unique_name(prefix)
        registered = self.api(
            "POST",
            "/api/auth/register/",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 201, registered.text
        tokens = self.api(
            "POST", "/api/auth/login/", json={"username": username, "password": PASSWORD}
        )
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        user = User(registered.json()["id"], username, body["access"], body["refresh"])
        for symbol in symbols:
            added = self.api("POST", "/api/trading/symbols/", user, json={"symbol": symbol})
            assert added.status_code == 201, added.text
        return user

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_healthy(proc: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"wsgi.py exited with {proc.returncode}:\n{log_path.read_text()}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"wsgi.py not healthy after {START_TIMEOUT}s:\n{log_path.read_text()}"
            )
        time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


@contextmanager
def live_server(env: dict[str, str], log_dir: Path, **extra: str) -> Iterator[LiveServer]:
    """Start ``python wsgi.py`` on a free port with ``env`` (+ ``extra``); always stop it."""
    port = free_port()
    full = {**os.environ, **env, "PORT": str(port), "PHOTON_HOST": "127.0.0.1", **extra}
    log_path = log_dir / f"wsgi-{port}.log"
    with open(log_path, "w") as log:
        # Its own session, so teardown reaches anything it started and nothing else.
        proc = subprocess.Popen(
            [sys.executable, "wsgi.py"],
            cwd=ROOT,
            env=full,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, url, log_path)
        yield LiveServer(url, {**env, **extra}, proc, log_path)
    finally:
        _stop(proc)


def server_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return _env(
        database_url,
        redis_url,
        PHOTON_DATA_SOURCE="replay",
        PHOTON_ASYNC_MODE="eventlet",
        PHOTON_MONITOR_INTERVAL="60",
        PHOTON_REPLAY_TICK="60",
        **extra,
    )


@pytest.fixture(scope="module")
def live(database_urls, redis_url, tmp_path_factory) -> Iterator[LiveServer]:
    """The web process on the session's migrated SQLite database."""
    env = server_env(database_urls["sqlite"], redis_url)
    with live_server(env, tmp_path_factory.mktemp("wsgi")) as server:
        yield server


@pytest.fixture(scope="module")
def live_pg(database_urls, redis_url, tmp_path_factory) -> Iterator[LiveServer]:
    """The web process on the session's migrated PostgreSQL database."""
    if not POSTGRES_URL:
        pytest.skip("PHOTON_TEST_POSTGRES_URL is not set")
    env = server_env(database_urls["postgres"], redis_url)
    with live_server(env, tmp_path_factory.mktemp("wsgi-pg")) as server:
        yield server


# --- jobs, run for real in this process against the server's database and Redis --------------


class Jobs:
    def __init__(self, connection):
        self.connection = connection

    def enqueue(self, func: str, *args) -> str:
        from photon.tasks.enqueue import enqueue
        from photon.tasks.queues import MONITOR

        return enqueue(self.connection, MONITOR, func, *args).id

    def run(self) -> None:
        """Run every queued job with a real RQ SimpleWorker in burst mode."""
        from rq import Queue, SimpleWorker

        from photon.tasks.queues import QUEUES

        queues = [Queue(name, connection=self.connection) for name in QUEUES]
        SimpleWorker(queues, connection=self.connection).work(burst=True)

    def market_update(self) -> None:
        """What the scheduler does every interval: queue ``periodic_market_update``, run it."""
        self.enqueue("photon.tasks.monitor.periodic_market_update")
        self.run()


@pytest.fixture
def jobs(live, redis_client, monkeypatch) -> Iterator[Jobs]:
    """Install, for jobs run here, an app on the live server's database and Redis (Redis db 15
    is flushed for each test by ``redis_client``, so no other test's jobs are waiting)."""
    yield from _jobs(live, redis_client, monkeypatch)


def _jobs(server: LiveServer, redis_client, monkeypatch) -> Iterator[Jobs]:
    from tests.conftest import install_worker_app, uninstall_worker_app

    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    install_worker_app(server.env)
    yield Jobs(redis_client)
    uninstall_worker_app()


# --- Socket.IO clients that record what reaches them -------------------------------------------


class Listener:
    """A python-socketio client that records every server event it receives."""

    def __init__(self, server: LiveServer, transports: list[str] | None = None):
        self.server = server
        self.transports = transports or ["websocket"]
        self.sio = socketio.Client(reconnection=False)
        self.events: dict[str, list] = defaultdict(list)
        self.connect_errors: list = []
        self._changed = threading.Condition()
        for name in SERVER_EVENTS:
            self.sio.on(name, self._recorder(name))
        self.sio.on("connect_error", self._on_connect_error)

    def _recorder(self, name: str) -> Callable:
        def record(payload=None):
            with self._changed:
                self.events[name].append(payload)
                self._changed.notify_all()

        return record

    def _on_connect_error(self, data=None):
        self.connect_errors.append(data)

    def connect(self, auth=None) -> Listener:
        self.sio.connect(self.server.url, auth=auth, transports=self.transports, wait_timeout=10)
        return self

    def call(self, event: str, data) -> dict:
        return self.sio.call(event, data, timeout=10)

    def wait_for(
        self,
        name: str,
        predicate: Callable = lambda _p: True,
        timeout: float = 10.0,
        count: int = 1,
    ) -> list:
        """Wait until ``count`` ``name`` events match ``predicate``; return the matches."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                matches = [p for p in self.events[name] if predicate(p)]
                if len(matches) >= count:
                    return matches
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(matches)}/{count} matching {name!r} events after {timeout}s; "
                        f"received: {dict(self.events)}"
                    )
                self._changed.wait(left)

    def received(self, name: str, predicate: Callable = lambda _p: True) -> list:
        with self._changed:
            return [p for p in self.events[name] if predicate(p)]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def listeners() -> Iterator[Callable[..., Listener]]:
    """Make clients; every one is disconnected at teardown, pass or fail."""
    made: list[Listener] = []

    def make(server: LiveServer, **kwargs) -> Listener:
        listener = Listener(server, **kwargs)
        made.append(listener)
        return listener

    yield make
    for listener in made:
        listener.close()
