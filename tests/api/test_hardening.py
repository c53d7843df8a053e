"""What an outside probe found, fixed in the API: out-of-range ids, deep or huge bodies, far
dates, forged or malformed tokens, logout bodies, rotation, rate limits, headers and CORS.
Every breach is a 4xx in the one error shape, never a 500."""

from __future__ import annotations

import json
import time

import pytest
import redis
from flask_jwt_extended import create_access_token
from jwt import encode

from photon import security
from photon.app import create_app
from photon.config import DEFAULT_SECRET
from tests.conftest import PASSWORD

ERROR_KEYS = {"code", "status", "message", "errors"}
BIG = 2**63  # one past the largest 64-bit id
SYMBOLS = "/api/trading/symbols/"
MONITOR = "/api/trading/agents/market-monitor/"


def _error(response, code: int) -> dict:
    assert response.status_code == code, (response.status_code, response.get_data(as_text=True))
    assert set(response.json) == ERROR_KEYS
    return response.json


def test_ids_and_pages_out_of_range_are_404_or_422(client, auth):
    headers = auth.headers()
    for path in (
        f"/api/trading/orders/{BIG}/",
        f"/api/trading/decisions/{BIG}/",
        f"/api/trading/symbols/{BIG}/",
        f"/api/trading/orders/{10**40}/",
    ):
        _error(client.get(path, headers=headers), 404)
    for query in (
        f"symbol_id={BIG}",
        "symbol_id=0",
        "symbol_id=1.5",
        f"page={BIG}",
        f"page_size={10**30}",
    ):
        _error(client.get(f"/api/trading/decisions/?{query}", headers=headers), 422)
    _error(client.get(f"/api/trading/market-data/bars/?symbol_id={BIG}", headers=headers), 422)
    for body in ({"symbol_id": BIG}, {"symbol_id": 1.5}, {"symbol_id": "1"}, {"symbol_id": True}):
        _error(client.post("/api/trading/decisions/", json=body, headers=headers), 422)
    refresh = client.post(
        "/api/trading/market-data/refresh/", json={"symbol_ids": [BIG]}, headers=headers
    )
    _error(refresh, 422)
    # A page past the last is simply empty.
    far = client.get(f"/api/trading/orders/?page={BIG - 1}", headers=headers)
    assert far.status_code == 200 and far.json == []


def test_deep_and_huge_json_bodies_are_refused_in_the_error_shape(client, auth):
    deep = "[" * 1000 + "]" * 1000
    for path in ("/api/auth/login/", "/api/auth/register/", "/api/trading/symbols/"):
        response = client.post(path, data=deep, content_type="application/json")
        assert "nests deeper" in _error(response, 400)["message"]
    # Brackets inside strings are text, not nesting.
    quoted = json.dumps({"username": "[" * 500, "password": "x"})
    assert (
        client.post("/api/auth/login/", data=quoted, content_type="application/json").status_code
        == 401
    )
    huge = json.dumps({"symbol": "A" * (100 * 1024)})
    _error(
        client.post(
            "/api/trading/symbols/",
            data=huge,
            content_type="application/json",
            headers=auth.headers(),
        ),
        413,
    )


def test_dates_are_bounded(client, auth):
    headers = auth.headers()
    for query in ("end=9999-12-31T23:59:59Z", "start=1000-01-01T00:00:00Z"):
        _error(client.get(f"/api/trading/market-data/?{query}", headers=headers), 422)
    bars = client.get(
        "/api/trading/market-data/bars/?symbol_id=1&end=9999-12-31T23:59:59Z", headers=headers
    )
    _error(bars, 422)


def test_malformed_and_forged_tokens_are_401(app, client, auth):
    auth.register("alice")
    secret = app.config["JWT_SECRET_KEY"]
    now = int(time.time())
    forged = {
        "non-integer sub": encode(
            {"sub": "alice", "jti": "x", "type": "access", "exp": now + 60, "iat": now, "nbf": now},
            secret,
            "HS256",
        ),
        "missing jti": encode(
            {"sub": "1", "type": "access", "exp": now + 60, "iat": now, "nbf": now}, secret, "HS256"
        ),
        "published dev key": encode(
            {"sub": "1", "jti": "y", "type": "access", "exp": now + 60, "iat": now, "nbf": now},
            DEFAULT_SECRET,
            "HS256",
        ),
    }
    for name, token in forged.items():
        response = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {token}"})
        assert _error(response, 401), name
        assert response.json["message"].startswith(("Invalid token", "Signature")), name


