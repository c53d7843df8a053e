"""The paper portfolio through the API: execution status and control, portfolio, orders."""

import json
from datetime import timedelta

import pytest

from photon.agents.execution import agent as execution
from photon.agents.execution.settings import PaperSettings
from photon.extensions import db
from tests.agents.execution import factories as f

ERROR_KEYS = {"code", "status", "message", "errors"}
NOW = f.NOW
CFG = PaperSettings()
EXECUTION = "/api/trading/agents/execution/"


def user_id(client, headers) -> int:
    return client.get("/api/auth/me/", headers=headers).json["id"]


def trade(app, uid, symbol_id, action="BUY", confidence=1.0, at=NOW):
    with app.app_context():
        decision_id = f.decision(uid, symbol_id, action, confidence, at=at)
        order = execution.execute(db.session, decision_id, CFG, now=at).order
        return order.id if order else None


@pytest.fixture
def alice(client, auth, app):
    headers = auth.headers("alice")
    uid = user_id(client, headers)
    with app.app_context():
        btc = f.symbol("BTCUSDT", "crypto", watcher=uid)
        aapl = f.symbol("AAPL", "stock", watcher=uid)
        f.quote(btc, 50_000.0, bid=49_990.0, ask=50_010.0, currency="USDT")
        f.quote(aapl, 200.0)
    return headers, uid, btc, aapl


def test_decision_to_order_to_portfolio_in_both_markets(client, app, alice):
    headers, uid, btc, aapl = alice
    body = client.get(EXECUTION, headers=headers).json
    assert (body["state"], body["mode"], body["equity"], body["cash"]) == (
        "stopped",
        "paper",
        10_000.0,
        10_000.0,
    )
    assert trade(app, uid, btc) is None  # not running: no order
    started = client.post(EXECUTION, json={"action": "start"}, headers=headers)
    assert started.status_code == 200 and started.json["state"] == "running"

    crypto = trade(app, uid, btc, confidence=0.5)
    stock = trade(app, uid, aapl)
    portfolio = client.get("/api/trading/portfolio/", headers=headers).json
    # BTC: 500 at the ask 50 010 → 0.009998, fee 0.1%. AAPL: ~1 000 at 200.1 → 4 shares, no fee.
    btc_cost = 0.009998 * 50_010.0
    cash = 10_000 - btc_cost * 1.001 - 4 * 200.1
    assert portfolio["cash"] == pytest.approx(cash)
    assert portfolio["equity"] == pytest.approx(cash + 0.009998 * 50_000.0 + 4 * 200.0)
    assert portfolio["unrealised_pnl"] == pytest.approx(
        0.009998 * (50_000.0 - 50_010.0) + 4 * (200.0 - 200.1)
    )
    assert portfolio["fees_paid"] == pytest.approx(btc_cost * 0.001)
    assert {p["symbol"]: p["quantity"] for p in portfolio["positions"]} == {
        "BTCUSDT": 0.009998,
        "AAPL": 4.0,
    }
    assert [o["id"] for o in portfolio["last_orders"]] == [stock, crypto]

    later = NOW + timedelta(hours=2)
    with app.app_context():
        f.quote(aapl, 210.0, ts=later)
    sold = trade(app, uid, aapl, "SELL", at=later)
    order = client.get(f"/api/trading/orders/{sold}/", headers=headers).json
    # SELL at 210 × (1 − 0.0005) = 209.895, realised 4 × (209.895 − 200.1)
    assert (order["side"], order["status"], order["quantity"]) == ("SELL", "filled", 4.0)
    assert order["price"] == pytest.approx(209.895)
    assert order["realised_pnl"] == pytest.approx(4 * (209.895 - 200.1))
    assert order["mode"] == "paper" and order["symbol"] == "AAPL"

    status = client.get(EXECUTION, headers=headers).json
    assert status["realised_pnl"] == pytest.approx(39.18)
    assert [p["symbol"] for p in status["positions"]] == ["BTCUSDT"]
    assert status["counters"]["orders_filled"] == 3
    assert status["cash"] == pytest.approx(cash + 4 * 209.895)


