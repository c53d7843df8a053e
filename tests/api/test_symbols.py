ERROR_KEYS = {"code", "status", "message", "errors"}


def add(client, headers, symbol):
    return client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)


def test_detection_and_normalisation(client, auth):
    headers = auth.headers("alice")
    expected = {
        "AAPL": ("AAPL", "stock", "yahoo"),
        "tsla": ("TSLA", "stock", "yahoo"),
        "BTC": ("BTCUSDT", "crypto", "bybit"),
        "ETH": ("ETHUSDT", "crypto", "bybit"),
        "BNB": ("BNBUSDT", "crypto", "bybit"),
        "BRK.B": ("BRK-B", "stock", "yahoo"),
        "^GSPC": ("^GSPC", "index", "yahoo"),
    }
    for raw, (ticker, asset_class, source) in expected.items():
        response = add(client, headers, raw)
        assert response.status_code == 201, (raw, response.json)
        body = response.json
        assert (body["symbol"], body["asset_class"], body["source"]) == (
            ticker,
            asset_class,
            source,
        )


def test_same_pair_spelled_differently_is_not_duplicated(client, auth):
    headers = auth.headers("alice")
    first = add(client, headers, "BTCUSDT")
    assert first.status_code == 201
    for spelling in ("BTC", "btcusdt", "btc/usdt", "BTC-USD"):
        again = add(client, headers, spelling)
        assert again.status_code == 200, spelling
        assert again.json["id"] == first.json["id"]
    listing = client.get("/api/trading/symbols/", headers=headers)
    assert [s["symbol"] for s in listing.json] == ["BTCUSDT"]


def test_eth_slash_usdt(client, auth):
    response = add(client, auth.headers("alice"), "eth/usdt")
    assert response.json["symbol"] == "ETHUSDT"


def test_garbage_is_422(client, auth):
    headers = auth.headers("alice")
    for raw in ["", "   ", "A" * 21, "AA PL", "DROP;TABLE", "<script>", "ab/cd", 12]:
        response = add(client, headers, raw)
        assert response.status_code == 422, raw
        assert set(response.json) == ERROR_KEYS
        assert response.json["message"]
    assert client.post("/api/trading/symbols/", json={}, headers=headers).status_code == 422


def test_list_is_paginated(client, auth):
    headers = auth.headers("alice")
    for raw in ("AAPL", "MSFT", "BTC"):
        add(client, headers, raw)
    page = client.get("/api/trading/symbols/?page=2&page_size=2", headers=headers)
    assert page.status_code == 200
    assert [s["symbol"] for s in page.json] == ["BTCUSDT"]
    import json

    meta = json.loads(page.headers["X-Pagination"])
    assert meta["total"] == 3 and meta["page"] == 2
    bad = client.get("/api/trading/symbols/?page=0", headers=headers)
    assert bad.status_code == 422


def test_detail_and_delete(client, auth):
    headers = auth.headers("alice")
    symbol_id = add(client, headers, "AAPL").json["id"]
    detail = client.get(f"/api/trading/symbols/{symbol_id}/", headers=headers)
    assert detail.status_code == 200 and detail.json["symbol"] == "AAPL"
    no_slash = client.get(f"/api/trading/symbols/{symbol_id}", headers=headers)
    assert no_slash.status_code == 200
    assert client.delete(f"/api/trading/symbols/{symbol_id}/", headers=headers).status_code == 204
    assert client.get(f"/api/trading/symbols/{symbol_id}/", headers=headers).status_code == 404
    assert client.delete(f"/api/trading/symbols/{symbol_id}/", headers=headers).status_code == 404


def test_users_see_and_change_only_their_own_symbols(client, auth):
    alice = auth.headers("alice")
    bob = auth.headers("bob")
    alice_symbol = add(client, alice, "AAPL").json["id"]
    assert client.get("/api/trading/symbols/", headers=bob).json == []
    other = client.get(f"/api/trading/symbols/{alice_symbol}/", headers=bob)
    assert other.status_code == 404
    assert set(other.json) == ERROR_KEYS
    assert client.delete(f"/api/trading/symbols/{alice_symbol}/", headers=bob).status_code == 404
    assert client.get(f"/api/trading/symbols/{alice_symbol}/", headers=alice).status_code == 200
    # The instrument is global; bob watching it too shares the row, not alice's watch.
    bob_add = add(client, bob, "AAPL")
    assert bob_add.status_code == 201 and bob_add.json["id"] == alice_symbol
    assert client.delete(f"/api/trading/symbols/{alice_symbol}/", headers=bob).status_code == 204
    assert client.get(f"/api/trading/symbols/{alice_symbol}/", headers=alice).status_code == 200


def test_symbols_need_auth(client):
    response = client.get("/api/trading/symbols/")
    assert response.status_code == 401
    assert set(response.json) == ERROR_KEYS
