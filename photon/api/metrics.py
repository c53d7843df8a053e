"""``GET /metrics``: Prometheus text, with ``prometheus-client``.

This web process's own requests and Socket.IO connections are counted in memory; what every
process adds (provider calls, monitor cycles, stream lag) is read from Redis
(``photon.metrics``); RQ's queues and the agents' states are read at each scrape. Protected by
``PHOTON_METRICS_TOKEN`` (a bearer token) when it is set, else answered to loopback only.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator

import redis
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from rq import Queue
from rq.registry import FailedJobRegistry
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from photon import metrics
from photon.api.errors import error_response
from photon.extensions import db, get_redis
from photon.models import AgentStatus
from photon.tasks.queues import QUEUES

bp = Blueprint("metrics", __name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Shared:
    """Families read at scrape time from Redis and the database."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[object]:
        with self.app.app_context():
            client = get_redis()
            try:
                yield from self._queues(client)
                yield from self._recorded(client)
            except redis.RedisError:
                pass  # Redis down: these families are absent from this scrape, not wrong
            yield from self._agents()

    def _queues(self, client: redis.Redis) -> Iterator[object]:
        depth = GaugeMetricFamily(
            "photon_rq_queue_depth", "Jobs waiting, by queue", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "photon_rq_failed_jobs", "Jobs in the failed registry", labels=["queue"]
        )
        for name in QUEUES:
            depth.add_metric([name], Queue(name, connection=client).count)
            failed.add_metric([name], FailedJobRegistry(name, connection=client).count)
        yield depth
        yield failed

    def _recorded(self, client: redis.Redis) -> Iterator[object]:
        calls = CounterMetricFamily(
            "photon_provider_calls",
            "Provider calls, by source, operation and outcome",
            labels=["source", "operation", "outcome"],
        )
        for labels, value in metrics.read(client, "provider_calls").items():
            calls.add_metric(list(labels), value)
        yield calls
        runs = CounterMetricFamily(
            "photon_periodic_runs",
            "Scheduled runs, by job: ran, or skipped because its interval had run already",
            labels=["job", "outcome"],
        )
        for labels, value in metrics.read(client, "periodic_runs").items():
            runs.add_metric(list(labels), value)
        yield runs
        for name, doc, label_names in (
            ("provider_seconds", "Provider call latency", ["source", "operation"]),
            ("monitor_cycle_seconds", "Market monitor cycle time", []),
        ):
            family = HistogramMetricFamily(f"photon_{name}", doc, labels=label_names)
            for labels, (buckets, total, _count) in metrics.read_histogram(client, name).items():
                family.add_metric(
                    list(labels)[: len(label_names)],
                    [(str(b), c) for b, c in buckets] + [("+Inf", _count)],
                    total,
                )
            yield family
        for name, doc, label_names in (
            (
                "stream_lag_seconds",
                "How far the newest streamed quote trailed the venue's clock",
                ["venue"],
            ),
            ("stream_last_push_timestamp", "When a venue's stream last pushed", ["venue"]),
            ("monitor_last_cycle_timestamp", "When the last market monitor cycle ended", []),
        ):
            family = GaugeMetricFamily(f"photon_{name}", doc, labels=label_names)
            for labels, value in metrics.read(client, name).items():
                family.add_metric(list(labels)[: len(label_names)], value)
            yield family

    def _agents(self) -> Iterator[object]:
        states = GaugeMetricFamily(
            "photon_agents", "Agents by kind and state", labels=["agent", "state"]
        )
        try:
            rows = db.session.execute(
                select(AgentStatus.agent, AgentStatus.state, func.count()).group_by(
                    AgentStatus.agent, AgentStatus.state
                )
            )
            for agent, state, count in rows:
                states.add_metric([agent, state], count)
        except SQLAlchemyError:
            db.session.rollback()
        finally:
            db.session.remove()
        yield states


def _allowed() -> bool:
    token = current_app.config["PHOTON"].metrics_token
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.route("/metrics")
def scrape() -> Response:
    if not _allowed():
        return error_response(
            403,
            "Metrics need PHOTON_METRICS_TOKEN as a bearer token, or a request from this machine",
        )
    registry = current_app.extensions["photon.metrics"]["registry"]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _counted(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None and request.path != "/metrics":
        own = current_app.extensions["photon.metrics"]
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        own["requests"].labels(request.method, endpoint, str(response.status_code)).inc()
        own["latency"].labels(request.method, endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    # One registry per app: tests build many apps, and this process's counters are its own.
    registry = CollectorRegistry(auto_describe=True)
    app.extensions["photon.metrics"] = {
        "registry": registry,
        "requests": Counter(
            "photon_http_requests",
            "HTTP requests, by endpoint and status",
            ["method", "endpoint", "status"],
            registry=registry,
        ),
        "latency": Histogram(
            "photon_http_request_seconds",
            "HTTP request latency",
            ["method", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        "sockets": Gauge(
            "photon_socketio_connections",
            "Socket.IO connections held by this web process",
            registry=registry,
        ),
    }
    registry.register(_Shared(app))
    app.register_blueprint(bp)
    app.before_request(_started)
    app.after_request(_counted)
