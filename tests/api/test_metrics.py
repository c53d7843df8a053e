"""``/metrics``: Prometheus text with what this process saw and what every process recorded,
answered to loopback or to the configured token only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from photon.app import create_app


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _value(families: dict, name: str, sample: str, **labels) -> float:
    for s in families[name].samples:
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"no {sample} {labels} in {families[name].samples}")


def test_metrics_report_requests_providers_cycles_queues_and_agents(client, auth, run_jobs):
    headers = auth.headers()
    symbol = client.post("/api/trading/symbols/", json={"symbol": "BTC"}, headers=headers)
    assert symbol.status_code == 201
    client.post("/api/trading/agents/market-monitor/", json={"action": "start"}, headers=headers)
    run_jobs()  # the monitor's first cycle, in a real RQ worker
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    families = _families(response.get_data(as_text=True))
    assert (
        _value(
            families,
            "photon_http_requests",
            "photon_http_requests_total",
            endpoint="/api/trading/symbols/",
            method="POST",
            status="201",
        )
        == 1
    )
    assert (
        _value(
            families,
            "photon_http_request_seconds",
            "photon_http_request_seconds_count",
            endpoint="/api/trading/symbols/",
            method="POST",
        )
        == 1
    )
    assert (
        _value(
            families,
            "photon_provider_calls",
            "photon_provider_calls_total",
            source="bybit",
            operation="quotes",
            outcome="ok",
        )
        >= 1
    )
    assert (
        _value(
            families,
            "photon_provider_seconds",
            "photon_provider_seconds_count",
            source="bybit",
            operation="describe",
        )
        >= 1
    )
    assert (
        _value(families, "photon_monitor_cycle_seconds", "photon_monitor_cycle_seconds_count") >= 1
    )
    assert _value(families, "photon_rq_queue_depth", "photon_rq_queue_depth", queue="monitor") == 0
    assert (
        _value(families, "photon_agents", "photon_agents", agent="market-monitor", state="running")
        == 1
    )
    assert "photon_socketio_connections" in families


def test_metrics_need_the_token_when_one_is_set(app_env, redis_client, client):
    guarded = create_app({**app_env, "PHOTON_METRICS_TOKEN": "s3cret-metrics-token"}).test_client()
    assert guarded.get("/metrics").status_code == 403
    wrong = guarded.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json["code"] == 403
    ok = guarded.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert ok.status_code == 200
    # Without a token, only this machine may scrape.
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 403
