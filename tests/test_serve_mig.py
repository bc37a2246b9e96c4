"""MIG end to end: ``serve`` on the fake libnvidia-ml.so with two GPUs, GPU 0 in MIG mode with three MIG
devices; the API, the live stream and /metrics show each instance under its GPU, nulls where MIG has no
figure, and GPU 1 (MIG mode off) as before."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect

from tests.fakenvml.build import fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml_path
from tests.server import running_server

__all__ = ["fake_nvml_path"]

pytestmark = pytest.mark.real_component

GIB = 1024**3
POLL_LIMIT_S = 30.0
PIDS = (os.getpid(), os.getppid())  # processes that exist, so the service's host lookup keeps them
PROFILES = ["3g.40gb", "2g.20gb", "1g.10gb"]


@pytest.fixture(scope="module")
def url(fake_nvml_path: Path) -> Iterator[str]:
    env = fake_nvml_env(
        fake_nvml_path,
        gpu_count="2",
        mig="0:" + "/".join(PROFILES),
        pids=",".join(map(str, PIDS)),
    )
    with running_server([], env=env) as base_url:
        yield base_url


def profiled_gpus(url: str) -> dict[str, Any]:
    """/api/v1/system/gpus once every MIG device has completed a GPM interval."""
    deadline = time.monotonic() + POLL_LIMIT_S
    while True:
        body: dict[str, Any] = httpx.get(f"{url}/api/v1/system/gpus").json()
        instances = body["gpus"][0]["mig_instances"]
        if instances and all(m["profiling"]["status"] == "ok" for m in instances):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"MIG devices never profiled: {instances}")
        time.sleep(0.1)


def test_the_gpus_endpoint_lists_each_mig_device_under_its_gpu(url: str) -> None:
    body = profiled_gpus(url)
    mig, plain = body["gpus"]

    assert mig["mig_mode"] is True and plain["mig_mode"] is False and plain["mig_instances"] == []
    instances = mig["mig_instances"]
    assert [(m["profile"], m["gpu_instance_id"], m["compute_instance_id"]) for m in instances] == [
        ("3g.40gb", 1, 0),
        ("2g.20gb", 2, 0),
        ("1g.10gb", 3, 0),
    ]
    assert instances[0]["uuid"] == "MIG-fake0000-0000-0000-0000-000000000001"
    assert [(m["memory"]["total_gb"], m["memory"]["used_gb"]) for m in instances] == [
        (40.0, 1.0),
        (20.0, 2.0),
        (10.0, 3.0),
    ]
    assert [m["memory"]["free_gb"] for m in instances] == [39.0, 18.0, 7.0]
    assert [m["profiling"]["sm_active_pct"] for m in instances] == [31.0, 32.0, 33.0]
    assert [m["profiling"]["tensor_active_pct"] for m in instances] == [16.0, 17.0, 18.0]

    # NVML has no utilization per MIG device nor for a GPU in MIG mode: null, never 0.
    assert all(m["utilization"]["gpu"] is None for m in instances)
    assert mig["utilization"]["gpu"] is None and plain["utilization"]["gpu"] is not None

    # Process j runs on MIG device j % 3; each instance names its own.
    assert [m["pids"] for m in instances] == [[PIDS[0]], [PIDS[1]], []]
    on_mig = {p["pid"]: p for p in body["gpu_processes"] if p["gpu_id"] == 0}
    assert {pid: (p["gpu_instance_id"], p["compute_instance_id"]) for pid, p in on_mig.items()} == {
        PIDS[0]: (1, 0),
        PIDS[1]: (2, 0),
    }
    assert all(p["sm_percent"] is None for p in on_mig.values())
    on_plain = [p for p in body["gpu_processes"] if p["gpu_id"] == 1]
    assert on_plain and all(p["gpu_instance_id"] is None and p["sm_percent"] is not None for p in on_plain)


def test_the_single_gpu_view_carries_the_instances(url: str) -> None:
    profiled_gpus(url)
    body = httpx.get(f"{url}/api/v1/system/monitoring/all", params={"gpu_id": 0}).json()
    assert [m["profile"] for m in body["gpu_metrics"]["mig_instances"]] == PROFILES
    assert {p["gpu_instance_id"] for p in body["gpu_processes"]} == {1, 2}


def test_the_live_stream_carries_the_instances(url: str) -> None:
    profiled_gpus(url)
    ws_url = url.replace("http://", "ws://") + "/api/v1/stream?gpus=0&fields=mig_instances"
    with connect(ws_url, open_timeout=10) as ws:
        frame = json.loads(ws.recv(timeout=10))
    (gpu,) = frame["gpus"]
    assert [m["profile"] for m in gpu["mig_instances"]] == PROFILES


def test_metrics_label_each_instance_as_dcgm_exporter_does(url: str) -> None:
    profiled_gpus(url)
    families = {f.name: f for f in text_string_to_metric_families(httpx.get(f"{url}/metrics").text)}

    used = families["DCGM_FI_DEV_FB_USED"].samples
    per_instance = {
        (s.labels["GPU_I_PROFILE"], s.labels["GPU_I_ID"]): s for s in used if "GPU_I_ID" in s.labels
    }
    assert set(per_instance) == {("3g.40gb", "1"), ("2g.20gb", "2"), ("1g.10gb", "3")}
    first = per_instance[("3g.40gb", "1")]
    assert first.value == 1024  # MiB, as dcgm-exporter
    assert first.labels["gpu"] == "0" and first.labels["UUID"] == "GPU-fake0000-0000-0000-0000-000000000000"
    assert first.labels["device"] == "nvidia0" and first.labels["modelName"] == "NVIDIA H100 80GB HBM3"
    assert {s.labels["gpu"] for s in used if "GPU_I_ID" not in s.labels} == {"0", "1"}  # the whole GPUs

    sm = {s.labels.get("GPU_I_ID"): s.value for s in families["DCGM_FI_PROF_SM_ACTIVE"].samples}
    assert sm["1"] == pytest.approx(0.31) and sm["3"] == pytest.approx(0.33)
    # No GPU_UTIL series where NVML has none: the MIG GPU and its instances write nothing.
    assert {s.labels["gpu"] for s in families["DCGM_FI_DEV_GPU_UTIL"].samples} == {"1"}
