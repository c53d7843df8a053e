"""The baseline for bench/realtime_latency.py: a bare Flask-SocketIO relay, no auth, no Photon code.

    python bench/bare_relay.py PORT REDIS_URL CHANNEL [eventlet|threading]

It subscribes to CHANNEL on Redis (``message_queue``) exactly as Photon's web process does, and
relays what emitters publish there. A client joins ``symbol:<X>`` rooms with the same
``subscribe {"symbols": [...]}`` call Photon has, minus the check that the user watches them.
"""

import sys

MODE = sys.argv[4] if len(sys.argv) > 4 else "eventlet"
if MODE == "eventlet":
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import eventlet

    eventlet.monkey_patch()

from flask import Flask  # noqa: E402
from flask_socketio import SocketIO, join_room  # noqa: E402


def main() -> None:
    port, redis_url, channel = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = Flask(__name__)
    socketio = SocketIO(
        app, async_mode=MODE, message_queue=redis_url, channel=channel, cors_allowed_origins="*"
    )

    @socketio.on("subscribe")
    def subscribe(data):
        for symbol in data["symbols"]:
            join_room(f"symbol:{symbol}")
        return {"joined": data["symbols"], "refused": {}}

    socketio.run(app, host="127.0.0.1", port=port, log_output=False, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
