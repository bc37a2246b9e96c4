"""The whole service on the fake libnvidia-ml.so, loaded by the real binding through LD_LIBRARY_PATH."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port
from tests.fakenvml.build import fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml_path
from tests.server import running_server, sentinel_command

__all__ = ["fake_nvml_path"]

pytestmark = pytest.mark.real_component


def test_service_reports_fake_driver_gpus_end_to_end(fake_nvml_path: Path, tmp_path: Path) -> None:
    env = fake_nvml_env(fake_nvml_path, gpu_count="3", unsupported="nvmlDeviceGetFanSpeed", lost="2")
    with running_server(["--data-dir", str(tmp_path)], env=env) as url:
        # Processes come with the first slow read, which may finish a moment after the server is up.
        all_gpus = poll(
            lambda: httpx.get(f"{url}/api/v1/system/gpus").json(),
            lambda body: {p["gpu_id"] for p in body["gpu_processes"]} == {0, 1},
        )
        gpus = all_gpus["gpus"]
        assert [g["gpu_id"] for g in gpus] == [0, 1, 2]
        assert [g["gpu_name"] for g in gpus[:2]] == ["NVIDIA H100 80GB HBM3"] * 2
        assert gpus[0]["fan_speed"] is None and gpus[0]["temperature"] is not None
        assert gpus[2]["lost"] is True and gpus[2]["utilization"]["gpu"] is None

        info = httpx.get(f"{url}/api/v1/system/gpu-info/1").json()
        assert info["driver_version"] == "550.54.15" and info["cuda_version"] == "12.4"

        health = httpx.get(f"{url}/api/v1/health").json()
        assert health["gpu"]["lost"] == [2] and health["gpu"]["status"] == "ok"

        families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)}
        temperatures = {s.labels["gpu"]: s.value for s in families["DCGM_FI_DEV_GPU_TEMP"].samples}
        assert set(temperatures) == {"0", "1"}
        calls = families["gpu_sentinel_nvml_calls"].samples
        assert any(s.labels.get("function") == "nvmlDeviceGetUtilizationRates" and s.value > 0 for s in calls)


POLL_LIMIT_S = 60.0  # bounds a failing test; a passing one moves on as soon as its condition holds
T = TypeVar("T")


def poll(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + POLL_LIMIT_S
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition never held; last value: {value}")
        time.sleep(0.1)


def unresponsive_gauges(url: str) -> dict[str, float]:
    families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)}
    return {s.labels["gpu"]: s.value for s in families["gpu_sentinel_gpu_unresponsive"].samples}


def test_a_gpu_whose_ecc_queries_hang_is_unresponsive_alerted_once_and_recovers(
    fake_nvml_path: Path, tmp_path: Path
) -> None:
    hang_file = tmp_path / "hang"  # the fake hangs GPU 1's ECC, page and row queries while it exists
    env = fake_nvml_env(fake_nvml_path, gpu_count="3", hang_gpu="1", hang_file=str(hang_file))
    env["GPU_SLOW_POLL_INTERVAL"] = "0.5"
    with running_server(["--data-dir", str(tmp_path / "data")], env=env) as url:

        def gpus() -> list[dict[str, Any]]:
            listed: list[dict[str, Any]] = httpx.get(f"{url}/api/v1/system/gpus").json()["gpus"]
            return listed

        def transitions() -> list[str]:
            query = {"rule_id": "gpu-unresponsive", "gpu_id": 1}
            items = httpx.get(f"{url}/api/v1/alerts/history", params=query).json()["items"]
            return [item["state"] for item in reversed(items)]  # oldest first

        poll(gpus, lambda g: all(gpu["pcie"]["tx_mb_per_s"] is not None for gpu in g))
        hang_file.touch()
        hung = poll(gpus, lambda g: g[1]["unresponsive"])
        since = hung[1]["unresponsive_since"]
        assert since is not None and hung[1]["temperature"] is None and hung[1]["utilization"]["gpu"] is None
        assert not hung[0]["unresponsive"] and not hung[2]["unresponsive"]

        # The others keep updating while GPU 1 hangs: their energy counters move on, sample after sample.
        for _ in range(3):
            energy = [gpu["power"]["energy_joules"] for gpu in hung]
            hung = poll(gpus, lambda g, e=energy: all(g[i]["power"]["energy_joules"] > e[i] for i in (0, 2)))
            assert hung[1]["unresponsive"] and hung[1]["unresponsive_since"] == since
        assert httpx.get(f"{url}/api/v1/health").json()["gpu"]["unresponsive"] == [1]
        assert unresponsive_gauges(url) == {"0": 0.0, "1": 1.0, "2": 0.0}
        assert poll(transitions, lambda states: "firing" in states) == ["firing"]

        hang_file.unlink()
        back = poll(gpus, lambda g: not g[1]["unresponsive"])[1]
        assert back["unresponsive_since"] is None and back["temperature"] is not None
        assert poll(transitions, lambda states: "resolved" in states) == ["firing", "resolved"]
        assert unresponsive_gauges(url) == {"0": 0.0, "1": 0.0, "2": 0.0}


def test_a_driver_call_that_never_returns_does_not_hold_up_shutdown(
    fake_nvml_path: Path, tmp_path: Path
) -> None:
    hang_file = tmp_path / "hang"
    hang_file.touch()  # GPU 0's memory-health queries hang from the first slow read until the end
    env = fake_nvml_env(fake_nvml_path, gpu_count="2", hang_gpu="0", hang_file=str(hang_file))
    command = [*sentinel_command(), "serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data")]
    process = subprocess.Popen(
        [*command, "--log-file", ""],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{command[command.index('--port') + 1]}"
        poll(lambda: _gpus_or_none(url), lambda g: g is not None and g[0]["unresponsive"])
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)  # the bound only stops a test that fails
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # uvicorn re-raises SIGTERM once it has shut down cleanly, so either code means a clean exit
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "GPU(s) [0] still in a driver call; leaving NVML initialised" in output
    assert "Application shutdown complete" in output


def _gpus_or_none(url: str) -> list[dict[str, Any]] | None:
    try:
        listed: list[dict[str, Any]] = httpx.get(f"{url}/api/v1/system/gpus", timeout=2).json()["gpus"]
    except httpx.TransportError:
        return None
    return listed
