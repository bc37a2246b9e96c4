"""GPM profiling series under dcgm-exporter's DCGM_FI_PROF_* names, and opt-in per-process utilization."""

from __future__ import annotations

import dataclasses

import pytest

from gpu_sentinel.prometheus import SnapshotCollector, render_metrics
from gpu_sentinel.snapshot import GPUProcess, ProfilingSample, Snapshot
from tests.test_prometheus import CALL_STATS, HOSTNAME, gpu_sample, parse, samples, snapshot

PROFILED = ProfilingSample(
    status="ok",
    graphics_active_pct=91.0,
    sm_active_pct=61.5,
    sm_occupancy_pct=40.0,
    tensor_active_pct=33.0,
    tensor_hmma_active_pct=30.0,
    tensor_imma_active_pct=3.0,
    tensor_dfma_active_pct=0.0,
    dram_active_pct=48.0,
    fp64_active_pct=1.0,
    fp32_active_pct=25.0,
    fp16_active_pct=12.0,
    pcie_tx_bytes_per_s=2.5e9,
    pcie_rx_bytes_per_s=4.0e9,
)


def render(snap: Snapshot, *, process_utilization: bool = False) -> str:
    collector = SnapshotCollector(
        lambda: snap, lambda: CALL_STATS, HOSTNAME, process_utilization=process_utilization
    )
    return render_metrics(collector)[0].decode()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", 0.91),
        ("DCGM_FI_PROF_SM_ACTIVE", 0.615),
        ("DCGM_FI_PROF_SM_OCCUPANCY", 0.40),
        ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", 0.33),
        ("DCGM_FI_PROF_PIPE_TENSOR_HMMA_ACTIVE", 0.30),
        ("DCGM_FI_PROF_PIPE_TENSOR_IMMA_ACTIVE", 0.03),
        ("DCGM_FI_PROF_PIPE_TENSOR_DFMA_ACTIVE", 0.0),
        ("DCGM_FI_PROF_DRAM_ACTIVE", 0.48),
        ("DCGM_FI_PROF_PIPE_FP64_ACTIVE", 0.01),
        ("DCGM_FI_PROF_PIPE_FP32_ACTIVE", 0.25),
        ("DCGM_FI_PROF_PIPE_FP16_ACTIVE", 0.12),
    ],
)
def test_profiling_series_use_dcgm_names_and_units(name: str, expected: float) -> None:
    family = parse(render(snapshot((gpu_sample(0, profiling=PROFILED),))))[name]
    assert family.type == "gauge"
    (series,) = family.samples
    assert series.value == pytest.approx(expected)
    assert series.labels["gpu"] == "0" and series.labels["Hostname"] == HOSTNAME


def test_a_gpu_without_gpm_exports_no_profiling_series() -> None:
    unsupported = ProfilingSample(status="unsupported")
    text = render(snapshot((gpu_sample(0, profiling=PROFILED), gpu_sample(1, profiling=unsupported))))
    tensor = samples(text)["DCGM_FI_PROF_PIPE_TENSOR_ACTIVE"]
    assert [series.labels["gpu"] for series in tensor] == ["0"]  # no 0 for the GPU that cannot tell


def test_per_process_utilization_is_exported_only_when_asked() -> None:
    process = GPUProcess(pid=10, name="trainer", kind="compute", gpu_memory_bytes=1, user="bob")
    busy = dataclasses.replace(process, sm_util_pct=42.0, memory_util_pct=7.0, decoder_util_pct=0.0)
    snap = snapshot((gpu_sample(0, processes=(busy,)),))

    default = samples(render(snap))
    opted_in = samples(render(snap, process_utilization=True))

    assert not [name for name in default if name.startswith("gpu_sentinel_gpu_process_") and "util" in name]
    (sm,) = opted_in["gpu_sentinel_gpu_process_sm_utilization_ratio"]
    assert sm.value == pytest.approx(0.42) and sm.labels["pid"] == "10" and sm.labels["user"] == "bob"
    assert opted_in["gpu_sentinel_gpu_process_decoder_utilization_ratio"][0].value == 0.0
    assert "gpu_sentinel_gpu_process_encoder_utilization_ratio" not in opted_in  # unknown: no series
