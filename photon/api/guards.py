"""Limits on what a request may carry, enforced before any view runs: a body size, a JSON
nesting depth, and path ids that fit in a database id. Each breach is a 4xx in the one error
shape, never a 500."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.routing import IntegerConverter

from photon.api.errors import error_response
from photon.api.schemas import MAX_ID

# No request of this API needs more: the largest is a refresh of 1,000 symbol ids.
MAX_BODY_BYTES = 64 * 1024
# Python's json parser recurses once per level and fails near 1,000 with RecursionError; no
# request here nests deeper than 4.
MAX_JSON_DEPTH = 32


class IdConverter(IntegerConverter):
    """``<int:...>`` in a route: at most ``MAX_ID``, so a larger one matches no route (404)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: ANN001
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def json_depth(body: bytes, limit: int) -> int:
    """How deep ``body`` nests arrays and objects, counting only brackets outside strings;
    stops counting past ``limit``."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _check_pages() -> Response | None:
    """flask-smorest bounds ``page`` below only; one past ``MAX_ID`` is refused here, before
    it can become an SQL offset."""
    for name in ("page", "page_size"):
        value = request.args.get(name, "")
        if value.strip().isdigit() and int(value) > MAX_ID:
            return error_response(
                422, f"Invalid input: {name}", {"query": {name: [f"Must be at most {MAX_ID}."]}}
            )
    return None


def _check_json() -> Response | None:
    if not request.is_json or request.content_length == 0:
        return None
    body = request.get_data(cache=True)
    if json_depth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return error_response(
            400,
            f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels",
            {"json": [f"At most {MAX_JSON_DEPTH} levels of nesting."]},
        )
    return None


def init_app(app: Flask) -> None:
    """Before any blueprint registers its routes, so that every ``<int:...>`` is bounded."""
    app.url_map.converters["int"] = IdConverter
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(_check_pages)
    app.before_request(_check_json)
