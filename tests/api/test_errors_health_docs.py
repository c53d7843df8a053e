import logging

import pytest

ERROR_KEYS = {"code", "status", "message", "errors"}


def test_404_and_405_use_the_error_shape(client):
    missing = client.get("/api/nothing/here/")
    assert missing.status_code == 404
    assert set(missing.json) == ERROR_KEYS
    wrong_method = client.put("/api/auth/login/")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json) == ERROR_KEYS
    assert "POST" in wrong_method.headers["Allow"]


def test_post_without_trailing_slash_is_served_not_redirected(client, auth):
    response = client.post(
        "/api/auth/register",
        json={"username": "carol", "email": "carol@example.com", "password": "correct-horse-9"},
    )
    assert response.status_code == 201


def test_unexpected_error_is_500_without_traceback_and_logged(app, client, caplog):
    @app.get("/api/boom")
    def boom():
        raise RuntimeError("secret internals")

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/boom")
    assert response.status_code == 500
    assert set(response.json) == ERROR_KEYS
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert any("secret internals" in (r.exc_text or "") or r.exc_info for r in caplog.records)


def test_health_reports_database_and_redis(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok", "data_source": "live"}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_health_is_503_when_redis_is_down(app_env, redis_client):
    from photon.app import create_app

    app = create_app({**app_env, "REDIS_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["redis"].startswith("unreachable")
    assert response.json["database"] == "ok"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_health_is_503_when_database_is_down(app_env, redis_client, tmp_path):
    from photon.app import create_app

    app = create_app({**app_env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.json["database"].startswith("unreachable")


def test_openapi_spec_and_offline_swagger_ui(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert spec.json["openapi"].startswith("3.0.")
    assert "/api/auth/login/" in spec.json["paths"]
    assert "/api/trading/symbols/{symbol_id}/" in spec.json["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html
    assert "//" not in html.split("swagger-ui-bundle.js")[0].rsplit("src=", 1)[1].replace(
        "/api/docs/static/", ""
    )
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-ui-standalone-preset.js"):
        assert client.get(f"/api/docs/static/{asset}").status_code == 200
