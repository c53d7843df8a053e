"""``python -m workers.stream``: the venues' push feeds, under a Redis lease per venue.

Live, it holds one Bybit and one Yahoo WebSocket for every symbol a running monitor watches; in
replay, it pushes the bundled history. SIGTERM or Ctrl-C stops the streams, stores the last
second, and releases the leases, so a standby ``stream`` process takes over at once.
"""

from __future__ import annotations

import signal

from photon import log
from photon.app import create_app
from photon.config import Settings
from photon.tasks import context
from photon.tasks.stream.service import StreamService


def main() -> int:
    log.setup(Settings.from_env().log_level)
    app = context.install(create_app())
    service = StreamService.from_app(app)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: service.stop())
    service.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
