"""The whole service on the fake libnvidia-ml.so, loaded by the real binding through LD_LIBRARY_PATH."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakenvml.build import fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml_path
from tests.server import running_server

__all__ = ["fake_nvml_path"]

pytestmark = pytest.mark.real_component


def test_service_reports_fake_driver_gpus_end_to_end(fake_nvml_path: Path) -> None:
    env = fake_nvml_env(fake_nvml_path, gpu_count="3", unsupported="nvmlDeviceGetFanSpeed", lost="2")
    with running_server([], env=env) as url:
        all_gpus = httpx.get(f"{url}/api/v1/system/gpus").json()
        gpus = all_gpus["gpus"]
        assert [g["gpu_id"] for g in gpus] == [0, 1, 2]
        assert [g["gpu_name"] for g in gpus[:2]] == ["NVIDIA H100 80GB HBM3"] * 2
        assert gpus[0]["fan_speed"] is None and gpus[0]["temperature"] is not None
        assert gpus[2]["lost"] is True and gpus[2]["utilization"]["gpu"] is None
        assert {p["gpu_id"] for p in all_gpus["gpu_processes"]} == {0, 1}

        info = httpx.get(f"{url}/api/v1/system/gpu-info/1").json()
        assert info["driver_version"] == "550.54.15" and info["cuda_version"] == "12.4"

        health = httpx.get(f"{url}/api/v1/health").json()
        assert health["gpu"]["lost"] == [2] and health["gpu"]["status"] == "ok"

        families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)}
        temperatures = {s.labels["gpu"]: s.value for s in families["DCGM_FI_DEV_GPU_TEMP"].samples}
        assert set(temperatures) == {"0", "1"}
        calls = families["gpu_sentinel_nvml_calls"].samples
        assert any(s.labels.get("function") == "nvmlDeviceGetUtilizationRates" and s.value > 0 for s in calls)
