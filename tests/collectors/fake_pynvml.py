"""A stand-in NVML driver for unit tests: replaces pynvml functions and raises pynvml's real exceptions.

Handles are plain integers; each device function looks up the GPU by handle, then raises what the test
asked for (not supported, GPU lost), blocks while the test holds a hang, or returns a realistic value.
Device workers call from several threads, so the call counts sit behind a lock.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

HANDLE_BASE = 0x1000
RESERVED_BYTES = 512 * 1024**2
HANG_LIMIT_S = 30.0  # a forgotten hang ends here, so a failing test cannot wedge the run


class Clock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def nvml_error(code: int) -> pynvml.NVMLError:
    """pynvml maps a return code to its exception subclass, exactly as the binding does for the driver."""
    return pynvml.NVMLError(code)


@dataclass
class FakeGPU:
    name: str = "NVIDIA H100 80GB HBM3"
    util: int = 87
    memory_used: int = 40 * 1024**3
    memory_total: int = 80 * 1024**3
    temperature: int = 64
    power_mw: int = 512_000
    processes: list[tuple[int, int]] = field(default_factory=list)  # (pid, used bytes)
    # Field values by field id, or (field id, link) for NVLink; None answers NVML_ERROR_NOT_SUPPORTED.
    fields: dict[Any, int | None] = field(default_factory=dict)
    field_timestamp_us: int = 1_000_000
    field_value_type: int = pynvml.NVML_VALUE_TYPE_UNSIGNED_LONG_LONG
    # GPM metric values by id; None: the GPU has no GPM. ``gpm_error`` is what nvmlGpmSampleGet raises.
    gpm: dict[int, float] | None = field(default_factory=lambda: dict(GPM_VALUES))
    gpm_error: int | None = None
    # Per-process samples as (pid, timestamp us, sm, mem, enc, dec); only those newer than asked return.
    process_samples: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)


GPM_VALUES = {
    pynvml.NVML_GPM_METRIC_SM_UTIL: 61.5,
    pynvml.NVML_GPM_METRIC_ANY_TENSOR_UTIL: 33.0,
    pynvml.NVML_GPM_METRIC_DRAM_BW_UTIL: 48.0,
    pynvml.NVML_GPM_METRIC_PCIE_TX_PER_SEC: 10.0,
    pynvml.NVML_GPM_METRIC_NVLINK_TOTAL_TX_PER_SEC: 2.0,
}


def default_fields(nvlink_links: int = 0) -> dict[Any, int | None]:
    fields: dict[Any, int | None] = {
        pynvml.NVML_FI_DEV_MEMORY_TEMP: 72,
        pynvml.NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION: 123_456_789,
        pynvml.NVML_FI_DEV_PCIE_REPLAY_COUNTER: 4,
        pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES: 0,
        pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES: 0,
        pynvml.NVML_FI_DEV_NVLINK_LINK_COUNT: nvlink_links,
    }
    for link in range(nvlink_links):
        fields[(pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, link)] = 0
        fields[(pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, link)] = 0
    return fields


class FakeDriver:
    """Install with ``install(monkeypatch)``; then change ``gpus``, ``unsupported``, ``lost`` freely."""

    def __init__(self, count: int = 2) -> None:
        self.gpus = [FakeGPU(fields=default_fields()) for _ in range(count)]
        self.unsupported: set[str] = set()
        self.missing: set[str] = set()
        self.lost: set[int] = set()
        self.init_error: int | None = None
        self.events: list[tuple[int, int]] = []  # (gpu index, xid)
        self.calls: dict[str, int] = {}
        self.hangs: dict[tuple[str, int], threading.Event] = {}  # (function, gpu index) -> release
        self.process_util_since: list[tuple[str, int]] = []  # (function, lastSeenTimeStamp) asked
        self.gpm_pairs: list[tuple[int, int]] = []  # (first, second) sample numbers of each metrics get
        self._gpm_samples: dict[int, tuple[int, int]] = {}  # sample address -> (handle, sample number)
        self._samples_taken = 0
        self._keep: list[Any] = []
        self._lock = threading.Lock()

    def hang(self, function: str, index: int) -> threading.Event:
        """Make ``function`` block on GPU ``index`` until the returned event is set."""
        release = self.hangs[(function, index)] = threading.Event()
        return release

    def release_all(self) -> None:
        for release in self.hangs.values():
            release.set()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
        for name, function in self._functions().items():
            monkeypatch.setattr(pynvml, name, self._wrap(name, function))
        return self

    def _wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            with self._lock:
                self.calls[name] = self.calls.get(name, 0) + 1
            if name in self.missing:
                raise nvml_error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
            if name.startswith("nvmlDevice") and name != "nvmlDeviceGetCount" and args:
                handle = args[0]
                if isinstance(handle, int) and handle - HANDLE_BASE in self.lost:
                    raise nvml_error(pynvml.NVML_ERROR_GPU_IS_LOST)
                if name in self.unsupported:
                    raise nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)
                release = self.hangs.get((name, handle - HANDLE_BASE)) if isinstance(handle, int) else None
                if release is not None:
                    release.wait(HANG_LIMIT_S)
            return function(*args)

        return call

    def gpu(self, handle: int) -> FakeGPU:
        return self.gpus[handle - HANDLE_BASE]

    def _init(self) -> None:
        if self.init_error is not None:
            raise nvml_error(self.init_error)

    def _wait(self, _event_set: Any, _timeout: int) -> Any:
        if not self.events:
            raise nvml_error(pynvml.NVML_ERROR_TIMEOUT)
        index, xid = self.events.pop(0)
        return SimpleNamespace(
            device=HANDLE_BASE + index, eventType=pynvml.nvmlEventTypeXidCriticalError, eventData=xid
        )

    def _memory(self, handle: int, version: int | None = None) -> Any:
        gpu = self.gpu(handle)
        memory = SimpleNamespace(
            used=gpu.memory_used, total=gpu.memory_total, free=gpu.memory_total - gpu.memory_used
        )
        if version is not None:
            memory.reserved = RESERVED_BYTES
        return memory

    def _field_values(self, handle: int, requests: list[Any]) -> list[Any]:
        gpu = self.gpu(handle)
        entries = []
        for request in requests:
            value = gpu.fields.get(request)
            entries.append(
                SimpleNamespace(
                    nvmlReturn=pynvml.NVML_SUCCESS if value is not None else pynvml.NVML_ERROR_NOT_SUPPORTED,
                    valueType=gpu.field_value_type,
                    timestamp=gpu.field_timestamp_us,
                    value=SimpleNamespace(uiVal=value, ullVal=value),
                )
            )
        return entries

    def _processes(self, handle: int) -> list[Any]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in self.gpu(handle).processes]

    def _gpm_alloc(self) -> Any:
        sample = ctypes.pointer(pynvml.struct_c_nvmlGpmSample_t())
        self._keep.append(sample)
        return sample

    def _gpm_sample(self, handle: int, sample: Any) -> Any:
        error = self.gpu(handle).gpm_error
        if error is not None:
            raise nvml_error(error)
        self._samples_taken += 1
        self._gpm_samples[ctypes.addressof(sample.contents)] = (handle, self._samples_taken)
        return sample

    def _gpm_metrics(self, request: Any) -> Any:
        handle, first = self._gpm_samples[ctypes.addressof(request.sample1.contents)]
        _, second = self._gpm_samples[ctypes.addressof(request.sample2.contents)]
        self.gpm_pairs.append((first, second))
        values = self.gpu(handle).gpm or {}
        for slot in range(request.numMetrics):
            metric = request.metrics[slot]
            value = values.get(metric.metricId)
            metric.nvmlReturn = pynvml.NVML_SUCCESS if value is not None else pynvml.NVML_ERROR_NOT_SUPPORTED
            metric.value = value or 0.0
        return request

    def _process_utilization(self, name: str) -> Callable[[int, int], list[Any]]:
        def read(handle: int, since: int) -> list[Any]:
            self.process_util_since.append((name, since))
            samples = [
                SimpleNamespace(pid=p, timeStamp=t, smUtil=sm, memUtil=mem, encUtil=enc, decUtil=dec)
                for p, t, sm, mem, enc, dec in self.gpu(handle).process_samples
                if t > since
            ]
            if not samples:
                raise nvml_error(pynvml.NVML_ERROR_NOT_FOUND)
            return samples

        return read

    @staticmethod
    def _bare_metal_licensing(handle: int) -> Any:
        raise nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)  # vGPU licences exist only inside vGPU guests

    def _functions(self) -> dict[str, Callable[..., Any]]:
        g = self.gpu
        return {
            "nvmlInit": self._init,
            "nvmlShutdown": lambda: None,
            "nvmlSystemGetDriverVersion": lambda: "550.54.15",
            "nvmlSystemGetCudaDriverVersion": lambda: 12040,
            "nvmlDeviceGetCount": lambda: len(self.gpus),
            "nvmlDeviceGetHandleByIndex": lambda i: HANDLE_BASE + i,
            "nvmlDeviceGetName": lambda h: g(h).name,
            "nvmlDeviceGetUUID": lambda h: f"GPU-{h:08x}",
            "nvmlDeviceGetSerial": lambda h: f"SN{h}",
            "nvmlDeviceGetPciInfo": lambda h: SimpleNamespace(busId=f"00000000:{h & 0xFF:02X}:00.0"),
            "nvmlDeviceGetCudaComputeCapability": lambda h: (9, 0),
            "nvmlDeviceGetMaxClockInfo": lambda h, clock: 1980 if clock == pynvml.NVML_CLOCK_SM else 2619,
            "nvmlDeviceGetMaxPcieLinkGeneration": lambda h: 5,
            "nvmlDeviceGetMaxPcieLinkWidth": lambda h: 16,
            "nvmlDeviceGetCurrPcieLinkGeneration": lambda h: 5,
            "nvmlDeviceGetCurrPcieLinkWidth": lambda h: 16,
            "nvmlDeviceGetMemoryInfo": self._memory,
            "nvmlDeviceGetUtilizationRates": lambda h: SimpleNamespace(gpu=g(h).util, memory=g(h).util // 2),
            "nvmlDeviceGetTemperature": lambda h, sensor: g(h).temperature,
            "nvmlDeviceGetFieldValues": self._field_values,
            "nvmlDeviceGetViolationStatus": lambda h, policy: SimpleNamespace(
                referenceTime=1, violationTime=(policy + 1) * 1_500_000_000
            ),
            "nvmlDeviceGetPowerUsage": lambda h: g(h).power_mw,
            "nvmlDeviceGetEnforcedPowerLimit": lambda h: 700_000,
            "nvmlDeviceGetFanSpeed": lambda h: 41,
            "nvmlDeviceGetGridLicensableFeatures_v4": self._bare_metal_licensing,
            "nvmlDeviceGetClockInfo": lambda h, clock: 1755 if clock == pynvml.NVML_CLOCK_SM else 2619,
            "nvmlDeviceGetEncoderUtilization": lambda h: [3, 167000],
            "nvmlDeviceGetDecoderUtilization": lambda h: [12, 167000],
            "nvmlDeviceGetPerformanceState": lambda h: 0,
            "nvmlDeviceGetCurrentClocksEventReasons": lambda h: (
                pynvml.nvmlClocksEventReasonSwPowerCap | pynvml.nvmlClocksEventReasonSwThermalSlowdown
            ),
            "nvmlDeviceGetCurrentClocksThrottleReasons": lambda h: pynvml.nvmlClocksEventReasonGpuIdle,
            "nvmlDeviceGetPcieThroughput": lambda h, counter: 2000 if counter == 0 else 5000,
            "nvmlDeviceGetTotalEccErrors": lambda h, kind, counter: 2 + kind * 10 + counter * 100,
            "nvmlDeviceGetRetiredPages": lambda h, cause: [0x1000] * (cause + 1),
            "nvmlDeviceGetRetiredPagesPendingStatus": lambda h: pynvml.NVML_FEATURE_DISABLED,
            "nvmlDeviceGetRemappedRows": lambda h: (3, 1, 0, 0),
            "nvmlDeviceGetMigMode": lambda h: [0, 0],
            "nvmlDeviceGetComputeRunningProcesses": self._processes,
            "nvmlDeviceGetGraphicsRunningProcesses": lambda h: [],
            "nvmlDeviceGetProcessesUtilizationInfo": self._process_utilization("info"),
            "nvmlDeviceGetProcessUtilization": self._process_utilization("legacy"),
            "nvmlGpmQueryDeviceSupport": lambda h: SimpleNamespace(
                isSupportedDevice=int(g(h).gpm is not None)
            ),
            "nvmlGpmSampleAlloc": self._gpm_alloc,
            "nvmlGpmSampleGet": self._gpm_sample,
            "nvmlGpmMetricsGet": self._gpm_metrics,
            "nvmlEventSetCreate": object,
            "nvmlDeviceGetSupportedEventTypes": lambda h: pynvml.nvmlEventTypeXidCriticalError,
            "nvmlDeviceRegisterEvents": lambda h, types, event_set: None,
            "nvmlEventSetWait": self._wait,
            "nvmlEventSetFree": lambda event_set: None,
        }
