"""``/`` is a page, not a 404, and client-side routes never swallow the API's own 404s."""

from __future__ import annotations

import gzip

import pytest

from photon.app import create_app


@pytest.fixture(autouse=True)
def _no_dashboard_built(tmp_path, monkeypatch):
    """Whether ``frontend/dist`` exists in this checkout must not change these tests."""
    monkeypatch.setattr("photon.api.dashboard.dist_dir", lambda: str(tmp_path / "missing"))


def test_root_is_a_page_that_says_what_photon_is(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    for text in ("Photon", "never places a real trade", "/api/docs", "/health", "live"):
        assert text in body


def test_root_says_when_the_data_is_replayed(app_env, redis_client):
    body = create_app({**app_env, "PHOTON_DATA_SOURCE": "replay"}).test_client().get("/")
    assert "<b>replay</b>" in body.get_data(as_text=True)


def test_unknown_api_paths_stay_json_404s_for_every_method(client):
    for method in ("get", "post", "delete"):
        response = getattr(client, method)("/api/trading/nothing-here/")
        assert response.status_code == 404, method
        assert response.json["code"] == 404 and response.json["status"] == "Not Found"


def test_dashboard_routes_fall_back_to_its_index(app, client, tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "app-1234.js").write_text("console.log(1)")
    monkeypatch.setattr("photon.api.dashboard.dist_dir", lambda: str(dist))
    assert "id=root" in client.get("/").get_data(as_text=True)
    assert "id=root" in client.get("/chart/BTCUSDT").get_data(as_text=True)
    asset = client.get("/assets/app-1234.js")
    assert asset.status_code == 200 and asset.get_data(as_text=True) == "console.log(1)"
    assert "max-age=31536000" in asset.headers["Cache-Control"]
    # The build's gzip copy goes to browsers that accept it, and only to them.
    (dist / "assets" / "app-1234.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
    packed = client.get("/assets/app-1234.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and packed.mimetype == "text/javascript"
    assert gzip.decompress(packed.get_data()) == b"console.log(1)"
    assert "Content-Encoding" not in client.get("/assets/app-1234.js").headers
    assert client.get("/api/trading/nothing-here/").status_code == 404
    assert client.get("/api/trading/nothing-here/").json["code"] == 404
