"""The System Monitor API (spec 003 §4) through the real app: shapes, degradation and errors."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from gpu_sentinel import models
from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.service import Service
from tests.api.conftest import make_client


def conforms(model: type[BaseModel], body: Any) -> BaseModel:
    """The body parses as the documented model and carries nothing the model does not document."""
    parsed = model.model_validate(body)
    assert parsed.model_dump(mode="json") == body
    return parsed


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    conforms(models.ErrorResponse, body)
    assert body["error"] == code
    assert body["timestamp"].endswith("+00:00")
    return body


def test_monitoring_all_has_the_spec_shape_for_every_gpu(client: TestClient) -> None:
    for gpu_id in range(4):
        body = client.get("/api/v1/system/monitoring/all", params={"gpu_id": gpu_id}).json()
        data = conforms(models.MonitoringDataResponse, body)
        assert isinstance(data, models.MonitoringDataResponse)
        assert data.gpu_available is True
        assert [g.id for g in data.gpu_list] == [0, 1, 2, 3]
        assert data.gpu_metrics is not None and data.gpu_metrics.gpu_id == gpu_id
        assert data.gpu_metrics.memory.total_gb == 80.0
        assert data.system_metrics.cpu.core_count and data.system_metrics.memory.total_gb
        assert data.storage and data.storage[0].total_gb > 0


def test_monitoring_all_defaults_to_gpu_0(client: TestClient) -> None:
    body = client.get("/api/v1/system/monitoring/all").json()
    assert body["gpu_metrics"]["gpu_id"] == 0


def test_metrics_are_in_range_and_units_consistent(client: TestClient) -> None:
    metrics = client.get("/api/v1/system/gpu-metrics", params={"gpu_id": 0}).json()
    conforms(models.GPUMetrics, metrics)
    assert 0 <= metrics["utilization"]["gpu"] <= 100
    memory = metrics["memory"]
    assert memory["used_percent"] == pytest.approx(100 * memory["used_gb"] / memory["total_gb"], abs=0.1)
    power = metrics["power"]
    assert power["usage_percent"] == pytest.approx(100 * power["current_watts"] / power["max_watts"], abs=0.1)
    assert metrics["pcie"]["bandwidth_gbps"] in (63.01, 4.0)  # gen 5 x16 busy, gen 1 x16 idle
    assert metrics["health"]["ecc"]["uncorrected_volatile"] == 0


def test_processes_have_names_without_paths(client: TestClient, simulated: SimulatedGPUs) -> None:
    body = client.get("/api/v1/system/gpus").json()
    conforms(models.AllGPUsResponse, body)
    assert len(body["gpus"]) == 4
    for process in body["gpu_processes"]:
        assert "/" not in process["process_name"] and " " not in process["process_name"]
        assert process["gpu_id"] in range(4)


def test_legacy_endpoints(client: TestClient) -> None:
    gpu_list = client.get("/api/v1/system/gpu-list").json()
    assert len(gpu_list) == 4
    for item in gpu_list:
        conforms(models.GPUInfo, item)
    info = client.get("/api/v1/system/gpu-info/2").json()
    conforms(models.GPUInfo, info)
    assert info["id"] == 2 and info["compute_capability"] == "9.0" and info["cuda_version"] == "12.4"
    system = client.get("/api/v1/system/metrics").json()
    conforms(models.SystemMetrics, system)
    assert system["cpu"]["core_count"] >= 1


def test_cpu_usage_is_a_whole_machine_percentage(client: TestClient) -> None:
    deadline = time.monotonic() + 5
    usage = None
    while usage is None and time.monotonic() < deadline:
        usage = client.get("/api/v1/system/metrics").json()["cpu"]["usage_percent"]
        time.sleep(0.05)
    assert usage is not None and 0 <= usage <= 100


def test_live_values_change_between_snapshots(client: TestClient) -> None:
    first = client.get("/api/v1/system/monitoring/all").json()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.06)
        later = client.get("/api/v1/system/monitoring/all").json()
        if later["timestamp"] > first["timestamp"]:
            break
    assert later["timestamp"] > first["timestamp"]


def test_unknown_gpu_is_400_naming_the_valid_ids(client: TestClient) -> None:
    for url in (
        "/api/v1/system/monitoring/all?gpu_id=9",
        "/api/v1/system/gpu-metrics?gpu_id=9",
        "/api/v1/system/gpu-info/9",
    ):
        body = assert_error(client.get(url), 400, "invalid_gpu_id")
        assert body["detail"] == "Invalid GPU ID 9: valid GPU IDs are 0, 1, 2, 3"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/system/gpu-metrics?gpu_id=abc", "gpu_id: Input should be a valid integer"),
        ("/api/v1/system/monitoring/all?gpu_id=-1", "gpu_id: Input should be greater than or equal to 0"),
        ("/api/v1/system/gpu-info/1.5", "gpu_id: Input should be a valid integer"),
        ("/api/v1/system/gpu-metrics?gpu_id=99999999999", "gpu_id: Input should be less than or equal to"),
    ],
)
def test_malformed_parameters_are_422_with_a_clear_message(
    client: TestClient, url: str, message: str
) -> None:
    body = assert_error(client.get(url), 422, "validation_error")
    assert message in body["detail"]


def test_more_than_eight_gpus_are_addressable(tmp_path: Any) -> None:
    from gpu_sentinel.config import Settings

    settings = Settings(data_dir=tmp_path, simulate_gpus=12)
    with make_client(settings) as client:
        body = client.get("/api/v1/system/monitoring/all", params={"gpu_id": 11}).json()
        assert body["gpu_metrics"]["gpu_id"] == 11


def test_simulated_gpus_in_mig_mode_show_their_instances_in_the_api_and_metrics(tmp_path: Any) -> None:
    from gpu_sentinel.config import Settings

    settings = Settings(data_dir=tmp_path, simulate_gpus=2, simulate_mig_gpus=1, gpu_poll_interval=0.05)
    with make_client(settings) as client:
        deadline = time.monotonic() + 10
        while not (gpus := client.get("/api/v1/system/gpus").json()["gpus"]):
            assert time.monotonic() < deadline, "no GPU sample"
            time.sleep(0.05)
        plain, mig = gpus
        assert (plain["mig_mode"], mig["mig_mode"]) == (False, True)
        assert [m["profile"] for m in mig["mig_instances"]] == ["3g.40gb", "2g.20gb", "1g.10gb", "1g.10gb"]
        assert mig["utilization"]["gpu"] is None and plain["utilization"]["gpu"] is not None
        metrics = client.get("/metrics").text
        assert 'GPU_I_PROFILE="2g.20gb"' in metrics and 'GPU_I_ID="14"' in metrics


def test_without_gpu_the_dashboard_endpoint_degrades(no_gpu_client: TestClient) -> None:
    body = no_gpu_client.get("/api/v1/system/monitoring/all").json()
    data = conforms(models.MonitoringDataResponse, body)
    assert isinstance(data, models.MonitoringDataResponse)
    assert data.gpu_available is False and data.gpu_status == "disabled"
    assert data.gpu_metrics is None and data.gpu_list == [] and data.gpu_processes == []
    assert data.system_metrics.memory.total_gb


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/system/gpu-list",
        "/api/v1/system/gpu-metrics?gpu_id=0",
        "/api/v1/system/gpu-info/0",
        "/api/v1/system/gpus",
    ],
)
def test_without_gpu_gpu_endpoints_are_503(no_gpu_client: TestClient, url: str) -> None:
    body = assert_error(no_gpu_client.get(url), 503, "gpu_unavailable")
    assert body["detail"].startswith("GPU monitoring not available on this system")


def test_host_metrics_still_work_without_gpu(no_gpu_client: TestClient) -> None:
    response = no_gpu_client.get("/api/v1/system/metrics")
    assert response.status_code == 200
    conforms(models.SystemMetrics, response.json())


def test_a_lost_gpu_reports_lost_with_null_metrics(tmp_path: Any) -> None:
    from gpu_sentinel.config import Settings

    gpus = SimulatedGPUs(2, seed=1)
    gpus.set_lost(1)
    settings = Settings(data_dir=tmp_path)
    with make_client(settings, Service(settings, gpu_source=gpus)) as client:
        body = client.get("/api/v1/system/monitoring/all", params={"gpu_id": 1}).json()
        conforms(models.MonitoringDataResponse, body)
        assert body["gpu_metrics"]["lost"] is True
        assert body["gpu_metrics"]["temperature"] is None
        assert body["gpu_metrics"]["utilization"]["gpu"] is None
        assert [g["lost"] for g in body["gpu_list"]] == [False, True]
        assert client.get("/api/v1/health").json()["gpu"]["lost"] == [1]


def test_xid_events_appear_in_the_gpu_health(client: TestClient, simulated: SimulatedGPUs) -> None:
    simulated.inject_xid(2, 79)
    deadline = time.monotonic() + 5
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        health = client.get("/api/v1/system/gpu-metrics", params={"gpu_id": 2}).json()["health"]
        if health["xid_count"]:
            break
        time.sleep(0.05)
    assert health["xid_count"] == 1 and health["last_xid"] == 79
    assert health["xid_events"][0]["xid"] == 79


def test_unknown_path_is_404_in_the_error_shape(client: TestClient) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/v1/system/monitoring/all",
        "/api/v1/system/gpu-list",
        "/api/v1/system/gpu-metrics",
        "/api/v1/system/metrics",
        "/api/v1/system/gpu-info/{gpu_id}",
        "/api/v1/system/gpus",
        "/api/v1/health",
        "/metrics",
    ):
        assert path in schema["paths"], path
    assert "MonitoringDataResponse" in schema["components"]["schemas"]
    assert client.get("/docs").status_code == 200
