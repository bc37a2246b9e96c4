"""NVIDIA GPUs through NVML (the official ``nvidia-ml-py`` binding). The only module that imports pynvml.

Every driver call goes through ``_NvmlCalls.call``: a metric the GPU does not support (or we may not
read) becomes ``None`` for that field only, a GPU that falls off the bus is marked lost while the others
keep reporting, and every call is counted and timed for the collection-cost metrics. ``nvmlInit`` runs
once; when it fails the collector retries on an interval, so a driver that comes up later is picked up
without a restart. All of it runs on the sampler thread.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pynvml

from gpu_sentinel.collectors.base import CallStats
from gpu_sentinel.collectors.processes import ProcessInspector
from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, XidEvent

log = logging.getLogger(__name__)

RECENT_XID_EVENTS = 20

# Errors that mean "this field is not available here": the field becomes None, nothing else changes.
_FIELD_UNAVAILABLE: tuple[type[Exception], ...] = (
    pynvml.NVMLError_NotSupported,
    pynvml.NVMLError_NoPermission,
    pynvml.NVMLError_FunctionNotFound,
    pynvml.NVMLError_InvalidArgument,
    pynvml.NVMLError_NoData,
)
# Of those, the ones that will not change while the driver is loaded: stop asking.
_PERMANENTLY_UNAVAILABLE: tuple[type[Exception], ...] = (
    pynvml.NVMLError_NotSupported,
    pynvml.NVMLError_FunctionNotFound,
)

CLOCK_EVENT_REASONS: tuple[tuple[int, str], ...] = (
    (pynvml.nvmlClocksEventReasonGpuIdle, "gpu_idle"),
    (pynvml.nvmlClocksEventReasonApplicationsClocksSetting, "applications_clocks_setting"),
    (pynvml.nvmlClocksEventReasonSwPowerCap, "sw_power_cap"),
    (pynvml.nvmlClocksEventReasonHwSlowdown, "hw_slowdown"),
    (pynvml.nvmlClocksEventReasonSyncBoost, "sync_boost"),
    (pynvml.nvmlClocksEventReasonSwThermalSlowdown, "sw_thermal_slowdown"),
    (pynvml.nvmlClocksEventReasonHwThermalSlowdown, "hw_thermal_slowdown"),
    (pynvml.nvmlClocksEventReasonHwPowerBrakeSlowdown, "hw_power_brake_slowdown"),
    (pynvml.nvmlClocksEventReasonDisplayClockSetting, "display_clock_setting"),
)


def decode_clock_event_reasons(mask: int) -> tuple[str, ...]:
    """NVML's clock-event (throttle) bitmask as names, in bit order."""
    return tuple(name for bit, name in CLOCK_EVENT_REASONS if mask & bit)


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _handle_address(handle: Any) -> int | None:
    """A device handle's address, to match event records to devices."""
    return ctypes.cast(handle, ctypes.c_void_p).value


class _GPULost(Exception):
    """Raised inside a device read when the driver reports the GPU is gone."""


class _NvmlCalls:
    """Times and counts every NVML call and maps its errors to None / lost."""

    def __init__(self) -> None:
        self.stats: dict[str, CallStats] = {}
        self.calls_this_tick = 0
        self._warned: set[str] = set()

    def call(self, unsupported: set[str] | None, name: str, *args: Any) -> Any:
        """Call ``pynvml.<name>``; ``unsupported`` (per device) remembers functions not worth retrying."""
        if unsupported is not None and name in unsupported:
            return None
        function = getattr(pynvml, name)
        stats = self.stats.get(name)
        if stats is None:
            stats = self.stats[name] = CallStats()
        started = time.perf_counter()
        try:
            return function(*args)
        except pynvml.NVMLError_GpuIsLost as exc:
            stats.errors += 1
            raise _GPULost from exc
        except _FIELD_UNAVAILABLE as exc:
            stats.errors += 1
            if unsupported is not None and isinstance(exc, _PERMANENTLY_UNAVAILABLE):
                unsupported.add(name)
            return None
        except pynvml.NVMLError as exc:
            stats.errors += 1
            if name not in self._warned:
                self._warned.add(name)
                log.warning("NVML %s failed: %s (reported as missing)", name, exc)
            return None
        finally:
            stats.calls += 1
            stats.seconds += time.perf_counter() - started
            self.calls_this_tick += 1


