"""Market data through the API, with the real providers talking to the local fake exchange."""

import json
import time

from sqlalchemy import func, select

from photon.extensions import db
from photon.models import Symbol, User, Watch

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


def test_unreachable_provider_is_503_with_retry_after_and_stores_nothing(
    app, client, auth, exchange
):
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
    assert client.get(f"/api/trading/market-data/?symbol_id={aapl}", headers=bob).status_code == 404
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
        bad = client.get(f"/api/trading/market-data/bars/?symbol_id={btc}&{query}", headers=headers)
        assert bad.status_code == 422, query
    assert client.get("/api/trading/market-data/bars/", headers=headers).status_code == 422


def test_bars_with_the_provider_down_and_nothing_stored_is_503(client, auth, exchange):
    headers = auth.headers("alice")
    btc = add(client, headers, "BTC").json["id"]
    exchange.fault("http_500", path_prefix="/v5/market/kline")
    response = client.get(
        f"/api/trading/market-data/bars/?symbol_id={btc}&interval=1h", headers=headers
    )
    assert response.status_code == 503
    assert "Retry-After" in response.headers
