"""HTTP API: one blueprint per resource, the one error shape, the docs and the dashboard."""

from __future__ import annotations

from flask import Flask

from photon.api import (
    agents,
    auth,
    dashboard,
    decisions,
    docs,
    errors,
    guards,
    headers,
    health,
    market_data,
    metrics,
    portfolio,
    spec,
    symbols,
)
from photon.extensions import api

BLUEPRINTS = (auth, symbols, market_data, decisions, agents, portfolio, health)


def init_app(app: Flask) -> None:
    headers.init_app(app)  # first: every response, refusals included, has its request id
    guards.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp)
    spec.refine(api.spec.components.schemas)
    app.register_blueprint(docs.bp)
    metrics.init_app(app)
    dashboard.init_app(app)
