"""What one GPU's two workers read: cheap readings every tick, expensive ones on the slow cadence.

Each reader belongs to one worker thread and keeps its own state (functions the GPU does not support,
counter baselines, the psutil process cache), so no state is shared between threads; what a read
returns is an immutable reading that the sampler thread merges into a ``GPUSample``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pynvml

from gpu_sentinel.collectors.nvml.calls import GPULost, NvmlCalls
from gpu_sentinel.collectors.nvml.fields import Capabilities, FieldBatch, FieldRequest
from gpu_sentinel.collectors.nvml.gpm import NVLINK_FIELDS, GpmSampler
from gpu_sentinel.collectors.nvml.mig import MigDevices
from gpu_sentinel.collectors.nvml.process_utilization import UNKNOWN, ProcessUtilization
from gpu_sentinel.collectors.processes import ProcessInspector
from gpu_sentinel.snapshot import GPUProcess, ProfilingSample

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

PROCESS_LISTS = (
    ("compute", "nvmlDeviceGetComputeRunningProcesses"),
    ("graphics", "nvmlDeviceGetGraphicsRunningProcesses"),
)

VIOLATION_POLICIES: tuple[tuple[int, str], ...] = (
    (pynvml.NVML_PERF_POLICY_POWER, "power_violation_s"),
    (pynvml.NVML_PERF_POLICY_THERMAL, "thermal_violation_s"),
    (pynvml.NVML_PERF_POLICY_SYNC_BOOST, "sync_boost_violation_s"),
    (pynvml.NVML_PERF_POLICY_BOARD_LIMIT, "board_limit_violation_s"),
    (pynvml.NVML_PERF_POLICY_LOW_UTILIZATION, "low_util_violation_s"),
    (pynvml.NVML_PERF_POLICY_RELIABILITY, "reliability_violation_s"),
)


def decode_clock_event_reasons(mask: int) -> tuple[str, ...]:
    """NVML's clock-event (throttle) bitmask as names, in bit order."""
    return tuple(name for bit, name in CLOCK_EVENT_REASONS if mask & bit)


@dataclass(frozen=True, slots=True)
class Reading:
    """One read's GPUSample fields; ``lost`` when the driver said the GPU fell off the bus."""

    fields: dict[str, Any] = field(default_factory=dict)
    processes: tuple[GPUProcess, ...] = ()
    lost: bool = False


class _DeviceReader:
    """Calls ``pynvml.<name>(handle, ...)`` through the shared call helper with this reader's memory of
    unsupported functions."""

    def __init__(self, calls: NvmlCalls, handle: Any) -> None:
        self._calls = calls
        self._handle = handle
        self._unsupported: set[str] = set()

    def _read(self, name: str, *args: Any) -> Any:
        return self._calls.call(self._unsupported, name, self._handle, *args)

    def read(self) -> Reading:
        try:
            return self._read_once()
        except GPULost:
            self.close()  # never read again: give back what the driver allocated for it
            return Reading(lost=True)

    def close(self) -> None:
        """Release the driver resources the reader holds; called on its own thread."""

    def _read_once(self) -> Reading:
        raise NotImplementedError


