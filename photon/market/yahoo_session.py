"""The HTTP session Photon hands to yfinance.

It is a curl_cffi session impersonating Chrome, as yfinance's own default is, with three additions:

* **Bounded time.** yfinance passes its own timeouts, and its cookie and crumb requests use 30 s.
  Every request here is capped at the provider's timeout and at the deadline of the current call,
  and a request that would start after that deadline fails at once as a timeout.
* **A configurable endpoint.** With ``base_url`` set (``PHOTON_YAHOO_URL``), every request to a
  ``*.yahoo.com`` host (query1, query2, fc, guce, consent, finance) goes to that base URL instead,
  keeping path and query, so tests and demos can run against a local server.
* **The last HTTP status.** yfinance does not raise on a 5xx chart response; it tries to parse the
  body. Knowing the status lets the provider report "HTTP 502" rather than "garbage".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from curl_cffi import requests as curl_requests

YAHOO_DOMAIN = "yahoo.com"


class BudgetExhausted(curl_requests.exceptions.Timeout):
    """No time is left for another request in this call.

    A curl_cffi ``Timeout`` so that yfinance handles it exactly like a real one.
    """


class YahooSession(curl_requests.Session):
    def __init__(self, base_url: str | None = None, timeout: float = 5.0) -> None:
        super().__init__(impersonate="chrome", timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.request_timeout = timeout
        self._local = threading.local()

    def rewrite(self, url: str) -> str:
        """``url`` moved onto ``base_url`` when it points at a Yahoo host and a base is set."""
        if not self.base_url:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != YAHOO_DOMAIN and not host.endswith("." + YAHOO_DOMAIN):
            return url
        path = parts.path or "/"
        return f"{self.base_url}{path}" + (f"?{parts.query}" if parts.query else "")

    @contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        """Within the block, no request may run past monotonic time ``at``."""
        previous = getattr(self._local, "deadline", None)
        self._local.deadline = at
        self._local.last_status = None
        try:
            yield
        finally:
            self._local.deadline = previous

    @property
    def last_status(self) -> int | None:
        """Status of the latest response on this thread inside the current ``deadline`` block."""
        return getattr(self._local, "last_status", None)

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs["timeout"] = self._bounded_timeout(kwargs.get("timeout"))
        response = super().request(method, self.rewrite(url), *args, **kwargs)
        self._local.last_status = response.status_code
        return response

    def _bounded_timeout(self, asked: Any) -> float:
        timeout = self.request_timeout
        if isinstance(asked, int | float) and asked > 0:
            timeout = min(timeout, float(asked))
        at = getattr(self._local, "deadline", None)
        if at is not None:
            left = at - time.monotonic()
            if left <= 0:
                raise BudgetExhausted("Photon's time budget for this call is spent")
            timeout = min(timeout, left)
        return timeout
