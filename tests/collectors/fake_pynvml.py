"""A stand-in NVML driver for unit tests: replaces pynvml functions and raises pynvml's real exceptions.

Handles are plain integers; each device function looks up the GPU by handle, then raises what the test
asked for (not supported, GPU lost) or returns a realistic value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml
import pytest

HANDLE_BASE = 0x1000


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


class FakeDriver:
    """Install with ``install(monkeypatch)``; then change ``gpus``, ``unsupported``, ``lost`` freely."""

    def __init__(self, count: int = 2) -> None:
        self.gpus = [FakeGPU() for _ in range(count)]
        self.unsupported: set[str] = set()
        self.missing: set[str] = set()
        self.lost: set[int] = set()
        self.init_error: int | None = None
        self.events: list[tuple[int, int]] = []  # (gpu index, xid)
        self.calls: dict[str, int] = {}

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
        for name, function in self._functions().items():
            monkeypatch.setattr(pynvml, name, self._wrap(name, function))
        return self

    def _wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name in self.missing:
                raise nvml_error(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
            if name.startswith("nvmlDevice") and name != "nvmlDeviceGetCount" and args:
                handle = args[0]
                if isinstance(handle, int) and handle - HANDLE_BASE in self.lost:
                    raise nvml_error(pynvml.NVML_ERROR_GPU_IS_LOST)
                if name in self.unsupported:
                    raise nvml_error(pynvml.NVML_ERROR_NOT_SUPPORTED)
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

    def _processes(self, handle: int) -> list[Any]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in self.gpu(handle).processes]

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
            "nvmlDeviceGetMemoryInfo": lambda h, version=None: SimpleNamespace(
                used=g(h).memory_used, total=g(h).memory_total, free=g(h).memory_total - g(h).memory_used
            ),
            "nvmlDeviceGetUtilizationRates": lambda h: SimpleNamespace(gpu=g(h).util, memory=g(h).util // 2),
            "nvmlDeviceGetTemperature": lambda h, sensor: g(h).temperature,
            "nvmlDeviceGetFieldValues": lambda h, ids: [
                SimpleNamespace(
                    nvmlReturn=pynvml.NVML_SUCCESS,
                    valueType=pynvml.NVML_VALUE_TYPE_UNSIGNED_INT,
                    value=SimpleNamespace(uiVal=g(h).temperature + 8),
                )
            ],
            "nvmlDeviceGetPowerUsage": lambda h: g(h).power_mw,
            "nvmlDeviceGetEnforcedPowerLimit": lambda h: 700_000,
            "nvmlDeviceGetTotalEnergyConsumption": lambda h: 123_456_789,
            "nvmlDeviceGetFanSpeed": lambda h: 41,
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
            "nvmlEventSetCreate": object,
            "nvmlDeviceGetSupportedEventTypes": lambda h: pynvml.nvmlEventTypeXidCriticalError,
            "nvmlDeviceRegisterEvents": lambda h, types, event_set: None,
            "nvmlEventSetWait": self._wait,
            "nvmlEventSetFree": lambda event_set: None,
        }