class FastReader(_DeviceReader):
    """The readings published every tick: about a dozen cheap calls, field values batched in one."""

    def __init__(
        self, calls: NvmlCalls, handle: Any, capabilities: Capabilities, clock: Callable[[], float]
    ) -> None:
        super().__init__(calls, handle)
        self._memory_v2 = True
        self._fields = FieldBatch(capabilities, clock)
        self._gpm = GpmSampler(calls, handle, capabilities.gpm, clock)
        self._mig = MigDevices(calls, handle, capabilities.gpm, clock)
        self._nvlink_from_gpm = capabilities.nvlink_links == 0

    def close(self) -> None:
        self._gpm.close()
        self._mig.close()

    def _read_fields(self, request: Sequence[FieldRequest]) -> Any:
        return self._read("nvmlDeviceGetFieldValues", list(request))

    def _read_once(self) -> Reading:
        read = self._read
        utilization = read("nvmlDeviceGetUtilizationRates")
        memory = self._read_memory()
        power_mw = read("nvmlDeviceGetPowerUsage")
        reasons = read("nvmlDeviceGetCurrentClocksEventReasons")
        if reasons is None and "nvmlDeviceGetCurrentClocksEventReasons" in self._unsupported:
            reasons = read("nvmlDeviceGetCurrentClocksThrottleReasons")
        encoder = read("nvmlDeviceGetEncoderUtilization")
        decoder = read("nvmlDeviceGetDecoderUtilization")
        temperature = read("nvmlDeviceGetTemperature", pynvml.NVML_TEMPERATURE_GPU)
        fan = read("nvmlDeviceGetFanSpeed")
        fields = {
            "utilization_gpu_pct": float(utilization.gpu) if utilization is not None else None,
            "utilization_memory_pct": float(utilization.memory) if utilization is not None else None,
            "memory_used_bytes": memory.used if memory is not None else None,
            "memory_total_bytes": memory.total if memory is not None else None,
            "memory_reserved_bytes": getattr(memory, "reserved", None) if self._memory_v2 else None,
            "temperature_c": float(temperature) if temperature is not None else None,
            "power_w": power_mw / 1000.0 if power_mw is not None else None,
            "fan_speed_pct": float(fan) if fan is not None else None,
            "sm_clock_mhz": read("nvmlDeviceGetClockInfo", pynvml.NVML_CLOCK_SM),
            "memory_clock_mhz": read("nvmlDeviceGetClockInfo", pynvml.NVML_CLOCK_MEM),
            "encoder_pct": float(encoder[0]) if encoder is not None else None,
            "decoder_pct": float(decoder[0]) if decoder is not None else None,
            "pstate": read("nvmlDeviceGetPerformanceState"),
            "clock_event_reasons": decode_clock_event_reasons(reasons) if reasons is not None else None,
            **self._fields.decode(self._read_fields(self._fields.request)),
        }
        fields.update(self._read_profiling())
        fields["mig_instances"] = self._mig.read()
        return Reading(fields)

    def _read_profiling(self) -> dict[str, Any]:
        """GPM's figures. NVLink comes from the per-link field-value counters wherever the GPU has
        them (payload bytes, as dcgm-exporter's NVLink fields count, from Volta on, so one series keeps
        one meaning across GPU generations); GPM's totals only on a GPU without those counters."""
        profiling = dict(self._gpm.read())
        fields: dict[str, Any] = {}
        for gpm_name, name in NVLINK_FIELDS.items():
            value = profiling.pop(gpm_name)
            if self._nvlink_from_gpm:
                fields[name] = value
        fields["profiling"] = ProfilingSample(**profiling)
        return fields

    def _read_memory(self) -> Any:
        """Memory info v2 (``used`` excludes driver-reserved memory, as nvidia-smi shows it), else v1."""
        if self._memory_v2:
            memory = self._calls.call(None, "nvmlDeviceGetMemoryInfo", self._handle, pynvml.nvmlMemory_v2)
            if memory is not None:
                return memory
            self._memory_v2 = False
        return self._read("nvmlDeviceGetMemoryInfo")


