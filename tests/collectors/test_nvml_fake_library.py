"""The NVML collector through the real nvidia-ml-py binding and the fake libnvidia-ml.so (real ctypes)."""

from __future__ import annotations

import ctypes
import os
import time

import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs
from tests.fakenvml.fixtures import fake_nvml, fake_nvml_lib, fake_nvml_path

__all__ = ["fake_nvml", "fake_nvml_lib", "fake_nvml_path"]

pytestmark = pytest.mark.real_component


def test_every_metric_is_read_through_the_binding(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "3")
    gpus = NvmlGPUs()
    try:
        samples = gpus.sample(now=time.time(), include_slow=True)
    finally:
        gpus.close()

    assert len(samples) == 3 and gpus.status == "ok"
    assert len({s.info.uuid for s in samples}) == 3
    for sample in samples:
        assert sample.info.name == "NVIDIA H100 80GB HBM3"
        assert sample.info.memory_total_bytes == 80 * 1024**3
        assert sample.info.cuda_version == "12.4" and sample.info.compute_capability == "9.0"
        assert 0 <= (sample.utilization_gpu_pct or 0) <= 100
        assert sample.memory_used_bytes is not None and sample.memory_used_bytes <= 80 * 1024**3
        assert 30 <= (sample.temperature_c or 0) <= 90 and sample.memory_temperature_c is not None
        assert 0 < (sample.power_w or 0) <= 700 and sample.power_limit_w == 700
        assert sample.energy_j and sample.energy_j > 0
        assert sample.pcie_generation == 5 and sample.pcie_width == 16
        assert sample.clock_event_reasons is not None
        assert sample.ecc_corrected_volatile is not None and sample.remapped_rows_correctable is not None
        assert [p.pid for p in sample.processes] == [os.getpid()]
        assert sample.processes[0].gpu_memory_bytes and "/" not in sample.processes[0].name


def test_unsupported_functions_become_null(fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKENVML_UNSUPPORTED", "nvmlDeviceGetFanSpeed,nvmlDeviceGetTotalEccErrors")
    gpus = NvmlGPUs()
    try:
        sample = gpus.sample(now=time.time(), include_slow=True)[0]
    finally:
        gpus.close()
    assert sample.fan_speed_pct is None and sample.ecc_corrected_aggregate is None
    assert sample.temperature_c is not None and sample.utilization_gpu_pct is not None


def test_lost_gpu_and_xid_events(fake_nvml: ctypes.CDLL) -> None:
    gpus = NvmlGPUs()
    try:
        gpus.sample(now=1.0, include_slow=True)
        fake_nvml.fakenvml_inject_xid(0, 79)
        fake_nvml.fakenvml_set_lost(1, 1)
        first, second = gpus.sample(now=2.0, include_slow=False)
    finally:
        gpus.close()
    assert first.xid_count == 1 and first.last_xid == 79 and not first.lost
    assert second.lost and second.temperature_c is None


def test_driver_that_loads_later_is_picked_up(fake_nvml: ctypes.CDLL) -> None:
    fake_nvml.fakenvml_set_init_error(9)  # NVML_ERROR_DRIVER_NOT_LOADED
    now = [0.0]
    gpus = NvmlGPUs(retry_interval_s=5, clock=lambda: now[0])
    try:
        assert gpus.sample(now=1.0, include_slow=True) == ()
        assert "Driver Not Loaded" in gpus.status
        fake_nvml.fakenvml_set_init_error(0)
        now[0] = 6.0
        assert len(gpus.sample(now=2.0, include_slow=True)) == 2
        assert gpus.available
    finally:
        gpus.close()
