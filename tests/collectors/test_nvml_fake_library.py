"""The NVML collector through the real nvidia-ml-py binding and the fake libnvidia-ml.so (real ctypes)."""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines
from tests.fakenvml.fixtures import fake_nvml, fake_nvml_lib, fake_nvml_path

__all__ = ["fake_nvml", "fake_nvml_lib", "fake_nvml_path"]

pytestmark = pytest.mark.real_component

# A read that answers ends the wait at once; these only bound a failing test on a busy machine.
DEADLINES = ReadDeadlines(wait_s=5.0, fast_s=10.0, slow_s=10.0)


@contextmanager
def opened(**kwargs: Any) -> Iterator[NvmlGPUs]:
    gpus = NvmlGPUs(deadlines=DEADLINES, **kwargs)
    try:
        yield gpus
    finally:
        gpus.close()


def test_every_metric_is_read_through_the_binding(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "3")
    with opened() as gpus:
        samples = gpus.sample(now=time.time(), include_slow=True)

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
    with opened() as gpus:
        sample = gpus.sample(now=time.time(), include_slow=True)[0]
    assert sample.fan_speed_pct is None and sample.ecc_corrected_aggregate is None
    assert sample.temperature_c is not None and sample.utilization_gpu_pct is not None


def test_lost_gpu_and_xid_events(fake_nvml: ctypes.CDLL) -> None:
    with opened() as gpus:
        gpus.sample(now=1.0, include_slow=True)
        fake_nvml.fakenvml_inject_xid(0, 79)
        fake_nvml.fakenvml_set_lost(1, 1)
        first, second = gpus.sample(now=2.0, include_slow=False)
    assert first.xid_count == 1 and first.last_xid == 79 and not first.lost
    assert second.lost and second.temperature_c is None


def test_driver_that_loads_later_is_picked_up(fake_nvml: ctypes.CDLL) -> None:
    fake_nvml.fakenvml_set_init_error(9)  # NVML_ERROR_DRIVER_NOT_LOADED
    now = [0.0]
    with opened(retry_interval_s=5, clock=lambda: now[0]) as gpus:
        assert gpus.sample(now=1.0, include_slow=True) == ()
        assert "Driver Not Loaded" in gpus.status
        fake_nvml.fakenvml_set_init_error(0)
        now[0] = 6.0
        assert len(gpus.sample(now=2.0, include_slow=True)) == 2
        assert gpus.available


def test_counters_links_and_violation_times_through_the_binding(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake's counters grow at documented rates (tests/fakenvml/README.md), stamped by the driver."""
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "2")
    with opened() as gpus:
        gpus.sample(now=time.time(), include_slow=True)
        time.sleep(0.2)  # NVLink counters are whole KiB: 200 KiB a link, so truncation stays under 1 %
        samples = gpus.sample(now=time.time(), include_slow=False)
    for index, sample in enumerate(samples):
        scale = index + 1
        assert sample.pcie_tx_bytes_per_s == pytest.approx(scale * 100e6, rel=1e-3)
        assert sample.pcie_rx_bytes_per_s == pytest.approx(scale * 250e6, rel=1e-3)
        assert sample.nvlink_tx_bytes_per_s == pytest.approx(18 * scale * 1000 * 1024, rel=1e-2)
        assert sample.nvlink_rx_bytes_per_s == pytest.approx(18 * scale * 2000 * 1024, rel=1e-2)
        assert sample.pcie_replay_count == index
        assert (
            sample.nvlink_crc_flit_errors,
            sample.nvlink_crc_data_errors,
            sample.nvlink_replay_errors,
            sample.nvlink_recovery_errors,
        ) == (10 * index, 10 * index + 1, 10 * index + 2, 10 * index + 3)
        assert sample.memory_reserved_bytes == 512 * 1024**2
        assert sample.power_violation_s == scale * 1 and sample.reliability_violation_s == scale * 6
        assert sample.board_limit_violation_s == scale * 4 and sample.low_util_violation_s == scale * 5


def test_vgpu_license_state_is_read_where_the_gpu_is_a_vgpu_and_absent_on_bare_metal(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    with opened() as gpus:
        assert gpus.sample(now=time.time(), include_slow=True)[0].vgpu_license_state is None
    monkeypatch.setenv("FAKENVML_VGPU_LICENSE_STATE", "5")
    with opened() as gpus:
        assert [s.vgpu_license_state for s in gpus.sample(now=time.time(), include_slow=True)] == [5, 5]


def test_without_byte_counters_pcie_throughput_comes_from_the_slow_path(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_UNSUPPORTED_FIELDS", "197,198")
    with opened() as gpus:
        first = gpus.sample(now=time.time(), include_slow=True)[0]
        fast_calls = gpus.call_stats()["nvmlDeviceGetPcieThroughput"].calls
        for _ in range(3):
            gpus.sample(now=time.time(), include_slow=False)
        assert gpus.call_stats()["nvmlDeviceGetPcieThroughput"].calls == fast_calls == 2 * 2
    assert first.pcie_tx_bytes_per_s is not None and first.pcie_tx_bytes_per_s > 0
