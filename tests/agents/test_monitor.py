"""Market data through the API, with the real providers talking to the local fake exchange."""

import pytest
from sqlalchemy import func, select

from photon.agents import monitor
from photon.extensions import db
from photon.models import AgentStatus, MarketData, Symbol, User, Watch

ERROR_KEYS = {"code", "status", "message", "errors"}


def add(client, headers, symbol):
    return client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)


def watch_unknown(app, ticker, source="bybit", asset_class="crypto"):
    """A symbol Photon stored earlier that the provider has since delisted."""
    with app.app_context():
        user_id = db.session.scalars(select(User.id)).first()
        symbol = Symbol(ticker=ticker, asset_class=asset_class, source=source)
        db.session.add(symbol)
        db.session.flush()
        db.session.add(Watch(user_id=user_id, symbol_id=symbol.id))
        db.session.commit()
        return symbol.id


def test_refresh_batches_per_source_and_isolates_bad_symbols(app, client, auth, exchange):
    headers = auth.headers("alice")
    for raw in ("BTC", "ETH", "AAPL", "MSFT"):
        assert add(client, headers, raw).status_code == 201
    watch_unknown(app, "GONEUSDT")
    exchange.reset_calls()
    response = client.post("/api/trading/market-data/refresh/", headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    results = {r["symbol"]: r for r in body["results"]}
    assert results["GONEUSDT"]["quote"] is None
    assert results["GONEUSDT"]["error"]["type"] == "SymbolNotFound"
    for ticker in ("BTCUSDT", "ETHUSDT", "AAPL", "MSFT"):
        assert results[ticker]["error"] is None
        assert results[ticker]["quote"]["price"] > 0
    assert results["BTCUSDT"]["quote"]["source"] == "bybit"
    assert results["BTCUSDT"]["quote"]["bid"] is not None
    assert body["rows_written"] == 4
    assert body["provider_calls"] == {"bybit": 1, "yahoo": 1}
    assert exchange.calls("/v5/market/tickers") == 1


def test_a_failing_source_does_not_fail_the_other(client, auth, exchange):
    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    exchange.fault("bybit_10006", path_prefix="/v5/")
    body = client.post("/api/trading/market-data/refresh/", headers=headers).json
    results = {r["symbol"]: r for r in body["results"]}
    assert results["BTCUSDT"]["error"]["type"] == "RateLimited"
    assert results["AAPL"]["quote"] is not None
    assert body["rows_written"] == 1


@pytest.mark.parametrize("fault", ["http_500", "bybit_10016", "garbage", "truncated"])
def test_monitor_degrades_on_faults_and_recovers(app, client, auth, exchange, fault):
    from photon.providers import get_providers

    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "AAPL")
    client.post("/api/trading/agents/market-monitor/", json={"action": "start"}, headers=headers)
    exchange.fault(fault, path_prefix="/v5/")
    with app.app_context():
        run = monitor.run_cycle(db.session, get_providers())
        status = db.session.scalars(
            select(AgentStatus).where(AgentStatus.agent == "market-monitor")
        ).one()
        assert status.state == "degraded"
        assert status.last_error.startswith("bybit:")
        assert db.session.scalar(select(func.count()).select_from(MarketData)) == 1  # AAPL
        assert run.cycle.source_errors["bybit"]
    exchange.clear_faults()
    with app.app_context():
        monitor.run_cycle(db.session, get_providers())
        status = db.session.scalars(
            select(AgentStatus).where(AgentStatus.agent == "market-monitor")
        ).one()
        assert status.state == "running"
        assert status.last_success_at >= status.last_run_at
        assert status.cycles == 2
    shown = client.get("/api/trading/agents/market-monitor/", headers=headers).json
    assert shown["state"] == "running" and shown["symbols_watched"] == 2


def test_symbols_a_stream_carries_are_not_polled(app, client, auth, exchange):
    from photon.providers import get_providers

    headers = auth.headers("alice")
    for raw in ("BTC", "ETH", "AAPL"):
        add(client, headers, raw)
    client.post("/api/trading/agents/market-monitor/", json={"action": "start"}, headers=headers)
    exchange.reset_calls()
    streams = {"bybit": monitor.StreamView(covered=frozenset({"BTCUSDT", "ETHUSDT"}))}
    with app.app_context():
        run = monitor.run_cycle(db.session, get_providers(), streams=streams)
        status = db.session.scalars(
            select(AgentStatus).where(AgentStatus.agent == "market-monitor")
        ).one()
        assert [r.symbol.ticker for r in run.cycle.quotes] == ["AAPL"]
        assert run.cycle.calls == {"yahoo": 1}
        assert status.state == "running" and status.counters["symbols_streamed"] == 2
    assert exchange.calls("/v5/market/tickers") == 0

    # A quiet pair (nothing pushed lately) is polled, the streamed one still not.
    streams = {"bybit": monitor.StreamView(covered=frozenset({"BTCUSDT"}))}
    with app.app_context():
        run = monitor.run_cycle(db.session, get_providers(), streams=streams)
        assert sorted(r.symbol.ticker for r in run.cycle.quotes) == ["AAPL", "ETHUSDT"]


def test_a_broken_stream_degrades_and_polled_quotes_no_newer_are_dropped(
    app, client, auth, exchange
):
    from photon.providers import get_providers

    headers = auth.headers("alice")
    add(client, headers, "BTC")
    add(client, headers, "ETH")
    client.post("/api/trading/agents/market-monitor/", json={"action": "start"}, headers=headers)
    ahead = int(exchange.clock() * 1000) + 60_000  # the stream delivered BTC up to a minute on
    problem = "bybit stream silent (no push for 14 s)"
    streams = {"bybit": monitor.StreamView(problem=problem, marks={"BTCUSDT": ahead})}
    with app.app_context():
        run = monitor.run_cycle(db.session, get_providers(), streams=streams)
        status = db.session.scalars(
            select(AgentStatus).where(AgentStatus.agent == "market-monitor")
        ).one()
        assert [r.symbol.ticker for r in run.cycle.quotes] == ["ETHUSDT"]
        btc = next(r for r in run.cycle.results if r.symbol.ticker == "BTCUSDT")
        assert btc.quote is None and btc.error is None
        assert db.session.scalar(select(func.count()).select_from(MarketData)) == 1
        assert status.state == "degraded"
        assert status.last_error == f"{problem}; polling covers it"
