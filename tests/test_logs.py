"""The logs of a full run (web, worker and scheduler through the devserver) are JSON lines that
carry a request id or a job id, and never a password, a token or the signing secret."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests
import socketio

from tests.test_devserver import (
    URL_LINE,
    _base_env,
    _ctrl_c,
    _free_port,
    _read,
    _start,
    _wait,
    _wait_for_text,
)

PASSWORD = "Very-secret-horse-42"
SECRET = "log-test-signing-secret-0123456789abcdefghij"
# honcho's prefix: "12:00:01 web.1       | "
PREFIXED = re.compile(r"^\d\d:\d\d:\d\d (\w+)\.\d+\s+\| (.*)$")


@pytest.mark.slow
def test_a_full_run_logs_json_lines_without_secrets(tmp_path):
    port = _free_port()
    log = open(tmp_path / "run.log", "w+")
    env = _base_env(tmp_path, PORT=str(port), JWT_SECRET_KEY=SECRET, PHOTON_LOG_LEVEL="INFO")
    proc = _start(env, log, "--demo")
    secrets = [PASSWORD, SECRET]
    try:
        url = _wait_for_text(log, URL_LINE.pattern).group(1)
        _wait(f"{url}/health")
        body = {"username": "logcheck", "email": "log@example.com", "password": PASSWORD}
        assert requests.post(f"{url}/api/auth/register/", json=body, timeout=10).status_code == 201
        tokens = requests.post(
            f"{url}/api/auth/login/",
            timeout=10,
            json={"username": "logcheck", "password": PASSWORD},
        ).json()
        rotated = requests.post(
            f"{url}/api/auth/refresh/", json={"refresh": tokens["refresh"]}, timeout=10
        ).json()
        secrets += [tokens["access"], tokens["refresh"], rotated["access"], rotated["refresh"]]
        headers = {"Authorization": f"Bearer {rotated['access']}"}
        added = requests.post(
            f"{url}/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers, timeout=30
        )
        assert added.status_code == 201
        requests.post(
            f"{url}/api/trading/agents/market-monitor/",
            json={"action": "start"},
            headers=headers,
            timeout=10,
        )
        requests.post(
            f"{url}/api/trading/decisions/",
            json={"symbol_id": added.json()["id"]},
            headers=headers,
            timeout=30,
        )
        # A wrong password and a bad token on the way, as a probe would send them.
        requests.post(
            f"{url}/api/auth/login/",
            json={"username": "logcheck", "password": PASSWORD + "x"},
            timeout=10,
        )
        requests.get(
            f"{url}/api/auth/me/", headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
        )
        client = socketio.Client(reconnection=False)
        client.connect(url, auth={"token": rotated["access"]}, transports=["websocket"])
        client.call("subscribe", {"symbols": ["BTC"]}, timeout=10)
        requests.post(f"{url}/api/auth/logout/", headers=headers, timeout=10)
        time.sleep(3)  # the worker's cycles for the demo account run meanwhile
        client.disconnect()
    finally:
        _ctrl_c(proc)
    text = _read(log)
    for secret in secrets:
        assert secret not in text, f"a secret reached the log: {secret[:12]}..."
    assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.", text), "a JWT reached the log"
    lines = [m.groups() for m in map(PREFIXED.match, text.splitlines()) if m]
    ours = [(name, line) for name, line in lines if name in ("web", "worker", "scheduler")]
    parsed = [(name, json.loads(line)) for name, line in ours]  # every line is JSON
    assert {name for name, _ in parsed} >= {"web", "worker", "scheduler"}
    requests_seen = [p for name, p in parsed if name == "web" and p["logger"] == "photon.access"]
    assert requests_seen and all(p.get("request_id") for p in requests_seen)
    jobs_seen = [p for name, p in parsed if name == "worker" and p["logger"].startswith("photon.")]
    assert jobs_seen and all(p.get("job_id") for p in jobs_seen if "market update" in p["message"])