@dataclass
class _Device:
    """One GPU: its handle, static info, what it does not support, and the last slow readings."""

    index: int
    handle: Any
    info: GPUInfo
    lost: bool = False
    unsupported: set[str] = field(default_factory=set)
    memory_v2: bool = True
    slow: dict[str, Any] = field(default_factory=dict)
    processes: tuple[GPUProcess, ...] = ()
    xid_count: int = 0
    xid_events: deque[XidEvent] = field(default_factory=lambda: deque(maxlen=RECENT_XID_EVENTS))


class NvmlGPUs:
    """The GPU source for real NVIDIA GPUs."""

    def __init__(
        self,
        retry_interval_s: float = 30.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        inspector: ProcessInspector | None = None,
    ) -> None:
        self._retry_interval_s = retry_interval_s
        self._clock = clock
        self._inspector = inspector or ProcessInspector()
        self._calls = _NvmlCalls()
        self._devices: list[_Device] = []
        self._initialized = False
        self._next_attempt = 0.0
        self._event_set: Any = None
        self._devices_by_address: dict[int, _Device] = {}
        self._status = "nvml_unavailable: not initialised yet"

    @property
    def available(self) -> bool:
        return self._initialized and bool(self._devices)

    @property
    def status(self) -> str:
        return self._status

    @property
    def last_call_count(self) -> int:
        return self._calls.calls_this_tick

    def call_stats(self) -> Mapping[str, CallStats]:
        return self._calls.stats

    # -- lifecycle ---------------------------------------------------------------------------------

    def _ensure_initialized(self) -> None:
        if self._initialized or self._clock() < self._next_attempt:
            return
        self._next_attempt = self._clock() + self._retry_interval_s
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as exc:
            self._status = f"nvml_unavailable: {exc}"
            log.info("NVML not available (%s); retrying every %.0f s", exc, self._retry_interval_s)
            return
        self._initialized = True
        try:
            self._open_devices()
        except pynvml.NVMLError as exc:
            self._status = f"nvml_unavailable: {exc}"
            log.warning("NVML initialised but devices could not be listed: %s", exc)
            self._shutdown()
            return
        if not self._devices:
            self._status = "no_gpus: the driver reports no NVIDIA GPU"
            self._shutdown()
            return
        self._status = "ok"
        log.info("NVML ready: %d GPU(s), driver %s", len(self._devices), self._devices[0].info.driver_version)

    def _open_devices(self) -> None:
        call = self._calls.call
        driver = call(None, "nvmlSystemGetDriverVersion")
        cuda = call(None, "nvmlSystemGetCudaDriverVersion")
        cuda_version = f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else None
        count = pynvml.nvmlDeviceGetCount()
        self._devices = [
            self._open_device(i, _text(driver) if driver else None, cuda_version) for i in range(count)
        ]
        self._register_xid_events()

    def _open_device(self, index: int, driver: str | None, cuda_version: str | None) -> _Device:
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        except pynvml.NVMLError as exc:
            log.warning("GPU %d cannot be opened: %s", index, exc)
            return _Device(index, None, GPUInfo(index=index, name="Unknown GPU"), lost=True)
        device = _Device(index, handle, GPUInfo(index=index, name="Unknown GPU"))
        try:
            device.info = self._read_info(device, driver, cuda_version)
        except _GPULost:
            device.lost = True
        return device

    def _reader(self, device: _Device) -> Callable[..., Any]:
        """``read(name, *args)`` calls ``pynvml.<name>(handle, *args)`` for this device via the helper."""

        def read(name: str, *args: Any) -> Any:
            return self._calls.call(device.unsupported, name, device.handle, *args)

        return read

    def _read_info(self, device: _Device, driver: str | None, cuda_version: str | None) -> GPUInfo:
        read = self._reader(device)
        pci = read("nvmlDeviceGetPciInfo")
        memory = read("nvmlDeviceGetMemoryInfo")
        capability = read("nvmlDeviceGetCudaComputeCapability")
        name = read("nvmlDeviceGetName")
        uuid = read("nvmlDeviceGetUUID")
        serial = read("nvmlDeviceGetSerial")
        return GPUInfo(
            index=device.index,
            name=_text(name) if name else "Unknown GPU",
            uuid=_text(uuid) if uuid else None,
            serial=_text(serial) if serial else None,
            pci_bus_id=_text(pci.busId) if pci is not None else None,
            memory_total_bytes=memory.total if memory is not None else None,
            driver_version=driver,
            cuda_version=cuda_version,
            compute_capability=f"{capability[0]}.{capability[1]}" if capability else None,
            gpu_max_mhz=read("nvmlDeviceGetMaxClockInfo", pynvml.NVML_CLOCK_SM),
            memory_max_mhz=read("nvmlDeviceGetMaxClockInfo", pynvml.NVML_CLOCK_MEM),
            pcie_max_generation=read("nvmlDeviceGetMaxPcieLinkGeneration"),
            pcie_max_width=read("nvmlDeviceGetMaxPcieLinkWidth"),
        )

    def _register_xid_events(self) -> None:
        """Listen for XID critical errors; a GPU or driver without events simply reports none."""
        try:
            self._event_set = pynvml.nvmlEventSetCreate()
        except pynvml.NVMLError as exc:
            log.info("NVML events unavailable (%s): XID errors will not be reported", exc)
            return
        for device in self._devices:
            if device.lost:
                continue
            try:
                supported = pynvml.nvmlDeviceGetSupportedEventTypes(device.handle)
                if supported & pynvml.nvmlEventTypeXidCriticalError:
                    pynvml.nvmlDeviceRegisterEvents(
                        device.handle, pynvml.nvmlEventTypeXidCriticalError, self._event_set
                    )
                    address = _handle_address(device.handle)
                    if address is not None:
                        self._devices_by_address[address] = device
            except pynvml.NVMLError as exc:
                log.info("GPU %d: XID events unavailable (%s)", device.index, exc)

    def _shutdown(self) -> None:
        if self._event_set is not None:
            with contextlib.suppress(pynvml.NVMLError):
                pynvml.nvmlEventSetFree(self._event_set)
            self._event_set = None
        self._devices_by_address.clear()
        self._devices = []
        if self._initialized:
            with contextlib.suppress(pynvml.NVMLError):
                pynvml.nvmlShutdown()
            self._initialized = False

    def close(self) -> None:
        self._shutdown()

    # -- sampling ----------------------------------------------------------------------------------

    def sample(self, now: float, include_slow: bool) -> tuple[GPUSample, ...]:
        self._calls.calls_this_tick = 0
        self._ensure_initialized()
        if not self._initialized:
            return ()
        self._drain_xid_events(now)
        samples = tuple(self._sample_device(device, include_slow) for device in self._devices)
        if include_slow:
            live_pids = {p.pid for device in self._devices for p in device.processes}
            self._inspector.forget_all_but(live_pids)
        return samples

    def _sample_device(self, device: _Device, include_slow: bool) -> GPUSample:
        if not device.lost:
            try:
                return self._read_device(device, include_slow)
            except _GPULost:
                device.lost = True
                log.error("GPU %d (%s) has fallen off the bus", device.index, device.info.pci_bus_id)
        return GPUSample(
            info=device.info,
            lost=True,
            xid_count=device.xid_count,
            last_xid=device.xid_events[-1].xid if device.xid_events else None,
            xid_events=tuple(device.xid_events),
        )

    def _read_device(self, device: _Device, include_slow: bool) -> GPUSample:
        read = self._reader(device)
        if include_slow or not device.slow:
            device.slow = self._read_slow(read)
            device.processes = self._read_processes(device, read)

        utilization = read("nvmlDeviceGetUtilizationRates")
        memory = self._read_memory(device, read)
        power_mw = read("nvmlDeviceGetPowerUsage")
        energy_mj = read("nvmlDeviceGetTotalEnergyConsumption")
        reasons = read("nvmlDeviceGetCurrentClocksEventReasons")
        if reasons is None and "nvmlDeviceGetCurrentClocksEventReasons" in device.unsupported:
            reasons = read("nvmlDeviceGetCurrentClocksThrottleReasons")
        encoder = read("nvmlDeviceGetEncoderUtilization")
        decoder = read("nvmlDeviceGetDecoderUtilization")
        return GPUSample(
            info=device.info,
            utilization_gpu_pct=float(utilization.gpu) if utilization is not None else None,
            utilization_memory_pct=float(utilization.memory) if utilization is not None else None,
            memory_used_bytes=memory.used if memory is not None else None,
            memory_total_bytes=memory.total if memory is not None else None,
            temperature_c=_as_float(read("nvmlDeviceGetTemperature", pynvml.NVML_TEMPERATURE_GPU)),
            memory_temperature_c=self._read_memory_temperature(read),
            power_w=power_mw / 1000.0 if power_mw is not None else None,
            energy_j=energy_mj / 1000.0 if energy_mj is not None else None,
            fan_speed_pct=_as_float(read("nvmlDeviceGetFanSpeed")),
            sm_clock_mhz=read("nvmlDeviceGetClockInfo", pynvml.NVML_CLOCK_SM),
            memory_clock_mhz=read("nvmlDeviceGetClockInfo", pynvml.NVML_CLOCK_MEM),
            encoder_pct=float(encoder[0]) if encoder is not None else None,
            decoder_pct=float(decoder[0]) if decoder is not None else None,
            pstate=read("nvmlDeviceGetPerformanceState"),
            clock_event_reasons=decode_clock_event_reasons(reasons) if reasons is not None else None,
            xid_count=device.xid_count,
            last_xid=device.xid_events[-1].xid if device.xid_events else None,
            xid_events=tuple(device.xid_events),
            processes=device.processes,
            **device.slow,
        )

    @staticmethod
    def _read_memory_temperature(read: Callable[..., Any]) -> float | None:
        values = read("nvmlDeviceGetFieldValues", [pynvml.NVML_FI_DEV_MEMORY_TEMP])
        if values is None or values[0].nvmlReturn != pynvml.NVML_SUCCESS:
            return None
        return _field_value(values[0])

    def _read_memory(self, device: _Device, read: Callable[..., Any]) -> Any:
        """Memory info v2 (``used`` excludes driver-reserved memory, as nvidia-smi shows it), else v1."""
        if device.memory_v2:
            memory = self._calls.call(None, "nvmlDeviceGetMemoryInfo", device.handle, pynvml.nvmlMemory_v2)
            if memory is not None:
                return memory
            device.memory_v2 = False
        return read("nvmlDeviceGetMemoryInfo")

    @staticmethod
    def _read_slow(read: Callable[..., Any]) -> dict[str, Any]:
        """Expensive or slowly changing metrics, refreshed on the slow cadence only."""
        tx_kb = read("nvmlDeviceGetPcieThroughput", pynvml.NVML_PCIE_UTIL_TX_BYTES)
        rx_kb = read("nvmlDeviceGetPcieThroughput", pynvml.NVML_PCIE_UTIL_RX_BYTES)
        limit_mw = read("nvmlDeviceGetEnforcedPowerLimit")
        single_bit = read(
            "nvmlDeviceGetRetiredPages", pynvml.NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS
        )
        double_bit = read("nvmlDeviceGetRetiredPages", pynvml.NVML_PAGE_RETIREMENT_CAUSE_DOUBLE_BIT_ECC_ERROR)
        pending = read("nvmlDeviceGetRetiredPagesPendingStatus")
        remapped = read("nvmlDeviceGetRemappedRows")
        mig = read("nvmlDeviceGetMigMode")

        def ecc(error_type: int, counter: int) -> int | None:
            value = read("nvmlDeviceGetTotalEccErrors", error_type, counter)
            return int(value) if value is not None else None

        return {
            "power_limit_w": limit_mw / 1000.0 if limit_mw is not None else None,
            "pcie_generation": read("nvmlDeviceGetCurrPcieLinkGeneration"),
            "pcie_width": read("nvmlDeviceGetCurrPcieLinkWidth"),
            "pcie_tx_bytes_per_s": tx_kb * 1024.0 if tx_kb is not None else None,
            "pcie_rx_bytes_per_s": rx_kb * 1024.0 if rx_kb is not None else None,
            "ecc_corrected_volatile": ecc(pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED, pynvml.NVML_VOLATILE_ECC),
            "ecc_uncorrected_volatile": ecc(
                pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, pynvml.NVML_VOLATILE_ECC
            ),
            "ecc_corrected_aggregate": ecc(
                pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED, pynvml.NVML_AGGREGATE_ECC
            ),
            "ecc_uncorrected_aggregate": ecc(
                pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED, pynvml.NVML_AGGREGATE_ECC
            ),
            "retired_pages_single_bit": len(single_bit) if single_bit is not None else None,
            "retired_pages_double_bit": len(double_bit) if double_bit is not None else None,
            "retired_pages_pending": pending == pynvml.NVML_FEATURE_ENABLED if pending is not None else None,
            "remapped_rows_correctable": remapped[0] if remapped is not None else None,
            "remapped_rows_uncorrectable": remapped[1] if remapped is not None else None,
            "remapped_rows_pending": bool(remapped[2]) if remapped is not None else None,
            "remapped_rows_failure": bool(remapped[3]) if remapped is not None else None,
            "mig_mode": mig[0] == pynvml.NVML_DEVICE_MIG_ENABLE if mig is not None else None,
        }

    def _read_processes(self, device: _Device, read: Callable[..., Any]) -> tuple[GPUProcess, ...]:
        """Compute and graphics processes, with host details; processes gone meanwhile are dropped."""
        by_pid: dict[int, tuple[str, int | None]] = {}
        for kind, function in (
            ("compute", "nvmlDeviceGetComputeRunningProcesses"),
            ("graphics", "nvmlDeviceGetGraphicsRunningProcesses"),
        ):
            for entry in read(function) or ():
                previous = by_pid.get(entry.pid)
                memory = entry.usedGpuMemory
                if previous is not None:
                    by_pid[entry.pid] = ("compute+graphics", memory or previous[1])
                else:
                    by_pid[entry.pid] = (kind, memory)
        processes = []
        for pid, (kind, memory) in sorted(by_pid.items()):
            details = self._inspector.describe(pid)
            if details is None:
                continue
            processes.append(
                GPUProcess(
                    pid=pid,
                    name=details.name,
                    kind=kind,
                    gpu_memory_bytes=memory,
                    cpu_percent=details.cpu_percent,
                    host_memory_bytes=details.host_memory_bytes,
                    user=details.user,
                )
            )
        return tuple(processes)

    def _drain_xid_events(self, now: float) -> None:
        if self._event_set is None:
            return
        while True:
            try:
                event = pynvml.nvmlEventSetWait(self._event_set, 0)
            except pynvml.NVMLError_Timeout:
                return
            except pynvml.NVMLError as exc:
                log.warning("reading NVML events failed: %s", exc)
                return
            if event.eventType != pynvml.nvmlEventTypeXidCriticalError:
                continue
            device = self._devices_by_address.get(_handle_address(event.device) or 0)
            if device is None:
                continue
            device.xid_count += 1
            device.xid_events.append(XidEvent(timestamp=now, xid=int(event.eventData)))
            log.warning("GPU %d reported XID %d", device.index, event.eventData)


def _as_float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _field_value(entry: Any) -> float | None:
    readers = {
        pynvml.NVML_VALUE_TYPE_DOUBLE: "dVal",
        pynvml.NVML_VALUE_TYPE_UNSIGNED_INT: "uiVal",
        pynvml.NVML_VALUE_TYPE_UNSIGNED_LONG: "ulVal",
        pynvml.NVML_VALUE_TYPE_UNSIGNED_LONG_LONG: "ullVal",
        pynvml.NVML_VALUE_TYPE_SIGNED_LONG_LONG: "sllVal",
        pynvml.NVML_VALUE_TYPE_SIGNED_INT: "siVal",
        pynvml.NVML_VALUE_TYPE_UNSIGNED_SHORT: "usVal",
    }
    attribute = readers.get(entry.valueType)
    return float(getattr(entry.value, attribute)) if attribute else None
