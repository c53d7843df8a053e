"""``/``: the dashboard (``frontend/dist``, built by ``make run``), or a small page saying what
Photon is when the dashboard has not been built.

Client-side routes (``/chart/BTCUSDT``, ``/portfolio``) fall back to ``index.html``; paths the
server owns (``/api/...``, ``/health``, ``/socket.io/...``) never do, so an unknown API path is
still a JSON 404.
"""

from __future__ import annotations

import html
import mimetypes
import os

from flask import Blueprint, Flask, Response, current_app, request, send_from_directory
from werkzeug.exceptions import NotFound

from photon.api.errors import http_error

bp = Blueprint("dashboard", __name__)

SERVER_PREFIXES = ("api", "health", "socket.io", "metrics")


def dist_dir() -> str:
    return os.path.join(current_app.root_path, os.pardir, "frontend", "dist")


def _built() -> bool:
    return os.path.isfile(os.path.join(dist_dir(), "index.html"))


@bp.route("/")
def index() -> Response:
    if not _built():
        return Response(_landing(), mimetype="text/html")
    return _index_html()


@bp.route("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """A built asset; its gzip copy (written by the build) when the browser accepts gzip."""
    folder = os.path.join(dist_dir(), "assets")
    # Vite names assets by content hash, so they may be cached for good.
    packed = filename + ".gz"
    if "gzip" in request.accept_encodings and os.path.isfile(os.path.join(folder, packed)):
        response = send_from_directory(
            folder, packed, max_age=31536000, mimetype=mimetypes.guess_type(filename)[0]
        )
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_from_directory(folder, filename, max_age=31536000)
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _index_html() -> Response:
    response = send_from_directory(dist_dir(), "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _not_found(exc: NotFound) -> Response:
    """A client-side route (a GET outside the server's paths) gets the app; all else the JSON
    404. A route table entry would also catch ``POST /api/nope`` and answer 405."""
    path = request.path.lstrip("/")
    if request.method != "GET" or path.split("/", 1)[0] in SERVER_PREFIXES or not _built():
        return http_error(exc)
    if os.path.isfile(os.path.join(dist_dir(), path)):
        return send_from_directory(dist_dir(), path, max_age=0)  # favicon and the like
    return _index_html()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(NotFound, _not_found)


def _landing() -> str:
    source = current_app.config["PHOTON"].data_source
    data = (
        "<b>replay</b>: bundled real history (AAPL, MSFT, IBM, GOOG daily; BTCUSDT, ETHUSDT "
        "hourly) is served as a live feed, one bar per tick"
        if source == "replay"
        else "<b>live</b>: stocks from Yahoo Finance, crypto from Bybit's public API"
    )
    return _PAGE.format(data=data, source=html.escape(source))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Photon</title>
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto;
        padding: 0 1rem; color-scheme: light dark; }}
 code {{ font-size: 90%; }}
</style></head>
<body>
<h1>Photon</h1>
<p>A multi-agent trading monitor: it watches stocks and crypto pairs, gives BUY/SELL/HOLD
decisions with reasons you can check, and tries them on a paper portfolio.
<b>It never places a real trade.</b></p>
<p>Data: {data}.</p>
<p>The browser dashboard is not built here (<code>make run</code> builds it). Meanwhile:</p>
<ul>
 <li><a href="/api/docs">API documentation</a> (Swagger UI) and
     <a href="/api/openapi.json">the OpenAPI spec</a></li>
 <li><a href="/health">/health</a>: database, Redis and data source
     (<code>{source}</code>)</li>
 <li>First steps: the README's "First steps with curl" register a user, add
     <code>BTC</code> and <code>AAPL</code>, and start the three agents.</li>
</ul>
</body></html>
"""
