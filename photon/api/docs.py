"""Swagger UI assets served from the swagger-ui-bundle package, so /api/docs works offline."""

from __future__ import annotations

from flask import Blueprint, Response, send_from_directory
from swagger_ui_bundle import swagger_ui_path

STATIC_URL = "/api/docs/static/"

bp = Blueprint("swagger_static", __name__)


@bp.route(STATIC_URL + "<path:filename>")
def asset(filename: str) -> Response:
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
