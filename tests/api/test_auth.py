"""The authentication and authorization policy, through the real app: who may read, who may change."""

from __future__ import annotations

import logging
import time
from contextlib import ExitStack
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.api.conftest import ADMIN, VIEWER, bearer, make_client, secured_service

READ = "/api/v1/system/gpus"


def _secret(settings: Settings) -> bytes:
    return (settings.data_dir / "jwt_secret").read_bytes().strip()


def _token(secret: bytes, **overrides: object) -> str:
    now = int(time.time())
    claims = {"sub": ADMIN[0], "role": "admin", "typ": "access", "iss": "gpu-sentinel", "iat": now}
    claims |= {"uid": "some-id", "gen": 0, "jti": "some-token"}
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
        (lambda secret: _token(secret, typ="refresh", fam="f"), "refresh token cannot be used"),
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


def test_role_changes_and_removal_revoke_tokens_already_issued(secured: TestClient) -> None:
    admin, viewer = bearer(secured, ADMIN), bearer(secured, VIEWER)
    promoted = secured.patch(f"/api/v1/users/{VIEWER[0]}", json={"role": "admin"}, headers=admin)
    assert promoted.json()["role"] == "admin"
    revoked = secured.get(READ, headers=viewer)
    _assert_401(revoked, "invalid_token")
    assert "role change" in revoked.json()["detail"]
    viewer = bearer(secured, VIEWER)
    assert secured.get("/api/v1/users", headers=viewer).status_code == 200  # the new role, after a login
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


def test_logins_beyond_the_hashing_bound_are_refused_not_queued(secured: TestClient) -> None:
    hashing = secured.app.state.service.auth.hashing  # type: ignore[attr-defined]
    right = {"username": ADMIN[0], "password": ADMIN[1]}
    with ExitStack() as held:
        for _ in range(hashing.slots):
            held.enter_context(hashing.slot())
        busy = secured.post("/api/v1/auth/login", json=right)
        assert busy.status_code == 429 and busy.json()["error"] == "login_busy"
        assert busy.headers["retry-after"] == "1"
    assert secured.post("/api/v1/auth/login", json=right).status_code == 200


def test_failed_logins_and_lockouts_leave_an_audit_line_without_the_password(
    secured: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    attempt = {"username": ADMIN[0], "password": "guess-password-x"}
    with caplog.at_level(logging.INFO, logger="gpu_sentinel.audit"):
        for _ in range(6):
            secured.post("/api/v1/auth/login", json=attempt)
    lines = [record.getMessage() for record in caplog.records if record.name == "gpu_sentinel.audit"]
    failed = [line for line in lines if "outcome=bad_credentials" in line]
    assert len(failed) == 5 and f"user='{ADMIN[0]}'" in failed[0] and "client=testclient" in failed[0]
    assert any(line.startswith("login locked:") for line in lines)
    assert any("outcome=locked" in line for line in lines)
    assert "guess-password-x" not in caplog.text


def _login(client: TestClient, user: tuple[str, str]) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": user[0], "password": user[1]})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _refresh(client: TestClient, refresh_token: str) -> object:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_refresh_tokens_work_once_and_reuse_revokes_the_session(secured: TestClient) -> None:
    first = _login(secured, VIEWER)
    second = _refresh(secured, first["refresh_token"])
    assert second.status_code == 200  # type: ignore[attr-defined]
    reused = _refresh(secured, first["refresh_token"])
    _assert_401(reused, "invalid_token")
    assert "already used" in reused.json()["detail"]  # type: ignore[attr-defined]
    # The thief or the owner, whoever comes second, ends the whole session: its newest token dies too.
    _assert_401(_refresh(secured, second.json()["refresh_token"]), "invalid_token")  # type: ignore[attr-defined]
    other_session = _login(secured, VIEWER)  # other logins are not affected
    assert _refresh(secured, other_session["refresh_token"]).status_code == 200  # type: ignore[attr-defined]


def test_a_password_change_revokes_every_earlier_token(secured: TestClient) -> None:
    admin = bearer(secured, ADMIN)
    before = _login(secured, VIEWER)
    changed = secured.patch(f"/api/v1/users/{VIEWER[0]}", json={"password": "new-viewer-pass"}, headers=admin)
    assert changed.status_code == 200
    _assert_401(
        secured.get(READ, headers={"Authorization": f"Bearer {before['access_token']}"}), "invalid_token"
    )
    _assert_401(_refresh(secured, before["refresh_token"]), "invalid_token")
    after = _login(secured, (VIEWER[0], "new-viewer-pass"))
    assert secured.get(READ, headers={"Authorization": f"Bearer {after['access_token']}"}).status_code == 200


def test_a_re_created_name_does_not_inherit_old_tokens(secured: TestClient) -> None:
    admin = bearer(secured, ADMIN)
    old = _login(secured, VIEWER)
    assert secured.delete(f"/api/v1/users/{VIEWER[0]}", headers=admin).status_code == 204
    recreated = {"username": VIEWER[0], "password": VIEWER[1], "role": "viewer"}
    assert secured.post("/api/v1/users", json=recreated, headers=admin).status_code == 201
    _assert_401(
        secured.get(READ, headers={"Authorization": f"Bearer {old['access_token']}"}), "invalid_token"
    )
    _assert_401(_refresh(secured, old["refresh_token"]), "invalid_token")


def test_spent_refresh_tokens_stay_spent_after_a_restart(secured_settings: Settings) -> None:
    with make_client(secured_settings, secured_service(secured_settings)) as first_run:
        spent = _login(first_run, VIEWER)["refresh_token"]
        current = _refresh(first_run, spent).json()["refresh_token"]  # type: ignore[attr-defined]
    restarted = Service(secured_settings, gpu_source=SimulatedGPUs(1, seed=1, xid_mean_interval_s=1e12))
    with make_client(secured_settings, restarted) as second_run:
        assert _refresh(second_run, current).status_code == 200  # type: ignore[attr-defined]
        _assert_401(_refresh(second_run, spent), "invalid_token")


def test_a_malformed_login_never_echoes_the_password(secured: TestClient) -> None:
    secret = "x" * 300  # too long: a validation error on the password itself
    too_long = secured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": secret})
    assert too_long.status_code == 422 and "password" in too_long.json()["detail"]
    misspelt = secured.post("/api/v1/auth/login", json={"username": ADMIN[0], "pasword": "hunter2-secret"})
    assert misspelt.status_code == 422 and "pasword" in misspelt.json()["detail"]
    wrong_type = secured.post("/api/v1/auth/login", json={"username": ADMIN[0], "password": ["hunter3-x"]})
    assert wrong_type.status_code == 422
    for response in (too_long, misspelt, wrong_type):
        assert "xxxxxxxx" not in response.text and "hunter" not in response.text
    short_name = secured.post("/api/v1/auth/login", json={"username": "", "password": "p"})
    assert "(got '')" in short_name.json()["detail"]  # other values are still shown
