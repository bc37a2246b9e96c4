"""GPM and per-process utilization through the real nvidia-ml-py binding and the fake libnvidia-ml.so."""

from __future__ import annotations

import ctypes
import os
import time

import pynvml
import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs
from gpu_sentinel.snapshot import GPUSample
from tests.collectors.test_nvml_fake_library import opened
from tests.fakenvml.fixtures import fake_nvml, fake_nvml_lib, fake_nvml_path

__all__ = ["fake_nvml", "fake_nvml_lib", "fake_nvml_path"]

pytestmark = pytest.mark.real_component

MIB = 1024 * 1024
POLL_LIMIT = 100
POLL_PAUSE_S = 0.05


def sample_until_profiled(gpus: NvmlGPUs) -> tuple[GPUSample, ...]:
    """Ticks until GPU 0 has a full GPM interval (the fake wants its two samples 100 ms apart)."""
    for _ in range(POLL_LIMIT):
        samples = gpus.sample(now=time.time(), include_slow=True)
        if samples[0].profiling.status == "ok":
            return samples
        time.sleep(POLL_PAUSE_S)
    raise AssertionError(f"GPM never reported; last samples: {samples}")


def test_profiling_metrics_come_through_the_binding(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "3")
    monkeypatch.setenv("FAKENVML_NO_GPM", "2")
    with opened() as gpus:
        samples = sample_until_profiled(gpus)

    for index, sample in enumerate(samples[:2]):
        gpm = sample.profiling
        assert gpm.status == "ok"
        assert gpm.sm_active_pct == 60 + index and gpm.sm_occupancy_pct == 40 + index
        assert gpm.tensor_active_pct == 30 + index and gpm.tensor_hmma_active_pct == 20 + index
        assert gpm.tensor_imma_active_pct == 5 + index and gpm.tensor_dfma_active_pct == 2 + index
        assert gpm.dram_active_pct == 50 + index and gpm.graphics_active_pct == 70 + index
        assert (gpm.fp64_active_pct, gpm.fp32_active_pct, gpm.fp16_active_pct) == (
            3 + index,
            25 + index,
            10 + index,
        )
        assert gpm.pcie_tx_bytes_per_s == 100 * (index + 1) * MIB
        assert gpm.pcie_rx_bytes_per_s == 250 * (index + 1) * MIB
    pre_hopper = samples[2]
    assert pre_hopper.profiling.status == "unsupported"
    assert pre_hopper.profiling.sm_active_pct is None and pre_hopper.profiling.tensor_active_pct is None
    assert pre_hopper.utilization_gpu_pct is not None  # everything else still reads


def test_processes_report_their_utilization(fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    with opened() as gpus:
        samples = gpus.sample(now=time.time(), include_slow=True)

    for index, sample in enumerate(samples):
        (process,) = sample.processes
        assert process.pid == os.getpid()
        assert process.sm_util_pct == 10 + index and process.memory_util_pct == 5 + index
        assert process.encoder_util_pct == 0 and process.decoder_util_pct == 0


def test_the_legacy_per_process_call_serves_older_drivers(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_UNSUPPORTED", "nvmlDeviceGetProcessesUtilizationInfo")
    with opened() as gpus:
        (process,) = gpus.sample(now=time.time(), include_slow=True)[1].processes
    assert process.sm_util_pct == 11 and process.memory_util_pct == 6


def test_per_process_utilization_the_driver_refuses_is_null(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "FAKENVML_UNSUPPORTED", "nvmlDeviceGetProcessesUtilizationInfo,nvmlDeviceGetProcessUtilization"
    )
    with opened() as gpus:
        (process,) = gpus.sample(now=time.time(), include_slow=True)[0].processes
    assert process.gpu_memory_bytes  # the process is still listed
    assert process.sm_util_pct is None and process.memory_util_pct is None


@pytest.mark.parametrize(
    "function", [pynvml.nvmlDeviceGetProcessesUtilizationInfo, pynvml.nvmlDeviceGetProcessUtilization]
)
def test_the_fake_returns_only_samples_newer_than_the_timestamp(
    fake_nvml: ctypes.CDLL, function: object
) -> None:
    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        everything = function(handle, 0)  # type: ignore[operator]
        newest = max(sample.timeStamp for sample in everything)
        older = sorted({sample.timeStamp for sample in everything})[-3]
        recent = function(handle, older)  # type: ignore[operator]
        assert len(everything) == 12  # the whole buffer: one process, 12 samples
        assert len(recent) >= 2 and all(sample.timeStamp > older for sample in recent)
        assert max(sample.timeStamp for sample in recent) >= newest
    finally:
        pynvml.nvmlShutdown()


def test_gpm_samples_closer_than_100_ms_are_refused(fake_nvml: ctypes.CDLL) -> None:
    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        first, second = pynvml.nvmlGpmSampleAlloc(), pynvml.nvmlGpmSampleAlloc()
        pynvml.nvmlGpmSampleGet(handle, first)
        pynvml.nvmlGpmSampleGet(handle, second)
        request = pynvml.c_nvmlGpmMetricsGet_t()
        request.version = pynvml.NVML_GPM_METRICS_GET_VERSION
        request.numMetrics = 1
        request.sample1, request.sample2 = first, second
        request.metrics[0].metricId = pynvml.NVML_GPM_METRIC_SM_UTIL
        with pytest.raises(pynvml.NVMLError_InvalidArgument):
            pynvml.nvmlGpmMetricsGet(request)
        pynvml.nvmlGpmSampleFree(first)
        pynvml.nvmlGpmSampleFree(second)
    finally:
        pynvml.nvmlShutdown()
