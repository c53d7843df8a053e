"""The agents' control endpoints: start, stop and status of each agent, per user."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select

from photon.extensions import db
from photon.models import AgentStatus
from photon.tasks.queues import MONITOR

ROOT = Path(__file__).resolve().parents[2]
ERROR_KEYS = {"code", "status", "message", "errors"}
MONITOR_URL = "/api/trading/agents/market-monitor/"


@pytest.fixture
def app_env(app_env):
    return {**app_env, "PHOTON_DATA_SOURCE": "replay", "PHOTON_REPLAY_TICK": "60"}


def add(client, headers, symbol):
    response = client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def user_id(client, headers) -> int:
    return client.get("/api/auth/me/", headers=headers).json["id"]


def test_market_monitor_start_stop_and_status(client, auth, app, redis_client):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    status = client.get(MONITOR_URL, headers=headers)
    assert status.status_code == 200
    assert status.json["state"] == "stopped" and status.json["agent"] == "market-monitor"
    assert status.json["cycles"] == 0 and status.json["job_id"] is None
    assert status.json["symbols_watched"] == 1

    started = client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    assert started.status_code == 200, started.json
    assert started.json["state"] == "running" and started.json["job_id"]
    job = Job.fetch(started.json["job_id"], connection=redis_client)
    assert job.func_name == "photon.tasks.monitor.start_market_monitoring"
    assert job.args == (user_id(client, headers),) and job.origin == MONITOR
    assert job.get_status() == JobStatus.QUEUED

    again = client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    assert again.status_code == 200 and again.json["state"] == "running"
    with app.app_context():
        rows = db.session.scalars(
            select(AgentStatus).where(AgentStatus.agent == "market-monitor")
        ).all()
        assert [(r.state, r.user_id) for r in rows] == [("running", user_id(client, headers))]

    stopped = client.post(MONITOR_URL, json={"action": "stop"}, headers=headers)
    assert stopped.status_code == 200 and stopped.json["state"] == "stopped"
    assert stopped.json["job_id"] is None
    assert client.get(MONITOR_URL, headers=headers).json["state"] == "stopped"
    assert client.post(MONITOR_URL, json={"action": "stop"}, headers=headers).status_code == 200

    for body in ({"action": "dance"}, {}, {"action": None}):
        bad = client.post(MONITOR_URL, json=body, headers=headers)
        assert bad.status_code == 422, body
        assert set(bad.json) == ERROR_KEYS and bad.json["code"] == 422
    anonymous = client.get(MONITOR_URL)
    assert anonymous.status_code == 401 and set(anonymous.json) == ERROR_KEYS


def test_a_started_monitor_runs_its_first_cycle_at_once(client, auth, run_jobs, redis_client):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    client.post(MONITOR_URL, json={"action": "start"}, headers=headers)
    run_jobs()
    status = client.get(MONITOR_URL, headers=headers).json
    assert status["state"] == "running" and status["cycles"] == 1
    assert status["last_run_at"] and status["last_success_at"] and status["last_error"] is None
    latest = client.get("/api/trading/market-data/latest/", headers=headers).json
    assert sorted(q["symbol"] for q in latest) == ["AAPL", "BTCUSDT"]
    # A stopped monitor is left out of the periodic cycle.
    client.post(MONITOR_URL, json={"action": "stop"}, headers=headers)
    Queue(MONITOR, connection=redis_client).enqueue("photon.tasks.monitor.periodic_market_update")
    run_jobs()
    assert client.get(MONITOR_URL, headers=headers).json["cycles"] == 1


@pytest.mark.parametrize(
    "url, agent",
    [
        ("/api/trading/agents/decision-maker/", "decision-maker"),
        ("/api/trading/agents/execution/", "execution"),
    ],
)
def test_other_agents_show_their_real_status_rows(client, auth, app, url, agent):
    headers = auth.headers("alice")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["agent"] == agent and body["state"] == "stopped"
    assert body["cycles"] == 0 and body["last_run_at"] is None and body["last_error"] is None
    with app.app_context():
        row = db.session.scalars(select(AgentStatus).where(AgentStatus.agent == agent)).one()
        assert row.user_id == user_id(client, headers) and row.state == "stopped"
        # The API shows the row, not a made-up default: change the row, see the change.
        row.state, row.cycles, row.last_error = "degraded", 7, "replay: hiccup"
        db.session.commit()
    body = client.get(url, headers=headers).json
    assert (body["state"], body["cycles"], body["last_error"]) == ("degraded", 7, "replay: hiccup")
    assert client.get(url).status_code == 401