def test_orders_are_paginated_and_filtered(client, app, alice):
    headers, uid, btc, aapl = alice
    client.post(EXECUTION, json={"action": "start"}, headers=headers)
    ids = [
        trade(app, uid, btc, at=NOW),
        trade(app, uid, aapl, at=NOW + timedelta(seconds=1)),
        trade(app, uid, btc, "SELL", at=NOW + timedelta(seconds=2)),
    ]  # cool-down: rejected
    page = client.get("/api/trading/orders/?page=1&page_size=2", headers=headers)
    assert page.status_code == 200
    assert [o["id"] for o in page.json] == [ids[2], ids[1]]
    assert json.loads(page.headers["X-Pagination"])["total"] == 3

    def listed(query: str) -> list[int]:
        response = client.get(f"/api/trading/orders/?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [o["id"] for o in response.json]

    assert listed(f"symbol_id={btc}") == [ids[2], ids[0]]
    assert listed("side=SELL") == [ids[2]]
    assert listed("status=rejected") == [ids[2]]
    assert listed("status=filled") == [ids[1], ids[0]]
    start = (NOW + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    end = (NOW + timedelta(seconds=2)).isoformat().replace("+00:00", "Z")
    assert listed(f"start={start}&end={end}") == [ids[1]]
    for bad in ("side=HOLD", "status=done", f"start={end}&end={start}", "page=0"):
        response = client.get(f"/api/trading/orders/?{bad}", headers=headers)
        assert response.status_code == 422, bad
        assert set(response.json) == ERROR_KEYS


def test_reset_and_configure(client, app, alice):
    headers, uid, btc, _ = alice
    client.post(EXECUTION, json={"action": "start"}, headers=headers)
    trade(app, uid, btc)
    reset = client.post(
        EXECUTION, json={"action": "reset", "starting_cash": 25_000}, headers=headers
    )
    assert reset.status_code == 200, reset.json
    body = reset.json
    assert (body["cash"], body["equity"], body["starting_cash"]) == (25_000, 25_000, 25_000)
    assert body["positions"] == [] and body["last_orders"] == []
    assert body["state"] == "running"  # a reset does not stop the agent
    configured = client.post(
        EXECUTION,
        json={"action": "configure", "settings": {"max_positions": 3, "fee_crypto": 0}},
        headers=headers,
    )
    assert configured.status_code == 200
    assert configured.json["settings"]["max_positions"] == 3
    assert configured.json["settings"]["fee_crypto"] == 0
    for bad in (
        {"action": "start", "starting_cash": 5},
        {"action": "reset", "starting_cash": 0},
        {"action": "configure"},
        {"action": "configure", "settings": {"slippage": 2}},
        {"action": "buy"},
        {},
    ):
        response = client.post(EXECUTION, json=bad, headers=headers)
        assert response.status_code == 422, bad
        assert set(response.json) == ERROR_KEYS
    stopped = client.post(EXECUTION, json={"action": "stop"}, headers=headers)
    assert stopped.json["state"] == "stopped" and stopped.json["cash"] == 25_000


def test_users_see_only_their_own_portfolio_and_orders(client, app, auth, alice):
    headers, uid, btc, _ = alice
    client.post(EXECUTION, json={"action": "start"}, headers=headers)
    order_id = trade(app, uid, btc)
    bob = auth.headers("bob")
    assert client.get("/api/trading/orders/", headers=bob).json == []
    other = client.get(f"/api/trading/orders/{order_id}/", headers=bob)
    assert other.status_code == 404 and set(other.json) == ERROR_KEYS
    assert client.get(f"/api/trading/orders/{order_id}/", headers=headers).status_code == 200
    assert client.get("/api/trading/orders/999999/", headers=headers).status_code == 404
    portfolio = client.get("/api/trading/portfolio/", headers=bob).json
    assert (portfolio["cash"], portfolio["positions"], portfolio["last_orders"]) == (
        10_000.0,
        [],
        [],
    )
    assert client.get(EXECUTION, headers=bob).json["state"] == "stopped"
    # Bob's reset leaves alice's books alone.
    client.post(EXECUTION, json={"action": "reset"}, headers=bob)
    assert len(client.get("/api/trading/orders/", headers=headers).json) == 1


def test_paper_endpoints_need_auth(client):
    for path in (
        "/api/trading/portfolio/",
        "/api/trading/orders/",
        "/api/trading/orders/1/",
        EXECUTION,
    ):
        response = client.get(path)
        assert response.status_code == 401, path
        assert set(response.json) == ERROR_KEYS


def test_openapi_lists_the_paper_endpoints(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in (
        "/api/trading/portfolio/",
        "/api/trading/orders/",
        "/api/trading/orders/{order_id}/",
        EXECUTION,
    ):
        assert path in paths, path
