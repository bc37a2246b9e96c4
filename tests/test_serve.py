"""The installed ``gpu-sentinel serve`` command, as a user runs it."""

from __future__ import annotations

import httpx

from tests.server import running_server


def test_serve_with_simulated_gpus_answers_every_endpoint() -> None:
    with running_server(["--simulate", "4"]) as url:
        body = httpx.get(f"{url}/api/v1/system/monitoring/all", params={"gpu_id": 3}).json()
        assert body["gpu_available"] is True
        assert len(body["gpu_list"]) == 4 and body["gpu_metrics"]["gpu_id"] == 3
        assert len(httpx.get(f"{url}/api/v1/system/gpus").json()["gpus"]) == 4
        metrics = httpx.get(f"{url}/metrics")
        assert metrics.status_code == 200 and "DCGM_FI_DEV_GPU_UTIL{" in metrics.text
        assert httpx.get(f"{url}/api/v1/health").json()["status"] == "ok"


def test_serve_on_a_machine_without_gpu_degrades_gracefully() -> None:
    with running_server([], env={"LD_LIBRARY_PATH": "/nonexistent"}) as url:
        body = httpx.get(f"{url}/api/v1/system/monitoring/all").json()
        assert body["gpu_available"] is False
        assert body["gpu_metrics"] is None
        assert body["system_metrics"]["memory"]["total_gb"] > 0
        response = httpx.get(f"{url}/api/v1/system/gpu-list")
        assert response.status_code == 503
        assert response.json()["error"] == "gpu_unavailable"
