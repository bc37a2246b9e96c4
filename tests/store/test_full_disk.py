"""A data directory on a disk that is already full: the service starts anyway with live metrics, /metrics
and alerts, reports history as degraded, and catches up by itself once space returns. The disk is a real
small tmpfs filled to the last byte (mounting one needs root, as CI has)."""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import require_component
from tests.server import running_server

DISK_BYTES = 8 * 1024 * 1024


def _mount_tmpfs(path: Path) -> bool:
    path.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES},mode=0700", "tmpfs", str(path)]
    try:
        return subprocess.run(command, capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    require_component(os.geteuid() == 0 and _mount_tmpfs(disk), "a tmpfs mount (needs root)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has not one byte left."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as file:
        for size in (1 << 20, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    file.write(b"\0" * size)
    with pytest.raises(OSError) as error, (disk / "probe").open("wb", buffering=0) as probe:
        probe.write(b"\0")
    assert error.value.errno == errno.ENOSPC
    return filler


def get(base_url: str, path: str) -> httpx.Response:
    return httpx.get(f"{base_url}{path}", timeout=10)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.2)


def health(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = get(base_url, "/api/v1/health").json()
    return body


@pytest.mark.real_component
def test_a_full_disk_at_start_keeps_live_metrics_and_history_recovers(small_disk: Path) -> None:
    data = small_disk / "data"
    args = ["--simulate", "2", "--data-dir", str(data)]
    env = {"GPU_SENTINEL_HISTORY_RETRY_INTERVAL": "0.5"}
    with running_server(args, env=env) as base_url:  # an install that has run before
        wait_until(lambda: health(base_url)["history"]["last_write_timestamp"] is not None, "a first commit")
    filler = fill(small_disk)

    with running_server(args, env=env) as base_url:
        first = health(base_url)
        assert first["status"] == "degraded" and first["sampler"]["running"]
        assert first["history"]["status"] == "degraded"
        assert "history database unavailable" in first["history"]["reason"]
        assert "disk" in first["history"]["reason"]  # SQLite's own words: disk I/O error, or disk is full
        assert str(small_disk) not in first["history"]["reason"], "anyone may read the health check"
        full_from = int(first["sampler"]["last_sample_timestamp"]) + 1

        gpus = get(base_url, "/api/v1/system/gpus").json()["gpus"]
        assert [gpu["gpu_id"] for gpu in gpus] == [0, 1] and gpus[0]["temperature"] is not None
        assert "DCGM_FI_DEV_GPU_UTIL{" in get(base_url, "/metrics").text
        rules = get(base_url, "/api/v1/alerts/rules")
        assert rules.status_code == 200 and rules.json(), "alerts run on their default rules"
        trends = get(base_url, "/api/v1/history/trends?metric=gpu_utilization&range=1h")
        assert trends.status_code == 503 and trends.json()["error"]

        buffered = [0]
        for _ in range(3):  # three flush intervals' worth of samples wait in memory
            wait_until(lambda: health(base_url)["history"]["buffered_rows"] > buffered[-1], "buffering")
            buffered.append(health(base_url)["history"]["buffered_rows"])
        wait_until(
            lambda: int(health(base_url)["sampler"]["last_sample_timestamp"]) >= full_from + 2,
            "a few seconds sampled while the disk is full",
        )
        freed_at = int(health(base_url)["sampler"]["last_sample_timestamp"])
        filler.unlink()
        wait_until(lambda: health(base_url)["history"]["status"] == "ok", "history recovering")
        recovered = health(base_url)
        assert recovered["status"] == "ok" and recovered["history"]["reason"] is None
        wait_until(lambda: health(base_url)["history"]["buffered_rows"] == 0, "writing what waited")
        trends = get(base_url, "/api/v1/history/trends?metric=gpu_utilization&range=1h&gpu_id=0&bucket=1")
        assert trends.status_code == 200

    with contextlib.closing(sqlite3.connect(data / "history.sqlite3")) as database:
        (stored,) = database.execute(
            "SELECT COUNT(*) FROM gpu_raw WHERE gpu_id = 0 AND ts >= ? AND ts < ?", (full_from, freed_at)
        ).fetchone()
    assert freed_at - full_from >= 2
    assert stored == freed_at - full_from, "what was sampled while the disk was full reached history"


@pytest.mark.real_component
def test_a_first_start_on_a_full_disk_still_monitors_and_signs_tokens(small_disk: Path) -> None:
    """No file of the service exists yet and none can be written: it still serves live metrics, and a
    token signed in memory works until the next restart."""
    fill(small_disk)
    data = small_disk / "data"
    with running_server(["--simulate", "1", "--data-dir", str(data)]) as base_url:
        gpus = get(base_url, "/api/v1/system/gpus").json()["gpus"]
        assert gpus[0]["temperature"] is not None
        assert health(base_url)["history"]["status"] != "ok"
        me = get(base_url, "/api/v1/auth/me")
        assert me.status_code == 200
    assert not (data / "jwt_secret").exists()
