"""Headers on every response: the request id, security headers, no caching of token responses,
and CORS for the origins ``PHOTON_CORS_ORIGINS`` names (none by default: the same origin only)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request

access = logging.getLogger("photon.access")
# A caller's own request id is kept when it looks like one (a proxy's, say); else a new one.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
CORS_HEADERS = {
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "X-Pagination, Retry-After, X-Photon-Backfill",
    "Access-Control-Max-Age": "600",
}


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    # The access line, with the request id the other lines of this request carry; the path
    # only, since a query string may hold what a log must not.
    elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
    access.info(
        "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000
    )
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/api/auth/"):
        # Tokens and account data: never kept by a browser or a proxy.
        response.headers["Cache-Control"] = "no-store"
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in current_app.config["PHOTON"].cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers.update(CORS_HEADERS)
        response.vary.add("Origin")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