def test_development_signs_with_a_random_key_kept_in_the_instance_folder(tmp_path, app_env):
    env = {k: v for k, v in app_env.items() if k != "JWT_SECRET_KEY"}
    first, second = create_app(env), create_app(env)
    key = first.config["JWT_SECRET_KEY"]
    assert key == second.config["JWT_SECRET_KEY"] != DEFAULT_SECRET and len(key) >= 32
    published = create_app({**env, "JWT_SECRET_KEY": DEFAULT_SECRET})
    assert published.config["JWT_SECRET_KEY"] == key  # the published key is never used


def test_logout_with_any_body_revokes_the_token(client, auth):
    auth.register("alice")
    for body in ([], "null", 7, {"refresh": None}):
        headers = {"Authorization": f"Bearer {auth.login('alice')['access']}"}
        payload = body if isinstance(body, str) else json.dumps(body)
        response = client.post(
            "/api/auth/logout/", data=payload, headers=headers, content_type="application/json"
        )
        if body == {"refresh": None}:
            assert response.status_code == 422
            continue
        assert response.status_code == 204, (body, response.json)
        assert client.get("/api/auth/me/", headers=headers).status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_login(client, auth):
    auth.register("alice")
    first = auth.login("alice")
    second = client.post("/api/auth/refresh/", json={"refresh": first["refresh"]}).json
    assert set(second) == {"access", "refresh"} and second["refresh"] != first["refresh"]
    me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {second['access']}"})
    assert me.status_code == 200
    third = client.post("/api/auth/refresh/", json={"refresh": second["refresh"]})
    assert third.status_code == 200
    # The first refresh token again: a replay. The whole login goes, newest tokens included.
    replay = client.post("/api/auth/refresh/", json={"refresh": first["refresh"]})
    assert "already used" in _error(replay, 401)["message"]
    for token in (second["access"], third.json["access"]):
        me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
    _error(client.post("/api/auth/refresh/", json={"refresh": third.json["refresh"]}), 401)
    # Another login of the same user is untouched.
    other = auth.login("alice")
    headers = {"Authorization": f"Bearer {other['access']}"}
    assert client.get("/api/auth/me/", headers=headers).status_code == 200


@pytest.fixture
def strict_client(app_env, redis_client):
    app = create_app(
        {
            **app_env,
            "PHOTON_LOGIN_RATE_LIMIT": "5/minute",
            "PHOTON_LOGIN_FAILURE_LIMIT": "3/minute",
            "PHOTON_REGISTER_RATE_LIMIT": "2/minute",
        }
    )
    return app.test_client()


