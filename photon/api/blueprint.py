"""flask-smorest's Blueprint, documenting the ``X-Pagination`` header as what it is on the
wire: a string holding JSON (``{"total": 12, "total_pages": 1, ...}``), not an object."""

from __future__ import annotations

from typing import Any

import flask_smorest

PAGINATION_HEADER_DOC = {
    "description": 'Pagination metadata as a JSON string: {"total", "total_pages", '
    '"first_page", "last_page", "page", "previous_page", "next_page"}',
    "schema": {"type": "string"},
}


class Blueprint(flask_smorest.Blueprint):
    def _document_pagination_metadata(self, spec: Any, resp_doc: dict) -> None:
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER_DOC
