"""Who owns each GPU process, as the API and /metrics show it, and the process search."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel import models
from gpu_sentinel.api.history_models import UsageResponse
from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample
from tests.api.conftest import make_client
from tests.test_prometheus import samples

GiB = 1024**3
CONTAINER = "3f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
POD_UID = "0b5e3f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
PROCESSES = (
    GPUProcess(
        pid=4242,
        name="python",
        kind="compute",
        gpu_memory_bytes=6 * GiB,
        user="alice",
        slurm_job_id="77123",
        slurm_user="alice",
    ),
    GPUProcess(
        pid=5151,
        name="vllm",
        kind="compute",
        gpu_memory_bytes=2 * GiB,
        user="root",
        container_id=CONTAINER,
        container_runtime="containerd",
        pod_uid=POD_UID,
        pod_namespace="ml-team",
        pod_name="serve-7f9c",
    ),
    GPUProcess(pid=6000, name="Xorg", kind="graphics", gpu_memory_bytes=GiB, user="root"),
)


class OwnedGPUs:
    """One GPU with a SLURM job, a Kubernetes pod and a bare host process on it."""

    available = True
    status = "ok"

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        info = GPUInfo(index=0, name="Test GPU", uuid="GPU-0", memory_total_bytes=80 * GiB)
        return (
            GPUSample(info=info, utilization_gpu_pct=10.0, memory_used_bytes=9 * GiB, processes=PROCESSES),
        )

    def call_stats(self) -> Mapping[str, CallStats]:
        return {}

    def close(self) -> None:
        return None


def owned_client(tmp_path: Path, **settings: object) -> TestClient:
    values: dict[str, object] = {"gpu_poll_interval": 0.05, "rate_limit": 0, **settings}
    configured = Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]
    return make_client(configured, Service(configured, gpu_source=OwnedGPUs()))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with owned_client(tmp_path) as test_client:
        wait_for_processes(test_client)
        yield test_client


def wait_for_processes(client: TestClient) -> None:
    deadline = time.monotonic() + 10
    while not client.get("/api/v1/system/gpus").json().get("gpu_processes"):
        assert time.monotonic() < deadline, "no processes sampled"
        time.sleep(0.02)


def test_the_process_table_shows_container_pod_and_job(client: TestClient) -> None:
    body = client.get("/api/v1/system/gpus").json()
    models.AllGPUsResponse.model_validate(body)
    by_pid = {p["pid"]: p for p in body["gpu_processes"]}
    assert by_pid[4242]["slurm_job_id"] == "77123" and by_pid[4242]["slurm_user"] == "alice"
    pod = by_pid[5151]
    assert (pod["container_id"], pod["container_runtime"]) == (CONTAINER, "containerd")
    assert (pod["pod_uid"], pod["pod_namespace"], pod["pod_name"]) == (POD_UID, "ml-team", "serve-7f9c")
    assert by_pid[6000]["container_id"] is None and by_pid[6000]["slurm_job_id"] is None
    single = client.get("/api/v1/system/monitoring/all").json()["gpu_processes"]
    assert {p["pid"]: p["pod_name"] for p in single}[5151] == "serve-7f9c"


def test_the_live_stream_carries_the_owners(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?fields=processes") as ws:
        frames = (ws.receive_json() for _ in range(20))
        frame = next(f for f in frames if f["type"] == "snapshot" and f.get("gpu_processes"))
    by_pid = {p["pid"]: p for p in frame["gpu_processes"]}
    assert by_pid[4242]["slurm_job_id"] == "77123"
    assert (by_pid[5151]["pod_namespace"], by_pid[5151]["container_id"]) == ("ml-team", CONTAINER)


@pytest.mark.parametrize(
    ("query", "pids"),
    [("77123", {4242}), ("ML-TEAM", {5151}), ("3f2c1b0a", {5151}), ("root", {5151, 6000}), ("nobody", set())],
)
def test_processes_are_searchable_by_owner(client: TestClient, query: str, pids: set[int]) -> None:
    for path in ("/api/v1/system/gpus", "/api/v1/system/monitoring/all"):
        body = client.get(path, params={"q": query}).json()
        assert {p["pid"] for p in body["gpu_processes"]} == pids, path
    for unfiltered in ({}, {"q": ""}):  # no filter, or an empty search box: all
        assert len(client.get("/api/v1/system/gpus", params=unfiltered).json()["gpu_processes"]) == 3


def test_an_overlong_search_is_refused_with_the_limit(client: TestClient) -> None:
    response = client.get("/api/v1/system/gpus", params={"q": "x" * 129})
    assert response.status_code == 422
    assert "128" in response.text


def test_metrics_carry_owner_labels_only_when_asked(client: TestClient, tmp_path: Path) -> None:
    plain = samples(client.get("/metrics").text)["gpu_sentinel_gpu_process_memory_bytes"]
    assert {s.labels["pid"] for s in plain} == {"4242", "5151", "6000"}
    assert all("container" not in s.labels and "hpc_job" not in s.labels for s in plain)

    with owned_client(tmp_path / "opt-in", prometheus_process_labels=True) as labelled:
        wait_for_processes(labelled)
        series = samples(labelled.get("/metrics").text)["gpu_sentinel_gpu_process_memory_bytes"]
    by_pid = {s.labels["pid"]: s.labels for s in series}
    assert by_pid["4242"]["hpc_job"] == "77123" and by_pid["4242"]["user"] == "alice"
    assert (by_pid["5151"]["container"], by_pid["5151"]["pod"]) == (CONTAINER, "serve-7f9c")
    assert by_pid["5151"]["namespace"] == "ml-team"
    assert by_pid["6000"]["container"] == "" and by_pid["6000"]["hpc_job"] == ""


def test_usage_answers_per_job_and_per_container(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0, history_cache_ttl=0)
    service = Service(settings, gpu_source=OwnedGPUs())
    with make_client(settings, service) as client:
        wait_for_processes(client)
        deadline = time.monotonic() + 10
        while True:
            assert service.store.flush()
            body = client.get("/api/v1/history/usage", params={"range": "1h"}).json()
            if body["jobs"] and body["containers"]:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.05)
    UsageResponse.model_validate(body)
    (job,) = body["jobs"]
    assert (job["id"], job["details"], job["processes"]) == ("77123", {"slurm_user": "alice"}, 1)
    (container,) = body["containers"]
    assert container["id"] == CONTAINER and container["details"]["pod_name"] == "serve-7f9c"
    assert [pod["details"]["pod_namespace"] for pod in body["pods"]] == ["ml-team"]
    by_pid = {p["pid"]: p for p in body["processes"]}
    assert by_pid[5151]["container_id"] == CONTAINER and by_pid[4242]["slurm_job_id"] == "77123"
