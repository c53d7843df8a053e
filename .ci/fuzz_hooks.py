"""schemathesis hooks for .ci/fuzz.py: log the fuzzer in, and keep its logout calls from
revoking its own login."""

from __future__ import annotations

import os

import requests
import schemathesis

BASE = os.environ["PHOTON_FUZZ_URL"]
USER = {"username": "fuzzer", "password": "correct-horse-9"}
LOGOUT = "/api/auth/logout/"


def _login() -> str:
    response = requests.post(f"{BASE}/api/auth/login/", json=USER, timeout=30)
    response.raise_for_status()
    return response.json()["access"]


@schemathesis.auth()
class PhotonAuth:
    """The fuzzer's bearer token, kept for the whole run. A logout is sent with a throwaway
    login of the same user, so it revokes that one and never the fuzzer's own."""

    def get(self, case, ctx):  # noqa: ANN001, ANN201
        return _login()

    def set(self, case, data, ctx):  # noqa: ANN001, ANN201
        token = _login() if case.operation.path == LOGOUT else data
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {token}"