def test_login_and_register_are_rate_limited_with_retry_after(strict_client, app):
    client = strict_client
    for name in ("ann", "bob"):
        body = {"username": name, "email": f"{name}@example.com", "password": "correct-horse-9"}
        assert client.post("/api/auth/register/", json=body).status_code == 201
    third = client.post(
        "/api/auth/register/",
        json={"username": "cyd", "email": "cyd@example.com", "password": "correct-horse-9"},
    )
    assert _error(third, 429) and int(third.headers["Retry-After"]) > 0
    # Wrong passwords for one account: the fourth try is refused even with the right one.
    for _ in range(3):
        bad = client.post("/api/auth/login/", json={"username": "ann", "password": "nope-nope-1"})
        assert bad.status_code == 401
    locked = client.post(
        "/api/auth/login/", json={"username": "ann", "password": "correct-horse-9"}
    )
    assert _error(locked, 429) and int(locked.headers["Retry-After"]) > 0
    # Another account from the same address still logs in, up to the per-address limit.
    assert (
        client.post(
            "/api/auth/login/", json={"username": "bob", "password": "correct-horse-9"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/auth/login/", json={"username": "bob", "password": "correct-horse-9"}
        ).status_code
        == 429
    )


def test_an_unknown_user_costs_a_password_check_too(app, client, auth, monkeypatch):
    auth.register("alice")
    checks = []
    with app.app_context():
        real = security._hasher().verify
    monkeypatch.setattr(
        type(app.extensions["photon.hasher"]),
        "verify",
        lambda self, stored, password: checks.append(stored) or real(stored, password),
    )
    for name in ("alice", "nobody-at-all"):
        assert (
            client.post(
                "/api/auth/login/", json={"username": name, "password": "wrong-one-1"}
            ).status_code
            == 401
        )
    assert len(checks) == 2 and checks[0] != checks[1]  # the real hash, then the dummy one


def test_security_headers_and_no_store_on_tokens(client, auth):
    auth.register("alice")
    login = client.post(
        "/api/auth/login/", json={"username": "alice", "password": "correct-horse-9"}
    )
    assert login.headers["Cache-Control"] == "no-store"
    for response in (
        login,
        client.get("/health"),
        client.get("/"),
        client.get("/api/trading/nothing/"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"]


def test_cors_is_same_origin_unless_configured(app_env, redis_client, client):
    origin = {"Origin": "https://evil.example"}
    assert "Access-Control-Allow-Origin" not in client.get("/health", headers=origin).headers
    allowed = create_app({**app_env, "PHOTON_CORS_ORIGINS": "https://app.example"})
    ok = allowed.test_client().options(
        "/api/auth/login/", headers={"Origin": "https://app.example"}
    )
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in ok.headers["Access-Control-Allow-Headers"]
    other = allowed.test_client().get("/health", headers=origin)
    assert "Access-Control-Allow-Origin" not in other.headers


def test_the_database_down_is_a_503_in_the_error_shape(app_env, redis_client):
    down = create_app({**app_env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    client = down.test_client()
    with down.app_context():
        token = create_access_token(identity="1", additional_claims={"fam": "f"})
    response = client.get("/api/trading/symbols/", headers={"Authorization": f"Bearer {token}"})
    assert _error(response, 503) and response.headers["Retry-After"]
    assert _error(client.post("/api/auth/login/", json={"username": "a", "password": "b"}), 503)


def test_redis_down_keeps_database_reads_and_refuses_jobs_with_a_503(app_env, client, auth):
    headers = auth.headers("alice")
    assert client.post(SYMBOLS, json={"symbol": "BTC"}, headers=headers).status_code == 201
    down = create_app({**app_env, "REDIS_URL": "redis://127.0.0.1:1/0"}).test_client()
    listed = down.get(SYMBOLS, headers=headers)
    assert listed.status_code == 200 and [s["symbol"] for s in listed.json] == ["BTCUSDT"]
    logged_in = down.post("/api/auth/login/", json={"username": "alice", "password": PASSWORD})
    assert logged_in.status_code == 200  # the limiter lets requests pass while Redis is away
    started = down.post(MONITOR, json={"action": "start"}, headers=headers)
    assert _error(started, 503) and started.headers["Retry-After"]


def test_a_logout_while_redis_is_down_holds_and_reaches_redis_when_it_is_back(
    app, app_env, client, auth, redis_client
):
    headers = auth.headers("alice")
    real = app.extensions["redis"]
    app.extensions["redis"] = redis.Redis.from_url("redis://127.0.0.1:1/0")
    try:
        assert client.post("/api/auth/logout/", headers=headers).status_code == 204
        _error(client.get(SYMBOLS, headers=headers), 401)
    finally:
        app.extensions["redis"] = real
    _error(client.get(SYMBOLS, headers=headers), 401)  # Redis is back: the revocation goes there
    assert redis_client.keys("photon:revoked:*") and redis_client.keys("photon:revoked-login:*")
    elsewhere = create_app(app_env).test_client()  # another web process
    _error(elsewhere.get(SYMBOLS, headers=headers), 401)


def test_the_spec_declares_public_operations_and_the_pagination_header(client):
    spec = client.get("/api/openapi.json").json
    public = {
        ("/api/auth/register/", "post"),
        ("/api/auth/login/", "post"),
        ("/api/auth/refresh/", "post"),
        ("/health", "get"),
    }
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in ("get", "post", "delete", "put", "patch"):
                continue
            if (path, method) in public:
                assert op.get("security") == [], (path, method)
            else:
                assert op.get("security") in (None, [{"bearerAuth": []}]), (path, method)
            headers = op["responses"].get("200", {}).get("headers", {})
            if "X-Pagination" in headers:
                assert headers["X-Pagination"]["schema"] == {"type": "string"}


def test_nul_characters_never_reach_the_database(client, auth):
    auth.register("alice")
    for body in (
        {"username": "al\x00ice", "password": "x"},
        {"email": "a\x00@b.c", "password": "x"},
    ):
        assert _error(client.post("/api/auth/login/", json=body), 422)
    assert _error(
        client.post(
            "/api/trading/symbols/", json={"symbol": "AA\x00PL"}, headers=auth.headers("bob")
        ),
        422,
    )
