from datetime import timedelta

from flask_jwt_extended import create_access_token

from tests.conftest import PASSWORD

ERROR_KEYS = {"code", "status", "message", "errors"}


def test_register_returns_user_without_password(auth):
    response = auth.register("alice")
    assert response.status_code == 201
    body = response.json
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert "password" not in body and "password_hash" not in body


def test_password_is_stored_as_argon2_hash(app, auth):
    from photon.extensions import db
    from photon.models import User

    auth.register("alice")
    with app.app_context():
        user = db.session.query(User).one()
        assert user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash


def test_duplicate_username_and_email_are_conflicts(auth):
    assert auth.register("alice").status_code == 201
    again = auth.register("ALICE", email="other@example.com")
    assert again.status_code == 409
    assert set(again.json) == ERROR_KEYS
    assert "username" in again.json["errors"]
    same_email = auth.register("bob", email="Alice@Example.com")
    assert same_email.status_code == 409
    assert "email" in same_email.json["errors"]


def test_weak_missing_and_invalid_fields_are_422(client):
    cases = [
        ({"username": "alice", "email": "a@example.com", "password": "short1"}, "password"),
        ({"username": "alice", "email": "a@example.com", "password": "password123"}, "password"),
        ({"username": "alice", "email": "a@example.com", "password": "onlyletters"}, "password"),
        ({"username": "alice", "email": "a@example.com", "password": "12345678901"}, "password"),
        ({"username": "alice", "email": "a@example.com"}, "password"),
        ({"username": "al", "email": "a@example.com", "password": PASSWORD}, "username"),
        ({"username": "alice", "email": "not-an-email", "password": PASSWORD}, "email"),
        ({"username": "alice1x", "email": "a@example.com", "password": "ALICE1X"}, "password"),
    ]
    for body, field in cases:
        response = client.post("/api/auth/register/", json=body)
        assert response.status_code == 422, body
        assert set(response.json) == ERROR_KEYS
        assert field in response.json["errors"]["json"], (body, response.json)


def test_malformed_json_is_400_in_error_shape(client):
    response = client.post(
        "/api/auth/register/", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json) == ERROR_KEYS
    assert "JSON" in response.json["message"]


def test_login_by_username_or_email_and_me(client, auth):
    auth.register("alice")
    for identity in (
        {"username": "alice"},
        {"username": "alice@example.com"},
        {"email": "ALICE@example.com"},
    ):
        tokens = client.post("/api/auth/login/", json={**identity, "password": PASSWORD}).json
        assert set(tokens) == {"access", "refresh"}
        me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {tokens['access']}"})
        assert me.status_code == 200
        assert me.json["username"] == "alice"


def test_wrong_password_and_unknown_user_are_401(client, auth):
    auth.register("alice")
    wrong = client.post("/api/auth/login/", json={"username": "alice", "password": "nope-nope1"})
    assert wrong.status_code == 401
    assert set(wrong.json) == ERROR_KEYS
    ghost = client.post("/api/auth/login/", json={"username": "ghost", "password": PASSWORD})
    assert ghost.status_code == 401
    missing = client.post("/api/auth/login/", json={"password": PASSWORD})
    assert missing.status_code == 422


def test_refresh_issues_a_working_access_token(client, auth):
    auth.register("alice")
    tokens = auth.login("alice")
    response = client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]})
    assert response.status_code == 200
    me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {response.json['access']}"})
    assert me.status_code == 200


def test_refresh_rejects_access_tokens_and_garbage(client, auth):
    auth.register("alice")
    tokens = auth.login("alice")
    assert client.post("/api/auth/refresh/", json={"refresh": tokens["access"]}).status_code == 401
    assert client.post("/api/auth/refresh/", json={"refresh": "x.y.z"}).status_code == 401
    assert client.post("/api/auth/refresh/", json={}).status_code == 422


def test_logout_revokes_access_and_refresh(client, auth, redis_client):
    auth.register("alice")
    tokens = auth.login("alice")
    headers = {"Authorization": f"Bearer {tokens['access']}"}
    assert client.post("/api/auth/logout/", headers=headers).status_code == 204
    revoked = client.get("/api/auth/me/", headers=headers)
    assert revoked.status_code == 401
    assert revoked.json["message"] == "Token has been revoked"
    assert client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]}).status_code == 401
    keys = redis_client.keys("photon:revoked:*")
    assert len(keys) == 2
    assert all(0 < redis_client.ttl(key) <= 7 * 86400 + 1 for key in keys)


def test_logout_revokes_a_refreshed_login_too(client, auth):
    auth.register("alice")
    tokens = auth.login("alice")
    access = client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]}).json["access"]
    headers = {"Authorization": f"Bearer {access}"}
    assert client.post("/api/auth/logout/", headers=headers).status_code == 204
    assert client.post("/api/auth/refresh/", json={"refresh": tokens["refresh"]}).status_code == 401


def test_jwt_errors_use_the_error_shape(app, client, auth):
    auth.register("alice")
    with app.app_context():
        expired = create_access_token(identity="1", expires_delta=timedelta(seconds=-10))
        ghost = create_access_token(identity="999")
    cases = {
        "missing": {},
        "malformed": {"Authorization": "Bearer not-a-token"},
        "wrong scheme": {"Authorization": "Token abc"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "deleted user": {"Authorization": f"Bearer {ghost}"},
    }
    for name, headers in cases.items():
        response = client.get("/api/auth/me/", headers=headers)
        assert response.status_code == 401, name
        assert set(response.json) == ERROR_KEYS, name
    expired_body = client.get("/api/auth/me/", headers=cases["expired"]).json
    assert "expired" in expired_body["message"]
