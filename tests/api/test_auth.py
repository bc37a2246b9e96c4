"""The authentication and authorization policy, through the real app: who may read, who may change."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.config import Settings
from tests.api.conftest import ADMIN, VIEWER, bearer, make_client, secured_service

READ = "/api/v1/system/gpus"


def _secret(settings: Settings) -> bytes:
    return (settings.data_dir / "jwt_secret").read_bytes().strip()


def _token(secret: bytes, **overrides: object) -> str:
    now = int(time.time())
    claims = {"sub": ADMIN[0], "role": "admin", "typ": "access", "iss": "gpu-sentinel", "iat": now}
    claims |= {"exp": now + 60, **overrides}
    return jwt.encode(claims, secret, algorithm="HS256")


def _unsigned_token() -> str:
    now = int(time.time())
    claims = {
        "sub": ADMIN[0],
        "role": "admin",
        "typ": "access",
        "iss": "gpu-sentinel",
        "iat": now,
        "exp": now + 60,
    }
    return jwt.encode(claims, None, algorithm="none")


def _assert_401(response: object, code: str) -> None:
    assert response.status_code == 401  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == code and body["detail"] and body["timestamp"]
    assert response.headers["www-authenticate"].startswith('Bearer realm="gpu-sentinel"')  # type: ignore[attr-defined]


def test_no_token_is_refused_with_a_clear_body(secured: TestClient) -> None:
    _assert_401(secured.get(READ), "not_authenticated")


def test_viewer_token_reads(secured: TestClient) -> None:
    response = secured.get(READ, headers=bearer(secured, VIEWER))
    assert response.status_code == 200
    assert len(response.json()["gpus"]) == 2


@pytest.mark.parametrize(
    ("make_token", "detail"),
    [
        (lambda secret: _token(secret, exp=int(time.time()) - 5), "expired"),
        (lambda secret: _token(b"x" * 48), "signature"),
        (lambda secret: "not.a.jwt", "malformed"),
        (lambda secret: _token(secret, typ="refresh"), "refresh token cannot be used"),
        (lambda secret: _token(secret, sub="nobody"), "no longer exists"),
        (lambda secret: _unsigned_token(), "not allowed"),
    ],
    ids=["expired", "wrong-signature", "malformed", "refresh-as-access", "unknown-user", "alg-none"],
)
def test_bad_tokens_are_refused(
    secured: TestClient, secured_settings: Settings, make_token, detail: str
) -> None:  # type: ignore[no-untyped-def]
    token = make_token(_secret(secured_settings))
    response = secured.get(READ, headers={"Authorization": f"Bearer {token}"})
    _assert_401(response, "invalid_token")
    assert detail in response.json()["detail"]
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_the_cached_hot_path_still_enforces_auth(secured: TestClient) -> None:
    headers = bearer(secured, VIEWER)
    assert secured.get(READ, headers=headers).status_code == 200
    assert secured.get(READ, headers=headers).status_code == 200
    assert secured.get(READ).status_code == 401
    assert secured.get(READ, headers={"Authorization": "Bearer forged"}).status_code == 401


def test_viewer_cannot_manage_users_and_admin_can(secured: TestClient) -> None:
    viewer, admin = bearer(secured, VIEWER), bearer(secured, ADMIN)
    new_user = {"username": "carol", "password": "carol-password", "role": "viewer"}
    refused = secured.post("/api/v1/users", json=new_user, headers=viewer)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden" and "admin" in refused.json()["detail"]
    assert secured.get("/api/v1/users", headers=viewer).status_code == 403

    created = secured.post("/api/v1/users", json=new_user, headers=admin)
    assert created.status_code == 201 and created.json()["role"] == "viewer"
    names = [user["username"] for user in secured.get("/api/v1/users", headers=admin).json()]
    assert names == sorted([ADMIN[0], VIEWER[0], "carol"])
    assert secured.post("/api/v1/users", json=new_user, headers=admin).status_code == 409


def test_role_changes_and_removal_apply_to_tokens_already_issued(secured: TestClient) -> None:
    admin, viewer = bearer(secured, ADMIN), bearer(secured, VIEWER)
    promoted = secured.patch(f"/api/v1/users/{VIEWER[0]}", json={"role": "admin"}, headers=admin)
    assert promoted.json()["role"] == "admin"
    assert secured.get("/api/v1/users", headers=viewer).status_code == 200
    assert secured.delete(f"/api/v1/users/{VIEWER[0]}", headers=admin).status_code == 204
    assert secured.get(READ, headers=viewer).status_code == 401


def test_the_last_admin_cannot_be_removed(secured: TestClient) -> None:
    admin = bearer(secured, ADMIN)
    response = secured.delete(f"/api/v1/users/{ADMIN[0]}", headers=admin)
    assert response.status_code == 409 and response.json()["error"] == "last_admin"


def test_mutations_need_a_token_even_where_reads_are_anonymous(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0)
    with make_client(settings, secured_service(settings)) as client:
        assert client.get(READ).status_code == 200
        assert client.get("/api/v1/auth/me").json() == {
            "username": None,
            "role": "viewer",
            "anonymous": True,
            "anonymous_read": True,
        }
        _assert_401(
            client.post("/api/v1/users", json={"username": "x", "password": "12345678"}), "not_authenticated"
        )
        _assert_401(client.get("/api/v1/users"), "not_authenticated")


def test_anonymous_reads_refused_when_turned_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, anonymous_read=False)
    with make_client(settings, secured_service(settings)) as client:
        assert client.get(READ).status_code == 401
        assert client.get("/metrics").status_code == 401
        assert client.get("/api/v1/auth/me").status_code == 401
        assert client.get("/api/v1/health").status_code == 200


def test_anonymous_reads_are_off_by_default_off_loopback(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, host="0.0.0.0", gpu_poll_interval=0.05, rate_limit=0)
    with make_client(settings, secured_service(settings)) as client:
        assert client.get(READ).status_code == 401


def test_public_metrics_serve_prometheus_without_a_token(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, anonymous_read=False, public_metrics=True, rate_limit=0)
    with make_client(settings, secured_service(settings)) as client:
        assert client.get("/metrics").status_code == 200
        assert client.get(READ).status_code == 401


def test_login_refresh_and_me(secured: TestClient) -> None:
    login = secured.post("/api/v1/auth/login", json={"username": VIEWER[0], "password": VIEWER[1]})
    body = login.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["role"] == "viewer"
    assert login.headers["cache-control"] == "no-store"
    refreshed = secured.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200
    me = secured.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    )
    assert me.json() == {"username": VIEWER[0], "role": "viewer", "anonymous": False, "anonymous_read": False}
    access_as_refresh = secured.post("/api/v1/auth/refresh", json={"refresh_token": body["access_token"]})
    _assert_401(access_as_refresh, "invalid_token")


def test_oauth2_password_form_for_the_docs(secured: TestClient) -> None:
    response = secured.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 200 and response.json()["role"] == "admin"


def test_wrong_password_and_unknown_user_look_the_same(secured: TestClient) -> None:
    wrong = secured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": "wrong-password"})
    unknown = secured.post("/api/v1/auth/login", json={"username": "ghost", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Invalid user name or password"


def test_repeated_failed_logins_lock_the_user_out_for_that_client(secured: TestClient) -> None:
    attempt = {"username": ADMIN[0], "password": "guess-password"}
    statuses = [secured.post("/api/v1/auth/login", json=attempt).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    locked = secured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert locked.status_code == 429 and locked.json()["error"] == "login_locked"
    assert int(locked.headers["retry-after"]) >= 1
    other = secured.post("/api/v1/auth/login", json={"username": VIEWER[0], "password": VIEWER[1]})
    assert other.status_code == 200


def test_user_input_is_validated_with_clear_messages(secured: TestClient) -> None:
    admin = bearer(secured, ADMIN)
    short = secured.post("/api/v1/users", json={"username": "dave", "password": "short"}, headers=admin)
    assert short.status_code == 422 and "password" in short.json()["detail"]
    bad_name = secured.post(
        "/api/v1/users", json={"username": "../etc", "password": "long-enough"}, headers=admin
    )
    assert bad_name.status_code == 422 and "username" in bad_name.json()["detail"]
    bad_role = secured.post(
        "/api/v1/users", json={"username": "dave", "password": "long-enough", "role": "root"}, headers=admin
    )
    assert bad_role.status_code == 422 and "role" in bad_role.json()["detail"]
