import os

import socketio

sio = socketio.Client()
# One write per line: handlers run in threads, and print(a, b) writes piece by piece.
sio.on("quote", lambda q: print(f"{q['symbol']} {q['price']} {q['ts']} {q['source']}\n", end=""))
sio.connect(
    os.environ.get("PHOTON_URL", "http://127.0.0.1:8000"), auth={"token": os.environ["TOKEN"]}
)
print(sio.call("subscribe", {"symbols": ["BTC", "AAPL"]}))
sio.wait()
