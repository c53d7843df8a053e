"""Market data through the API, with the real providers talking to the local fake exchange."""

import time

from sqlalchemy import event, func, select

from photon.extensions import db
from photon.models import Bar, MarketData

ERROR_KEYS = {"code", "status", "message", "errors"}


def add(client, headers, symbol):
    response = client.post("/api/trading/symbols/", json={"symbol": symbol}, headers=headers)
    return response


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
        newest = db.session.scalar(
            select(func.max(MarketData.ts)).where(MarketData.symbol_id == body[0]["symbol_id"])
        )
    assert body[0]["ts"].startswith(newest.isoformat()[:19])


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
    bars = [
        BarValue("BTCUSDT", "1h", datetime(2024, 5, 1, h, tzinfo=UTC), 1, 2, 0.5, 1.5, 10)
        for h in range(5)
    ]
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
