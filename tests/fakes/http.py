"""What the fake exchange's route handlers return, and small helpers to build it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json;charset=utf-8"
    cookies: list[str] = field(default_factory=list)
    # Promise the whole body in Content-Length, send half, and hang up: a cut connection.
    cut_transfer: bool = False


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(body, separators=(",", ":")).encode(), headers or {})


def text_reply(status: int, text: str, content_type: str = "text/html;charset=utf-8") -> Reply:
    return Reply(status, text.encode(), content_type=content_type)


@cache
def _read(path: Path) -> str:
    return path.read_text()


def load_json(path: Path) -> Any:
    """A fresh copy of a recorded JSON file (callers may mutate it)."""
    return json.loads(_read(path))


def load_bytes(path: Path) -> bytes:
    return _read(path).encode()
