import os

import socketio

sio = socketio.Client()
sio.on("quote", lambda q: print(q["symbol"], q["price"], q["ts"], q["source"]))
sio.connect(os.environ.get("PHOTON_URL", "http://127.0.0.1:8000"),
            auth={"token": os.environ["TOKEN"]})
print(sio.call("subscribe", {"symbols": ["BTC", "AAPL"]}))
sio.wait()
