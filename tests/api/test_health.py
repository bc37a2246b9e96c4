from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from gpu_sentinel import models
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from tests.api.conftest import make_client


def test_healthy_service_reports_ok(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    health = models.HealthResponse.model_validate(response.json())
    assert health.status == "ok"
    assert health.sampler.running and health.sampler.samples >= 1
    assert health.sampler.last_sample_age_seconds is not None and health.sampler.last_sample_age_seconds < 5
    assert health.gpu.available and health.gpu.count == 4


def test_stalled_sampler_is_reported_stale_with_503(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    service = Service(settings, gpu_source=SimulatedGPUs(1, seed=1))
    wall = [1_000_000.0]
    service.sampler._wall_clock = lambda: wall[0]
    with make_client(settings, service) as client:
        service.sampler.stop()
        response = client.get("/api/v1/health")
    assert response.status_code == 503
    body = models.HealthResponse.model_validate(response.json())
    assert body.status == "stale" and not body.sampler.running


def test_no_gpu_is_healthy_but_says_why(no_gpu_client: TestClient) -> None:
    body = no_gpu_client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["gpu"] == {
        "available": False,
        "status": "disabled",
        "count": 0,
        "lost": [],
        "unresponsive": [],
    }
