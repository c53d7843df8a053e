"""One log format for every process (web, worker, scheduler, CLI)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
