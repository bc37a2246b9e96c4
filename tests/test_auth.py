"""Authentication building blocks: secret and users files, tokens, login throttle, bind policy, CLI."""

from __future__ import annotations

import io
import json
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from gpu_sentinel import cli
from gpu_sentinel.auth import Auth
from gpu_sentinel.auth.errors import InvalidTokenError, LoginLockedError, UserExistsError
from gpu_sentinel.auth.policy import InsecureBindError, check_bind, is_loopback
from gpu_sentinel.auth.secret import SecretFileError, load_or_create_secret
from gpu_sentinel.auth.sessions import MAX_FAMILIES_PER_USER, RefreshFamily, with_family
from gpu_sentinel.auth.throttle import LoginThrottle
from gpu_sentinel.auth.tokens import TokenService
from gpu_sentinel.auth.users import User, UserStore
from gpu_sentinel.config import Settings

FAST = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
ALICE = User("alice", "admin", "not-a-hash", 0.0, "alice-id")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_or_create_secret(None, tmp_path / "data")
    assert len(first) >= 32
    assert _mode(tmp_path / "data" / "jwt_secret") == 0o600
    assert _mode(tmp_path / "data") == 0o700
    assert load_or_create_secret(None, tmp_path / "data") == first


def test_configured_secret_wins_and_a_short_stored_one_is_refused(tmp_path: Path) -> None:
    assert load_or_create_secret("k" * 40, tmp_path) == b"k" * 40
    assert not (tmp_path / "jwt_secret").exists()
    (tmp_path / "jwt_secret").write_text("short")
    with pytest.raises(SecretFileError, match="shorter than 32 bytes"):
        load_or_create_secret(None, tmp_path)


def test_readable_secret_file_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "jwt_secret"
    path.write_text("s" * 48)
    path.chmod(0o644)
    load_or_create_secret(None, tmp_path)
    assert _mode(path) == 0o600


def test_the_secret_never_appears_in_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GPU_SENTINEL_JWT_SECRET", "tooshort-but-secret")
    assert cli.main(["user", "list"]) == 2
    error = capsys.readouterr().err
    assert "GPU_SENTINEL_JWT_SECRET" in error and "tooshort-but-secret" not in error
    assert len(error.strip().splitlines()) == 1


