"""Nothing the service writes is readable by another local user: the modes of every file and directory
after real runs (SQLite with its WAL, a PostgreSQL outage's spill file, the log), and the repair of an
install whose files were left open by an older version."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port
from tests.server import running_server


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """Start the service as a careless shell would: with a umask that lets others read."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(root: Path) -> dict[str, str]:
    found = {}
    for directory, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(directory) / name
            found[str(path.relative_to(root))] = f"{stat.S_IMODE(path.lstat().st_mode):04o}"
    return found


def open_ones(root: Path) -> dict[str, str]:
    """Paths under ``root`` that anyone but the owner may read, write or enter."""
    return {path: mode for path, mode in modes(root).items() if int(mode, 8) & 0o077}


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.1)


def history_status(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/api/v1/history/status").json()
    return body


class DefaultInstall:
    """The layout of a default install, under ``root`` instead of the home directory."""

    def __init__(self, root: Path) -> None:
        root.mkdir()
        self.root = root
        self.env = {"XDG_DATA_HOME": str(root / "share"), "XDG_STATE_HOME": str(root / "state")}
        self.data = root / "share" / "gpu-sentinel"
        self.state = root / "state" / "gpu-sentinel"
        self.log = self.state / "log" / "gpu_service.log"

    def args(self, *extra: str) -> list[str]:
        return ["--simulate", "1", "--log-file", str(self.log), *extra]  # the default, spelt out


def test_a_real_run_leaves_nothing_others_can_read(tmp_path: Path) -> None:
    install = DefaultInstall(tmp_path / "install")
    data = install.data
    with running_server(install.args(), env=install.env) as base_url:
        wait_until(lambda: history_status(base_url)["rows_written"] > 0, "a history commit")
        running = modes(data.parent.parent)
        open_while_running = open_ones(data.parent.parent)
    assert open_while_running == {}
    files = ["history.sqlite3", "history.sqlite3-wal", "history.sqlite3-shm", "jwt_secret"]
    assert {running[f"share/gpu-sentinel/{name}"] for name in files} == {"0600"}
    assert running["state/gpu-sentinel/log/gpu_service.log"] == "0600"
    dirs = ["share", "share/gpu-sentinel", "state", "state/gpu-sentinel", "state/gpu-sentinel/log"]
    assert {running[name] for name in dirs} == {"0700"}
    assert open_ones(install.data) == open_ones(install.state) == {}


def test_the_spill_file_of_a_postgresql_outage_is_private(tmp_path: Path) -> None:
    install = DefaultInstall(tmp_path / "install")
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    with running_server(install.args("--database", unreachable), env=install.env) as base_url:
        wait_until(lambda: history_status(base_url)["spilled_bytes"] > 0, "spilling a sample")
    spill = install.data / "history-spill.jsonl"
    assert spill.stat().st_size > 0
    assert f"{stat.S_IMODE(spill.stat().st_mode):04o}" == "0600"
    assert open_ones(install.data) == open_ones(install.state) == {}


def test_files_an_older_version_left_open_are_tightened_with_a_warning(tmp_path: Path) -> None:
    install = DefaultInstall(tmp_path / "install")
    data, log_dir = install.data, install.log.parent
    data.mkdir(parents=True)
    log_dir.mkdir(parents=True)
    sqlite3.connect(data / "history.sqlite3").close()
    (data / "jwt_secret").write_text("x" * 64)
    install.log.write_text("")
    (log_dir / "gpu_service.log.1").write_text("")
    for path in (data, install.state, log_dir, *data.iterdir(), *log_dir.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)

    with running_server(install.args(), env=install.env):
        pass
    assert open_ones(data) == open_ones(install.state) == {}
    assert f"{stat.S_IMODE(data.stat().st_mode):04o}" == "0700"
    log = install.log.read_text()
    for path, old in [
        (data, "0755"),
        (install.state, "0755"),
        (log_dir, "0755"),
        (data / "history.sqlite3", "0644"),
        (data / "jwt_secret", "0644"),
        (install.log, "0644"),
        (log_dir / "gpu_service.log.1", "0644"),
    ]:
        warnings = [
            line for line in log.splitlines() if f"{path} was open to other users (mode {old})" in line
        ]
        assert len(warnings) == 1 and " - WARNING - " in warnings[0], path
