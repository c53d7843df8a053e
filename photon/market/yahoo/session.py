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

yfinance itself keeps one process-wide ``YfData`` (its session, cookie and crumb) and global config;
``YF_LOCK`` serialises every use of it, and ``yfinance_data`` hands it the session to use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from curl_cffi import requests as curl_requests
from yfinance.data import YfData

YAHOO_DOMAIN = "yahoo.com"

# Held around every call into yfinance: its YfData singleton and its config are process-wide.
YF_LOCK = threading.Lock()
_bound_session: Any = None


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


# --- yfinance's cookie and crumb ------------------------------------------------------------------
#
# ``YfData.get`` adds Yahoo's crumb to a request, fetching cookie and crumb first when it has none,
# and on a 4xx/5xx answer switches cookie strategy, fetches both afresh and repeats the request
# once. In 1.7.0 it keeps the crumb in memory (``_crumb``) but asks for the cookie on every
# request: ``_get_cookie_basic`` skips the fc.yahoo.com visit only when ``_cookie`` is set, which
# happens when the cookie was read back from yfinance's disk cache, and that cache keeps only a
# cookie from a single yahoo.com domain (never one from ``base_url``, and not at all when the cache
# folder is unusable). The two helpers below make that state follow the session instead. They set
# private YfData attributes (``_crumb``, ``_cookie``, ``_cookie_strategy``), checked against
# yfinance 1.7.0; should those go, they do nothing and a cycle costs one cookie visit more (the
# provider tests count requests and would show it).


def yfinance_data(session: Any) -> YfData:
    """yfinance's ``YfData`` singleton, now using ``session``; the caller holds ``YF_LOCK``.

    A crumb is only good with the cookie it was issued for, which lives in one session's jar: when
    the session changes, the crumb and cookie yfinance holds are dropped, so the first request on
    ``session`` fetches its own pair instead of failing with a foreign crumb.
    """
    global _bound_session
    data = YfData(session=session)
    if _bound_session is not session:
        for attr, value in (("_crumb", None), ("_cookie", None), ("_cookie_strategy", "basic")):
            if hasattr(data, attr):
                setattr(data, attr, value)
        _bound_session = session
    return data


def keep_cookie(data: YfData, session: Any) -> None:
    """After a request Yahoo accepted, tell yfinance the session holds its cookie.

    yfinance's own consent ("csrf") path does the same; its basic path relies on the disk cache
    instead and, when that cannot supply the cookie, visits fc.yahoo.com before every request. A
    rejected crumb still makes yfinance drop both and start again, so no stale cookie is kept.
    """
    if getattr(data, "_cookie", False) is not None:
        return
    cookies = session.cookies
    if len(getattr(cookies, "jar", cookies)):
        data._cookie = True