class SlowReader(_DeviceReader):
    """Expensive or slowly changing readings (processes, ECC, retired pages, remapped rows, PCIe
    throughput where the byte counters are missing, violation times), read on the slow cadence."""

    def __init__(
        self, calls: NvmlCalls, handle: Any, capabilities: Capabilities, inspector: ProcessInspector
    ) -> None:
        super().__init__(calls, handle)
        self._capabilities = capabilities
        self._inspector = inspector
        self._utilization = ProcessUtilization(calls, handle, self._unsupported)

    def _read_once(self) -> Reading:
        fields = {**self._read_health(), **self._read_violations()}
        if not self._capabilities.pcie_counters:
            fields.update(self._read_pcie_throughput())
        return Reading(fields, self._read_processes(bool(fields["mig_mode"])))

    def _read_health(self) -> dict[str, Any]:
        read = self._read
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

        corrected, uncorrected = (
            pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED,
            pynvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED,
        )
        return {
            "power_limit_w": limit_mw / 1000.0 if limit_mw is not None else None,
            "pcie_generation": read("nvmlDeviceGetCurrPcieLinkGeneration"),
            "pcie_width": read("nvmlDeviceGetCurrPcieLinkWidth"),
            "ecc_corrected_volatile": ecc(corrected, pynvml.NVML_VOLATILE_ECC),
            "ecc_uncorrected_volatile": ecc(uncorrected, pynvml.NVML_VOLATILE_ECC),
            "ecc_corrected_aggregate": ecc(corrected, pynvml.NVML_AGGREGATE_ECC),
            "ecc_uncorrected_aggregate": ecc(uncorrected, pynvml.NVML_AGGREGATE_ECC),
            "retired_pages_single_bit": len(single_bit) if single_bit is not None else None,
            "retired_pages_double_bit": len(double_bit) if double_bit is not None else None,
            "retired_pages_pending": pending == pynvml.NVML_FEATURE_ENABLED if pending is not None else None,
            "remapped_rows_correctable": remapped[0] if remapped is not None else None,
            "remapped_rows_uncorrectable": remapped[1] if remapped is not None else None,
            "remapped_rows_pending": bool(remapped[2]) if remapped is not None else None,
            "remapped_rows_failure": bool(remapped[3]) if remapped is not None else None,
            "mig_mode": mig[0] == pynvml.NVML_DEVICE_MIG_ENABLE if mig is not None else None,
            "vgpu_license_state": self._read_vgpu_license(),
        }

    def _read_vgpu_license(self) -> int | None:
        """The vGPU feature's license state (in a VM with a vGPU); None where there is nothing to license."""
        licensing = self._read("nvmlDeviceGetGridLicensableFeatures_v4")
        if licensing is None or not licensing.isGridLicenseSupported:
            return None
        features = licensing.gridLicensableFeatures[: licensing.licensableFeaturesCount]
        for feature in features:
            if feature.featureCode == pynvml.NVML_GRID_LICENSE_FEATURE_CODE_VGPU:
                return int(feature.featureState)
        return None

    def _read_violations(self) -> dict[str, float | None]:
        """Cumulative time (ns in NVML) the clocks were held down, per reason."""
        violations: dict[str, float | None] = {}
        for policy, name in VIOLATION_POLICIES:
            status = self._read("nvmlDeviceGetViolationStatus", policy)
            violations[name] = status.violationTime / 1e9 if status is not None else None
        return violations

    def _read_pcie_throughput(self) -> dict[str, float | None]:
        """The fallback where the byte counters are missing: NVML samples each direction for ~20 ms."""
        tx_kb = self._read("nvmlDeviceGetPcieThroughput", pynvml.NVML_PCIE_UTIL_TX_BYTES)
        rx_kb = self._read("nvmlDeviceGetPcieThroughput", pynvml.NVML_PCIE_UTIL_RX_BYTES)
        return {
            "pcie_tx_bytes_per_s": tx_kb * 1024.0 if tx_kb is not None else None,
            "pcie_rx_bytes_per_s": rx_kb * 1024.0 if rx_kb is not None else None,
        }

    def _read_processes(self, mig_mode: bool) -> tuple[GPUProcess, ...]:
        """Compute and graphics processes, with host details; processes gone meanwhile are dropped. In
        MIG mode each carries the ids of the MIG device it runs on."""
        by_pid: dict[int, tuple[str, int | None]] = {}
        instance_of: dict[int, tuple[int | None, int | None]] = {}
        for kind, entry in self._process_entries(mig_mode):
            previous = by_pid.get(entry.pid)
            memory = entry.usedGpuMemory
            if previous is not None:
                by_pid[entry.pid] = ("compute+graphics", memory or previous[1])
            else:
                by_pid[entry.pid] = (kind, memory)
            instance_of.setdefault(entry.pid, _instance_ids(entry))
        self._inspector.forget_all_but(set(by_pid))
        utilization = self._utilization.read() if by_pid else UNKNOWN
        processes = []
        for pid, (kind, memory) in sorted(by_pid.items()):
            details = self._inspector.describe(pid)
            if details is None:
                continue
            process = details.gpu_process(pid, kind, memory, utilization.of(pid))
            gpu_instance, compute_instance = instance_of[pid]
            if gpu_instance is not None:
                process = replace(process, gpu_instance_id=gpu_instance, compute_instance_id=compute_instance)
            processes.append(process)
        return tuple(processes)

    def _process_entries(self, mig_mode: bool) -> Iterator[tuple[str, Any]]:
        """The driver's process entries. A GPU in MIG mode lists every MIG device's processes only to a
        privileged caller; anyone else gets them from each MIG device's own list."""
        mig_handles: list[Any] | None = None
        for kind, function in PROCESS_LISTS:
            entries, error = self._calls.attempt(self._unsupported, function, self._handle)
            if entries is None and mig_mode and isinstance(error, pynvml.NVMLError_NoPermission):
                if mig_handles is None:
                    mig_handles = list(self._mig_handles())
                entries = [entry for h in mig_handles for entry in self._calls.call(None, function, h) or ()]
            for entry in entries or ():
                yield kind, entry

    def _mig_handles(self) -> Iterator[Any]:
        slots = self._read("nvmlDeviceGetMaxMigDeviceCount") or 0
        for index in range(slots):
            handle = self._read("nvmlDeviceGetMigDeviceHandleByIndex", index)
            if handle is not None:
                yield handle


def _instance_ids(entry: Any) -> tuple[int | None, int | None]:
    """The MIG device a process entry runs on; NVML fills in 0xFFFFFFFF where MIG mode is off."""

    def valid(name: str) -> int | None:
        value = getattr(entry, name, None)
        return None if value is None or value == pynvml.NVML_VALUE_NOT_AVAILABLE_uint.value else int(value)

    return valid("gpuInstanceId"), valid("computeInstanceId")
