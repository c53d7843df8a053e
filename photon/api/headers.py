"""Headers on every response: security headers, no caching of token responses, and CORS for
the origins ``PHOTON_CORS_ORIGINS`` names (none by default: the same origin only)."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

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


def _finish(response: Response) -> Response:
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
    app.after_request(_finish)
