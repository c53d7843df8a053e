"""Web entry point: ``python wsgi.py`` serves the REST API and Socket.IO on $PORT.

Eventlet must patch the standard library before anything else imports it, so this file reads the
one setting it needs straight from the environment and patches first.
"""

import gc
import os

from dotenv import load_dotenv

load_dotenv(override=False)
if os.environ.get("PHOTON_ASYNC_MODE", "eventlet").strip().lower() == "eventlet":
    import warnings

    # Eventlet warns that it is in maintenance mode; the setting and README say so once. Its
    # message starts with a newline, which a plain ".*" would not cross.
    warnings.filterwarnings("ignore", message=r"(?s)\s*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()

from photon.app import create_app  # noqa: E402
from photon.extensions import socketio  # noqa: E402

app = create_app(web=True)
# The app imports pandas, LightGBM and TA-Lib: ~180k long-lived objects that every full garbage
# collection would walk again (~90 ms), stalling Socket.IO delivery. Freeze them out of the GC.
gc.freeze()

if __name__ == "__main__":
    settings = app.config["PHOTON"]
    socketio.run(
        app,
        host=settings.host,
        port=settings.port,
        debug=False,
        use_reloader=False,
        # Photon writes its own access lines (JSON, with the request id): see photon.api.headers.
        log_output=False,
        allow_unsafe_werkzeug=True,
    )
