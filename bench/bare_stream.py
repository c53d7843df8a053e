"""The venue side of the bare relay for bench/stream_latency.py: no Photon code.

    python bench/bare_stream.py WS_URL REDIS_URL CHANNEL SYMBOL [SYMBOL ...]

It holds one websocket-client connection to the venue, subscribes to ``tickers.<SYMBOL>`` for
each symbol, and emits every ticker push as a ``quote`` to ``symbol:<SYMBOL>`` through a
write-only ``SocketIO(message_queue=...)`` on CHANNEL, where bench/bare_relay.py relays it. The
payload carries the venue's ``ts`` as ``source_time``, as Photon's does.
"""

import json
import sys
from datetime import UTC, datetime

import websocket
from flask_socketio import SocketIO


def main() -> None:
    url, redis_url, channel, *symbols = sys.argv[1:]
    relay = SocketIO(message_queue=redis_url, channel=channel, async_mode="threading")

    def on_open(ws):
        for symbol in symbols:
            ws.send(json.dumps({"op": "subscribe", "args": [f"tickers.{symbol}"]}))

    def on_message(_ws, text):
        message = json.loads(text)
        if not str(message.get("topic", "")).startswith("tickers."):
            return
        data = message["data"]
        stamp = datetime.fromtimestamp(message["ts"] / 1000, UTC).isoformat()
        symbol = data["symbol"]
        payload = {"symbol": symbol, "price": float(data["lastPrice"]), "source_time": stamp}
        relay.emit("quote", payload, to=f"symbol:{symbol}")

    websocket.WebSocketApp(url, on_open=on_open, on_message=on_message).run_forever(
        ping_interval=20
    )


if __name__ == "__main__":
    main()