def test_users_file_is_private_and_survives_a_reload(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json", hasher=FAST)
    store.add("alice", "alice-password", "admin")
    assert _mode(tmp_path / "users.json") == 0o600
    assert "alice-password" not in (tmp_path / "users.json").read_text()
    again = UserStore(tmp_path / "users.json", hasher=FAST)
    assert again.authenticate("alice", "alice-password") is not None
    assert again.authenticate("alice", "wrong-password") is None
    with pytest.raises(UserExistsError):
        again.add("alice", "another-password", "viewer")


def test_service_notices_users_changed_by_another_process(tmp_path: Path) -> None:
    now = [0.0]
    served = UserStore(tmp_path / "users.json", hasher=FAST, monotonic=lambda: now[0])
    UserStore(tmp_path / "users.json", hasher=FAST).add("bob", "bob-password", "viewer")
    now[0] += 5
    served.refresh()
    assert served.get("bob") is not None


def test_tokens_expire_and_keep_their_type() -> None:
    now = [1_000_000.0]
    tokens = TokenService(b"s" * 32, access_ttl_s=60, refresh_ttl_s=3600, clock=lambda: now[0])
    access = tokens.issue(ALICE, "access").token
    refresh = tokens.issue(ALICE, "refresh", family="f1").token
    assert tokens.verify(access).role == "admin"
    assert tokens.verify(refresh, "refresh").username == "alice"
    with pytest.raises(InvalidTokenError, match="refresh token cannot be used as a access"):
        tokens.verify(refresh)
    now[0] += 61
    with pytest.raises(InvalidTokenError, match="expired"):
        tokens.verify(access)
    other = TokenService(b"t" * 32, access_ttl_s=60, refresh_ttl_s=60)
    with pytest.raises(InvalidTokenError, match="signature"):
        other.verify(tokens.issue(ALICE, "access").token)


def test_verified_tokens_are_cached_within_a_bound() -> None:
    tokens = TokenService(b"s" * 32, access_ttl_s=60, refresh_ttl_s=60, cache_size=4)
    issued = [tokens.issue(replace(ALICE, username=f"user{i}"), "access").token for i in range(10)]
    for token in issued:
        tokens.verify(token)
    assert len(tokens._verified) <= 4


def test_login_lockout_backs_off_and_clears_on_success() -> None:
    now = [0.0]
    throttle = LoginThrottle(max_failures=3, base_lockout_s=10, clock=lambda: now[0])
    for _ in range(3):
        throttle.check("alice", "1.2.3.4")
        throttle.failed("alice", "1.2.3.4")
    with pytest.raises(LoginLockedError) as locked:
        throttle.check("Alice", "1.2.3.4")
    assert locked.value.retry_after_s == 10
    throttle.check("alice", "5.6.7.8")
    now[0] += 11
    throttle.check("alice", "1.2.3.4")
    throttle.failed("alice", "1.2.3.4")
    with pytest.raises(LoginLockedError) as longer:
        throttle.check("alice", "1.2.3.4")
    assert longer.value.retry_after_s == 20
    throttle.succeeded("alice", "1.2.3.4")
    throttle.check("alice", "1.2.3.4")


def test_login_throttle_memory_is_bounded() -> None:
    throttle = LoginThrottle(max_entries=100)
    for i in range(1000):
        throttle.failed(f"user{i}", "1.2.3.4")
    assert len(throttle._entries) <= 100


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_bind_policy(tmp_path: Path) -> None:
    assert check_bind(Settings(data_dir=tmp_path)) == []
    assert check_bind(Settings(data_dir=tmp_path, host="0.0.0.0")) == []
    assert Auth(Settings(data_dir=tmp_path, host="0.0.0.0")).policy.anonymous_read is False
    with pytest.raises(InsecureBindError, match="--allow-insecure-bind"):
        check_bind(Settings(data_dir=tmp_path, host="0.0.0.0", anonymous_read=True))
    warnings = check_bind(
        Settings(data_dir=tmp_path, host="0.0.0.0", anonymous_read=True, allow_insecure_bind=True)
    )
    assert warnings and "WITHOUT AUTHENTICATION" in warnings[0]


class _Terminal(io.StringIO):
    """Standard input as a terminal: the CLI asks for the password there instead of reading a line."""

    def isatty(self) -> bool:
        return True


def test_cli_user_add_list_remove(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("gpu_sentinel.auth.users.default_hasher", lambda: FAST)
    data = ["--data-dir", str(tmp_path)]
    monkeypatch.setattr("sys.stdin", io.StringIO("erin-password\n"))
    assert cli.main(["user", "add", "erin", "--role", "admin", "--password-stdin", *data]) == 0
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("getpass.getpass", lambda prompt: "frank-password")
    assert cli.main(["user", "add", "frank", *data]) == 0
    assert cli.main(["user", "list", *data]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["erin\tadmin", "frank\tviewer"]
    assert _mode(tmp_path / "users.json") == 0o600

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["user", "add", "gina", "--password-stdin", *data]) == 2
    assert "8 to 256 characters" in capsys.readouterr().err
    assert cli.main(["user", "remove", "frank", *data]) == 0
    assert cli.main(["user", "remove", "nobody", *data]) == 2
    assert cli.main(["user", "list", *data]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "erin\tadmin"


def test_a_users_file_without_ids_gets_them_once(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    record = {
        "username": "old",
        "role": "admin",
        "password_hash": FAST.hash("old-password"),
        "created_at": 1.0,
    }
    path.write_text(json.dumps({"users": [record]}))
    path.chmod(0o600)
    user = UserStore(path, hasher=FAST).get("old")
    assert user is not None and len(user.user_id) >= 16
    again = UserStore(path, hasher=FAST).get("old")
    assert again is not None and again.user_id == user.user_id


def test_refresh_families_per_user_are_bounded_and_expire() -> None:
    families: dict[str, RefreshFamily] = {"expired": RefreshFamily("t", expires_at=5.0)}
    for index in range(MAX_FAMILIES_PER_USER + 10):
        families = with_family(families, f"f{index}", RefreshFamily("t", expires_at=100.0 + index), now=10.0)
    assert len(families) == MAX_FAMILIES_PER_USER
    assert "expired" not in families and "f0" not in families and f"f{MAX_FAMILIES_PER_USER + 9}" in families


def test_a_session_ends_one_refresh_lifetime_after_its_login(tmp_path: Path) -> None:
    now = [1_000_000.0]
    auth = Auth(Settings(data_dir=tmp_path, refresh_token_hours=1), hasher=FAST)
    auth._tokens = TokenService(b"s" * 32, access_ttl_s=60, refresh_ttl_s=3600, clock=lambda: now[0])
    user = auth.users.add("alice", "alice-password", "viewer")
    login = auth.login_tokens(user)
    now[0] += 3000
    _, renewed = auth.refreshed_tokens(login.refresh.token)
    assert renewed.refresh.expires_at == login.refresh.expires_at  # no chaining past the first hour
    assert renewed.refresh.lifetime_s == 600 and renewed.access.lifetime_s == 60
    now[0] += 601
    with pytest.raises(InvalidTokenError, match="expired"):
        auth.refreshed_tokens(renewed.refresh.token)
