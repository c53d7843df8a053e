"""Market data through the API, with the real providers talking to the local fake exchange."""

import json
import time

import pytest
from sqlalchemy import event, func, select

from photon.agents import monitor
from photon.extensions import db
from photon.models import AgentStatus, Bar, MarketData, Symbol, User, Watch

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


def test_symbols_are_checked_with_the_provider_and_described(client, auth):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC").json
    assert (btc["name"], btc["currency"], btc["exchange"]) == ("BTC/USDT", "USDT", "Bybit")
    aapl = add(client, headers, "AAPL").json
    assert aapl["currency"] == "USD" and aapl["name"] == "Apple Inc."
    for unknown in ("ZZZZQ", "NOPEUSDT"):
        response = add(client, headers, unknown)
        assert response.status_code == 422, unknown
        assert set(response.json) == ERROR_KEYS
        assert unknown in response.json["message"]


def test_unreachable_provider_is_503_with_retry_after_and_stores_nothing(app, client, auth,
                                                                        exchange):
    headers = auth.headers("alice")
    exchange.fault("http_502", path_prefix="/v5/")
    started = time.monotonic()
    response = add(client, headers, "ETH")
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    assert set(response.json) == ERROR_KEYS
    assert int(response.headers["Retry-After"]) >= 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Symbol)) == 0
    exchange.clear_faults()
    assert add(client, headers, "ETH").status_code == 201


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


def test_latest_is_one_query_whatever_the_number_of_symbols(app, client, auth):
    headers = auth.headers("alice")

    def statements_for_latest() -> tuple[int, list]:
        seen = []
        with app.app_context():
            engine = db.engine

            def count(*_args):
                seen.append(1)

            event.listen(engine, "before_cursor_execute", count)
            try:
                body = client.get("/api/trading/market-data/latest/", headers=headers).json
            finally:
                event.remove(engine, "before_cursor_execute", count)
        return len(seen), body

    add(client, headers, "BTC")
    client.post("/api/trading/market-data/refresh/", headers=headers)
    few, body = statements_for_latest()
    assert [q["symbol"] for q in body] == ["BTCUSDT"]
    for raw in ("ETH", "BNB", "AAPL", "MSFT", "GOOG"):
        add(client, headers, raw)
    client.post("/api/trading/market-data/refresh/", headers=headers)
    time.sleep(1.1)  # Bybit's fake clock ticks in seconds; a later quote is a new row
    client.post("/api/trading/market-data/refresh/", headers=headers)
    many, body = statements_for_latest()
    assert many == few
    assert len(body) == 6
    with app.app_context():
        newest = db.session.scalar(select(func.max(MarketData.ts)).where(
            MarketData.symbol_id == body[0]["symbol_id"]))
    assert body[0]["ts"].startswith(newest.isoformat()[:19])


def test_history_filters_pages_and_scopes(app, client, auth):
    alice = auth.headers("alice")
    bob = auth.headers("bob")
    btc = add(client, alice, "BTC").json["id"]
    aapl = add(client, alice, "AAPL").json["id"]
    client.post("/api/trading/market-data/refresh/", headers=alice)
    time.sleep(1.1)
    client.post("/api/trading/market-data/refresh/", headers=alice)
    only_btc = client.get(f"/api/trading/market-data/?symbol_id={btc}", headers=alice)
    assert {q["symbol"] for q in only_btc.json} == {"BTCUSDT"}
    paged = client.get("/api/trading/market-data/?page_size=1", headers=alice)
    assert len(paged.json) == 1
    assert json.loads(paged.headers["X-Pagination"])["total"] >= 3
    future = client.get("/api/trading/market-data/?start=2999-01-01T00:00:00Z", headers=alice)
    assert future.json == []
    assert client.get(f"/api/trading/market-data/?symbol_id={aapl}",
                      headers=bob).status_code == 404
    assert client.get("/api/trading/market-data/", headers=bob).json == []
    bad = client.get("/api/trading/market-data/?start=2024-02-01&end=2024-01-01", headers=alice)
    assert bad.status_code == 422


def test_bars_are_back_filled_then_served_from_storage(app, client, auth, exchange):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC").json["id"]
    url = f"/api/trading/market-data/bars/?symbol_id={btc}&interval=1h&limit=48"
    exchange.reset_calls()
    first = client.get(url, headers=headers)
    assert first.status_code == 200, first.json
    assert 47 <= len(first.json) <= 48
    times = [b["open_time"] for b in first.json]
    assert times == sorted(times)
    assert all(b["low"] <= min(b["open"], b["close"]) for b in first.json)
    fetched = exchange.calls("/v5/market/kline")
    assert fetched >= 1
    again = client.get(url, headers=headers)
    assert len(again.json) == len(first.json)
    assert exchange.calls("/v5/market/kline") <= fetched + 1  # at most the newest bar
    for query in ("interval=7m", "limit=0", "start=2024-02-01&end=2024-01-01"):
        bad = client.get(f"/api/trading/market-data/bars/?symbol_id={btc}&{query}",
                         headers=headers)
        assert bad.status_code == 422, query
    assert client.get("/api/trading/market-data/bars/", headers=headers).status_code == 422


def test_bars_with_the_provider_down_and_nothing_stored_is_503(client, auth, exchange):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC").json["id"]
    exchange.fault("http_500", path_prefix="/v5/market/kline")
    response = client.get(f"/api/trading/market-data/bars/?symbol_id={btc}&interval=1h",
                          headers=headers)
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_upserts_are_idempotent(app, client, auth):
    from datetime import UTC, datetime

    from photon.store import bars as stored_bars
    from photon.store import quotes
    from photon.types import Bar as BarValue
    from photon.types import Quote

    headers = auth.headers("alice")
    symbol_id = add(client, headers, "BTC").json["id"]
    ts = datetime(2024, 5, 1, 12, tzinfo=UTC)
    quote = Quote("BTCUSDT", 60000.0, ts, "bybit", bid=59999.0, ask=60001.0)
    bars = [BarValue("BTCUSDT", "1h", datetime(2024, 5, 1, h, tzinfo=UTC), 1, 2, 0.5, 1.5, 10)
            for h in range(5)]
    with app.app_context():
        for _ in range(3):
            quotes.upsert_quotes(db.session, [(symbol_id, quote)])
            stored_bars.upsert_bars(db.session, symbol_id, bars, "bybit")
            db.session.commit()
        quotes.upsert_quotes(db.session, [(symbol_id, Quote("BTCUSDT", 61000.0, ts, "bybit"))])
        db.session.commit()
        rows = db.session.scalars(select(MarketData)).all()
        assert len(rows) == 1 and rows[0].price == 61000.0  # refetch updates in place
        assert db.session.scalar(select(func.count()).select_from(Bar)) == 5


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
        status = db.session.scalars(select(AgentStatus).where(
            AgentStatus.agent == "market-monitor")).one()
        assert status.state == "degraded"
        assert status.last_error.startswith("bybit:")
        assert db.session.scalar(select(func.count()).select_from(MarketData)) == 1  # AAPL
        assert run.cycle.source_errors["bybit"]
    exchange.clear_faults()
    with app.app_context():
        monitor.run_cycle(db.session, get_providers())
        status = db.session.scalars(select(AgentStatus).where(
            AgentStatus.agent == "market-monitor")).one()
        assert status.state == "running"
        assert status.last_success_at >= status.last_run_at
        assert status.cycles == 2
    shown = client.get("/api/trading/agents/market-monitor/", headers=headers).json
    assert shown["state"] == "running" and shown["symbols_watched"] == 2
