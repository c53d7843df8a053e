"""Yahoo's v2 streamer (``wss://streamer.finance.yahoo.com/?version=2``), answered as Yahoo does.

The client sends ``{"subscribe": [...]}`` (the whole list, again every 15 s as its heartbeat) and
``{"unsubscribe": [...]}``; Yahoo answers neither. Each push is a JSON text frame carrying a
base64 ``PricingData`` protobuf under ``"message"``, built here with yfinance's own
``yfinance.pricing_pb2.PricingData`` so the bytes are the real format. The recorded message
(``data/streams/yahoo_ws_pricing_BTC-USD.b64``) is the template every push starts from.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

from yfinance.pricing_pb2 import PricingData

from .http import load_bytes
from .ws import Connection, FakeWebSocketServer

DATA = Path(__file__).parent / "data" / "streams"
REGULAR_MARKET = 1


def recorded() -> PricingData:
    data = PricingData()
    data.ParseFromString(base64.b64decode(load_bytes(DATA / "yahoo_ws_pricing_BTC-USD.b64")))
    return data


def encode(**fields: Any) -> str:
    """A base64 ``PricingData`` from the recorded one with ``fields`` replaced."""
    data = recorded()
    for name, value in fields.items():
        setattr(data, name, value)
    return base64.b64encode(data.SerializeToString()).decode()


class FakeYahooStreamer(FakeWebSocketServer):
    path = "/"

    def __init__(self) -> None:
        super().__init__()
        self.subscribe_messages = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/?version=2"

    async def on_message(self, conn: Connection, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if isinstance(message.get("subscribe"), list):
            self.subscribe_messages += 1
            conn.topics.update(message["subscribe"])
        if isinstance(message.get("unsubscribe"), list):
            conn.topics.difference_update(message["unsubscribe"])

    def push(
        self,
        symbol: str,
        price: float,
        time_ms: int | None = None,
        market_hours: int = REGULAR_MARKET,
        **fields: Any,
    ) -> int:
        """A pricing push to every connection subscribed to ``symbol``."""
        body = {
            "type": "pricing",
            "message": encode(
                id=symbol,
                price=price,
                time=time_ms or int(time.time() * 1000),
                market_hours=market_hours,
                **fields,
            ),
        }
        sent = 0
        for conn in self.live:
            if symbol in conn.topics:
                sent += self._run(self._send_json(conn, body))
        return sent
