"""Profiling metrics and per-process utilization in the REST API, null with a reason where missing."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gpu_sentinel import models
from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.config import Settings
from gpu_sentinel.service import Service
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, ProfilingSample
from tests.api.conftest import make_client
from tests.api.test_system import conforms

TRAINER = GPUProcess(
    pid=os.getpid(),
    name="torchrun",
    kind="compute",
    gpu_memory_bytes=8 * 1024**3,
    user="alice",
    sm_util_pct=42.0,
    memory_util_pct=17.5,
    encoder_util_pct=0.0,
    decoder_util_pct=None,
)


class FixedGPUs:
    """A Hopper GPU with GPM and a pre-Hopper one without, always the same readings."""

    available = True
    status = "ok"

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        hopper = GPUSample(
            info=GPUInfo(index=0, name="NVIDIA H100 80GB HBM3"),
            utilization_gpu_pct=90.0,
            profiling=ProfilingSample(
                status="ok", sm_active_pct=61.5, tensor_active_pct=33.0, pcie_tx_bytes_per_s=2.5e9
            ),
            processes=(TRAINER,),
        )
        ampere = GPUSample(
            info=GPUInfo(index=1, name="NVIDIA A100-SXM4-80GB"),
            utilization_gpu_pct=50.0,
            profiling=ProfilingSample(status="unsupported"),
        )
        return (hopper, ampere)

    def call_stats(self) -> Mapping[str, CallStats]:
        return {}

    def close(self) -> None:
        return None


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, gpu_poll_interval=0.05, rate_limit=0)
    with make_client(settings, Service(settings, gpu_source=FixedGPUs())) as test_client:
        yield test_client


def test_profiling_metrics_are_in_the_gpu_metrics(client: TestClient) -> None:
    hopper = client.get("/api/v1/system/gpu-metrics", params={"gpu_id": 0}).json()
    ampere = client.get("/api/v1/system/gpu-metrics", params={"gpu_id": 1}).json()
    conforms(models.GPUMetrics, hopper)

    assert hopper["profiling"]["status"] == "ok"
    assert hopper["profiling"]["sm_active_pct"] == 61.5 and hopper["profiling"]["tensor_active_pct"] == 33.0
    assert hopper["profiling"]["pcie_tx_mb_per_s"] == 2500.0
    assert ampere["profiling"]["status"] == "unsupported"
    assert ampere["profiling"]["sm_active_pct"] is None and ampere["profiling"]["tensor_active_pct"] is None


def test_the_process_table_shows_each_process_share_of_the_gpu(client: TestClient) -> None:
    body = client.get("/api/v1/system/gpus").json()
    conforms(models.AllGPUsResponse, body)

    (process,) = body["gpu_processes"]
    assert process["sm_percent"] == 42.0 and process["memory_util_percent"] == 17.5
    assert process["encoder_percent"] == 0.0 and process["decoder_percent"] is None


def test_the_metric_catalogue_lists_the_profiling_readings(client: TestClient) -> None:
    response = client.get("/api/v1/metrics")
    assert response.status_code == 200, response.text
    text = response.text
    assert "gpu.tensor_active_pct" in text and "process.sm_util_pct" in text
    assert "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE" in text


def test_the_stream_carries_profiling_and_process_shares(client: TestClient) -> None:
    with client.websocket_connect("/api/v1/stream?fields=profiling,processes") as ws:
        frame = ws.receive_json()
    assert frame["gpus"][0]["profiling"]["tensor_active_pct"] == 33.0
    assert frame["gpus"][1]["profiling"] == {**frame["gpus"][1]["profiling"], "status": "unsupported"}
    (process,) = frame["gpu_processes"]
    assert process["sm_percent"] == 42.0
