"""Attacks on a real ``gpu-sentinel serve`` process, as a local user would try them: what uvicorn itself
does (logging, proxy headers) only shows in the real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from gpu_sentinel.auth.users import UserStore
from tests.api.conftest import ADMIN, FAST_HASHER
from tests.server import running_server


def _add_admin(data_dir: Path) -> None:
    UserStore(data_dir / "users.json", hasher=FAST_HASHER).add(*ADMIN, role="admin")


def test_no_token_or_password_reaches_the_log(tmp_path: Path) -> None:
    _add_admin(tmp_path)
    log_file = tmp_path / "service.log"
    wrong_password = "not-the-password-7731"
    args = ["--simulate", "1", "--data-dir", str(tmp_path), "--log-file", str(log_file)]
    with running_server([*args, "--log-level", "debug", "--access-log", "--no-anonymous-read"]) as url:
        login = f"{url}/api/v1/auth/login"
        refused = httpx.post(login, json={"username": ADMIN[0], "password": wrong_password})
        assert refused.status_code == 401
        tokens = httpx.post(login, json={"username": ADMIN[0], "password": ADMIN[1]}).json()
        access = tokens["access_token"]
        ws_url = url.replace("http://", "ws://") + "/api/v1/stream"
        with connect(ws_url, subprotocols=["bearer", access]) as socket:  # type: ignore[list-item]
            assert '"snapshot"' in str(socket.recv(timeout=10))
        with pytest.raises(InvalidStatus) as in_url:
            connect(f"{ws_url}?token={access}").close()
        assert in_url.value.response.status_code == 401
        query = httpx.get(f"{url}/api/v1/system/gpus", params={"token": access})
        assert query.status_code == 401
        renewed = httpx.post(f"{url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert renewed.status_code == 200
    log = log_file.read_text(encoding="utf-8")
    assert '"WebSocket /api/v1/stream' in log and "GET /api/v1/system/gpus" in log  # the lines exist
    assert "token=***" in log  # the refused attempt, redacted by the log formatter
    for secret in (access, tokens["refresh_token"], renewed.json()["access_token"], wrong_password, ADMIN[1]):
        assert secret not in log


def test_rotating_x_forwarded_for_escapes_neither_rate_limit_nor_lockout(tmp_path: Path) -> None:
    _add_admin(tmp_path)
    with running_server(["--simulate", "1", "--data-dir", str(tmp_path)]) as url:
        login = f"{url}/api/v1/auth/login"
        for attempt in range(5):
            spoofed = {"X-Forwarded-For": f"10.0.0.{attempt}"}
            wrong = {"username": ADMIN[0], "password": f"wrong-password-{attempt}"}
            assert httpx.post(login, json=wrong, headers=spoofed).status_code == 401
        right = httpx.post(
            login, json={"username": ADMIN[0], "password": ADMIN[1]}, headers={"X-Forwarded-For": "10.0.1.1"}
        )
        assert right.status_code == 429 and right.json()["error"] == "login_locked"

        statuses = []
        with httpx.Client() as client:
            for attempt in range(500):  # far past the burst; stop at the first refusal
                spoofed = {"X-Forwarded-For": f"10.1.{attempt // 250}.{attempt % 250}"}
                statuses.append(client.get(f"{url}/api/v1/system/gpu-list", headers=spoofed).status_code)
                if statuses[-1] == 429:
                    break
        assert statuses[-1] == 429  # each spoofed address got a bucket of its own before
