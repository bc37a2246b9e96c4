"""Profiling metrics through NVML's GPU Performance Monitoring (GPM), Hopper and newer.

GPM metrics describe the interval between two samples, so the fast reader takes one sample per tick
and computes each tick's metrics against the previous tick's sample: one ``nvmlGpmSampleGet`` and one
``nvmlGpmMetricsGet`` per GPU per tick, for every metric at once. NVML wants the two samples at least
100 ms apart; a tick closer than that to the previous sample keeps the previous figures.

A GPU without GPM (``nvmlGpmQueryDeviceSupport``, asked once) reports every profiling field as None with
the ``ProfilingSample``'s ``status`` saying why: ``unsupported``, ``no_permission``, ``pending`` (the
first tick, no pair of samples yet) or ``error``. On a GPU in MIG mode each GPU instance has its own sampler
(``nvmlGpmMigSampleGet``) for the activity metrics; PCIe and NVLink belong to the whole GPU.

Sample buffers are NVML allocations: ``close`` frees them, and the reader calls it when its GPU is lost
or the source stops, so a GPU that comes and goes leaks nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pynvml

from gpu_sentinel.collectors.nvml.calls import NvmlCalls

MIB = 1024.0 * 1024.0
MIN_INTERVAL_S = 0.1

# GPM metric id -> ProfilingSample field (GPUSample's for NVLink), with the scale from GPM's unit to
# the field's (percent, or MiB/s to bytes/s).
GPM_FIELDS: tuple[tuple[int, str, float], ...] = (
    (pynvml.NVML_GPM_METRIC_GRAPHICS_UTIL, "graphics_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_SM_UTIL, "sm_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_SM_OCCUPANCY, "sm_occupancy_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_ANY_TENSOR_UTIL, "tensor_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_HMMA_TENSOR_UTIL, "tensor_hmma_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_IMMA_TENSOR_UTIL, "tensor_imma_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_DFMA_TENSOR_UTIL, "tensor_dfma_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_DRAM_BW_UTIL, "dram_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_FP64_UTIL, "fp64_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_FP32_UTIL, "fp32_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_FP16_UTIL, "fp16_active_pct", 1.0),
    (pynvml.NVML_GPM_METRIC_PCIE_TX_PER_SEC, "pcie_tx_bytes_per_s", MIB),
    (pynvml.NVML_GPM_METRIC_PCIE_RX_PER_SEC, "pcie_rx_bytes_per_s", MIB),
    (pynvml.NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC, "gpm_nvlink_tx_bytes_per_s", MIB),
    (pynvml.NVML_GPM_METRIC_NVLINK_TOTAL_RX_PER_SEC, "gpm_nvlink_rx_bytes_per_s", MIB),
)
MIG_FIELDS = tuple(entry for entry in GPM_FIELDS if entry[2] == 1.0)
"""The activity metrics, which GPM reports per GPU instance."""
NVLINK_FIELDS = {
    "gpm_nvlink_tx_bytes_per_s": "nvlink_tx_bytes_per_s",
    "gpm_nvlink_rx_bytes_per_s": "nvlink_rx_bytes_per_s",
}
"""GPM's NVLink totals stand in for the field-value counters only where those give nothing."""


def gpm_supported(calls: NvmlCalls, handle: Any) -> bool:
    """Asked once per GPU when it opens: False on pre-Hopper GPUs and drivers without GPM."""
    support = calls.call(None, "nvmlGpmQueryDeviceSupport", handle)
    return bool(support is not None and support.isSupportedDevice)


def _status(error: pynvml.NVMLError | None) -> str:
    if isinstance(error, pynvml.NVMLError_NoPermission):
        return "no_permission"
    if isinstance(error, pynvml.NVMLError_NotSupported | pynvml.NVMLError_FunctionNotFound):
        return "unsupported"
    return "error"


GpmFields = tuple[tuple[int, str, float], ...]


def empty_fields(status: str, fields: GpmFields = GPM_FIELDS) -> dict[str, Any]:
    """Every profiling field missing, and why."""
    return {"status": status, **{name: None for _, name, _ in fields}}


class GpmSampler:
    """One GPU's (or one GPU instance's) pair of GPM samples and the figures of the latest interval.
    Owned by its fast reader's thread; the samples are swapped rather than reallocated, so a tick
    allocates nothing."""

    def __init__(
        self,
        calls: NvmlCalls,
        handle: Any,
        supported: bool,
        clock: Callable[[], float],
        gpu_instance_id: int | None = None,
    ) -> None:
        self._calls = calls
        self._handle = handle
        self._clock = clock
        self._gpu_instance_id = gpu_instance_id
        self._fields = GPM_FIELDS if gpu_instance_id is None else MIG_FIELDS
        self._status = "pending" if supported else "unsupported"
        self._previous: Any = None  # the sample the next interval starts from
        self._previous_at = 0.0
        self._spare: Any = None  # the buffer the next sample is taken into
        self._last = empty_fields(self._status, self._fields)

    def read(self) -> dict[str, Any]:
        """This tick's figures: the interval from the previous sample to one taken now."""
        if self._status in ("unsupported", "no_permission"):
            return empty_fields(self._status, self._fields)
        now = self._clock()
        if self._previous is not None and now - self._previous_at < MIN_INTERVAL_S:
            return self._last
        if self._spare is None:
            self._spare, error = self._calls.attempt(None, "nvmlGpmSampleAlloc")
            if self._spare is None:
                return self._failed(error)
        taken, error = self._take(self._spare)
        if taken is None:
            return self._failed(error)
        previous = self._previous
        self._previous, self._spare, self._previous_at = self._spare, previous, now
        self._last = (
            empty_fields("pending", self._fields)
            if previous is None
            else self._metrics(previous, self._previous)
        )
        return self._last

    def close(self) -> None:
        """Free both sample buffers; read again, the sampler starts a new pair."""
        for sample in (self._previous, self._spare):
            if sample is not None:
                self._calls.attempt(None, "nvmlGpmSampleFree", sample)
        self._previous = self._spare = None

    def _take(self, sample: Any) -> tuple[Any, pynvml.NVMLError | None]:
        if self._gpu_instance_id is None:
            return self._calls.attempt(None, "nvmlGpmSampleGet", self._handle, sample)
        return self._calls.attempt(None, "nvmlGpmMigSampleGet", self._handle, self._gpu_instance_id, sample)

    def _failed(self, error: pynvml.NVMLError | None) -> dict[str, Any]:
        """No sample this tick; "unsupported" and "no permission" will not change, so stop asking."""
        status = _status(error)
        if status != "error":
            self._status = status
        self._last = empty_fields(status, self._fields)
        return self._last

    def _metrics(self, first: Any, second: Any) -> dict[str, Any]:
        request = pynvml.c_nvmlGpmMetricsGet_t()
        request.version = pynvml.NVML_GPM_METRICS_GET_VERSION
        request.numMetrics = len(self._fields)
        request.sample1 = first
        request.sample2 = second
        for slot, (metric_id, _, _) in enumerate(self._fields):
            request.metrics[slot].metricId = metric_id
        answer, error = self._calls.attempt(None, "nvmlGpmMetricsGet", request)
        if answer is None:
            return empty_fields(_status(error), self._fields)
        fields: dict[str, Any] = {"status": "ok"}
        for slot, (_, name, scale) in enumerate(self._fields):
            metric = answer.metrics[slot]
            fields[name] = metric.value * scale if metric.nvmlReturn == pynvml.NVML_SUCCESS else None
        return fields
