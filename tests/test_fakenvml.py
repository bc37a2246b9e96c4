"""The real pynvml binding driven through the fake libnvidia-ml.so.1, loaded by LD_LIBRARY_PATH in a child
process and preloaded into this one. If these pass, the ctypes path the NVML collector uses is sound.

Run as ``python -m tests.test_fakenvml probe|outcomes`` this module is also the child process's program.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pynvml
import pytest

from tests.fakenvml.build import build_fake_nvml, fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml, fake_nvml_lib, fake_nvml_path

pytestmark = pytest.mark.real_component

__all__ = ["fake_nvml", "fake_nvml_lib", "fake_nvml_path"]

REPO_ROOT = Path(__file__).resolve().parent.parent
TOTAL_MEMORY = 85_899_345_920
POWER_LIMIT_MW = 700_000
XID_EVENT = pynvml.nvmlEventTypeXidCriticalError
UNKNOWN_FIELD = pynvml.NVML_FI_DEV_ECC_CURRENT
OUTCOME_CALLS = {
    "nvmlDeviceGetFanSpeed": pynvml.nvmlDeviceGetFanSpeed,
    "nvmlDeviceGetMemoryInfo": pynvml.nvmlDeviceGetMemoryInfo,
    "nvmlDeviceGetMemoryInfo_v2": lambda h: pynvml.nvmlDeviceGetMemoryInfo(h, version=pynvml.nvmlMemory_v2),
    "nvmlDeviceGetComputeRunningProcesses": pynvml.nvmlDeviceGetComputeRunningProcesses,
    "nvmlDeviceGetTemperature": lambda h: pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU),
    "nvmlDeviceGetPowerUsage": pynvml.nvmlDeviceGetPowerUsage,
}


# ---------------------------------------------------------------- what a child process reports


def probe_gpu(handle: Any) -> dict[str, Any]:
    """Every per-device symbol the collector may call, read once through pynvml."""
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    memory_v2 = pynvml.nvmlDeviceGetMemoryInfo(handle, version=pynvml.nvmlMemory_v2)
    utilization = pynvml.nvmlDeviceGetUtilizationRates(handle)
    pci = pynvml.nvmlDeviceGetPciInfo_v3(handle)
    memory_temp, unknown = pynvml.nvmlDeviceGetFieldValues(
        handle, [pynvml.NVML_FI_DEV_MEMORY_TEMP, UNKNOWN_FIELD]
    )
    clock_types = {"graphics": 0, "sm": 1, "mem": 2, "video": 3}
    ecc = {
        f"{error}_{counter}": pynvml.nvmlDeviceGetTotalEccErrors(handle, error_type, counter_type)
        for error, error_type in (("corrected", 0), ("uncorrected", 1))
        for counter, counter_type in (("volatile", 0), ("aggregate", 1))
    }
    return {
        "name": pynvml.nvmlDeviceGetName(handle),
        "uuid": pynvml.nvmlDeviceGetUUID(handle),
        "serial": pynvml.nvmlDeviceGetSerial(handle),
        "index": pynvml.nvmlDeviceGetIndex(handle),
        "bus_id": pci.busId,
        "bus_id_legacy": pci.busIdLegacy,
        "pci_bus": pci.bus,
        "pci_device_id": pci.pciDeviceId,
        "compute_capability": list(pynvml.nvmlDeviceGetCudaComputeCapability(handle)),
        "max_clocks": {k: pynvml.nvmlDeviceGetMaxClockInfo(handle, v) for k, v in clock_types.items()},
        "clocks": {k: pynvml.nvmlDeviceGetClockInfo(handle, v) for k, v in clock_types.items()},
        "pcie": [
            pynvml.nvmlDeviceGetMaxPcieLinkGeneration(handle),
            pynvml.nvmlDeviceGetMaxPcieLinkWidth(handle),
            pynvml.nvmlDeviceGetCurrPcieLinkGeneration(handle),
            pynvml.nvmlDeviceGetCurrPcieLinkWidth(handle),
        ],
        "memory": [memory.total, memory.used, memory.free],
        "memory_v2": [memory_v2.total, memory_v2.reserved, memory_v2.used, memory_v2.free],
        "utilization": [utilization.gpu, utilization.memory],
        "temperature": pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU),
        "memory_temp": [memory_temp.nvmlReturn, memory_temp.valueType, memory_temp.value.uiVal],
        "unknown_field_return": unknown.nvmlReturn,
        "power_mw": pynvml.nvmlDeviceGetPowerUsage(handle),
        "enforced_limit_mw": pynvml.nvmlDeviceGetEnforcedPowerLimit(handle),
        "management_limit_mw": pynvml.nvmlDeviceGetPowerManagementLimit(handle),
        "energy_mj": pynvml.nvmlDeviceGetTotalEnergyConsumption(handle),
        "fan": pynvml.nvmlDeviceGetFanSpeed(handle),
        "encoder": pynvml.nvmlDeviceGetEncoderUtilization(handle),
        "decoder": pynvml.nvmlDeviceGetDecoderUtilization(handle),
        "pstate": pynvml.nvmlDeviceGetPerformanceState(handle),
        "event_reasons": pynvml.nvmlDeviceGetCurrentClocksEventReasons(handle),
        "throttle_reasons": pynvml.nvmlDeviceGetCurrentClocksThrottleReasons(handle),
        "pcie_kbps": [
            pynvml.nvmlDeviceGetPcieThroughput(handle, pynvml.NVML_PCIE_UTIL_TX_BYTES),
            pynvml.nvmlDeviceGetPcieThroughput(handle, pynvml.NVML_PCIE_UTIL_RX_BYTES),
        ],
        "ecc": ecc,
        "retired_pages": [pynvml.nvmlDeviceGetRetiredPages(handle, cause) for cause in (0, 1)],
        "retired_pending": pynvml.nvmlDeviceGetRetiredPagesPendingStatus(handle),
        "remapped_rows": list(pynvml.nvmlDeviceGetRemappedRows(handle)),
        "mig_mode": pynvml.nvmlDeviceGetMigMode(handle),
        "compute_processes": [
            [p.pid, p.usedGpuMemory] for p in pynvml.nvmlDeviceGetComputeRunningProcesses_v3(handle)
        ],
        "graphics_processes": pynvml.nvmlDeviceGetGraphicsRunningProcesses_v3(handle),
        "supported_events": pynvml.nvmlDeviceGetSupportedEventTypes(handle),
    }


def probe_events(handles: list[Any]) -> dict[str, Any]:
    """An XID injected through the library's control function arrives through nvmlEventSetWait_v2."""
    event_set = pynvml.nvmlEventSetCreate()
    try:
        for handle in handles:
            pynvml.nvmlDeviceRegisterEvents(handle, XID_EVENT, event_set)
        try:
            pynvml.nvmlEventSetWait_v2(event_set, 0)
            empty_wait = "event"
        except pynvml.NVMLError_Timeout:
            empty_wait = "timeout"
        pynvml.nvmlLib.fakenvml_inject_xid(ctypes.c_uint(1), ctypes.c_ulonglong(79))
        event = pynvml.nvmlEventSetWait_v2(event_set, 0)
        return {
            "empty_wait": empty_wait,
            "event_type": event.eventType,
            "xid": event.eventData,
            "uuid": pynvml.nvmlDeviceGetUUID(event.device),
        }
    finally:
        pynvml.nvmlEventSetFree(event_set)


def probe() -> dict[str, Any]:
    pynvml.nvmlInit()
    try:
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        return {
            "pid": os.getpid(),
            "fake": hasattr(pynvml.nvmlLib, "fakenvml_call_count"),
            "init_v2": pynvml.nvmlLib.nvmlInit_v2() == pynvml.nvmlLib.nvmlShutdown() == pynvml.NVML_SUCCESS,
            "driver": pynvml.nvmlSystemGetDriverVersion(),
            "cuda": [pynvml.nvmlSystemGetCudaDriverVersion(), pynvml.nvmlSystemGetCudaDriverVersion_v2()],
            "error_string": pynvml.nvmlErrorString(pynvml.NVML_ERROR_GPU_IS_LOST),
            "gpus": [probe_gpu(handle) for handle in handles],
            "events": probe_events(handles),
        }
    finally:
        pynvml.nvmlShutdown()


def outcome(call: Any, handle: Any) -> str:
    try:
        call(handle)
    except pynvml.NVMLError as exc:
        return type(exc).__name__
    return "ok"


def outcomes() -> dict[str, Any]:
    """Which calls succeed or raise which NVMLError subclass, per GPU, under this process's environment."""
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return {"init": type(exc).__name__}
    try:
        report: dict[str, Any] = {"init": "ok", "gpus": []}
        for index in range(pynvml.nvmlDeviceGetCount()):
            try:
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            except pynvml.NVMLError as exc:
                report["gpus"].append({"handle": type(exc).__name__})
                continue
            calls = {name: outcome(call, handle) for name, call in OUTCOME_CALLS.items()}
            report["gpus"].append({"handle": "ok", **calls})
        return report
    finally:
        pynvml.nvmlShutdown()


def run_child(lib_path: Path, mode: str, **fakenvml_vars: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.test_fakenvml", mode],
        cwd=REPO_ROOT,
        env=fake_nvml_env(lib_path, **fakenvml_vars),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


# ---------------------------------------------------------------- the library itself


def test_pynvml_structs_have_the_layouts_fakenvml_c_asserts() -> None:
    """fakenvml.c pins the same sizes and offsets with _Static_assert, so both sides agree with nvml.h."""
    assert ctypes.sizeof(pynvml.c_nvmlMemory_t) == 24
    assert ctypes.sizeof(pynvml.c_nvmlMemory_v2_t) == 40
    assert pynvml.nvmlMemory_v2 == 0x02000028
    assert ctypes.sizeof(pynvml.c_nvmlUtilization_t) == 8
    assert ctypes.sizeof(pynvml.nvmlPciInfo_t) == 68
    assert pynvml.nvmlPciInfo_t.busId.offset == 36
    assert ctypes.sizeof(pynvml.c_nvmlProcessInfo_v3_t) == 24
    assert pynvml.c_nvmlProcessInfo_v3_t.usedGpuMemory.offset == 8
    assert ctypes.sizeof(pynvml.c_nvmlFieldValue_t) == 40
    assert pynvml.c_nvmlFieldValue_t.value.offset == 32
    assert ctypes.sizeof(pynvml.c_nvmlEventData_t) == 32
    assert pynvml.c_nvmlEventData_t.gpuInstanceId.offset == 24


def test_library_compiles_without_warnings(fake_nvml_path: Path, tmp_path: Path) -> None:
    build_fake_nvml(tmp_path, extra_cflags=["-Werror", "-Wpedantic"])


# ---------------------------------------------------------------- through LD_LIBRARY_PATH, in a child


def test_every_symbol_reads_sane_values_through_ld_library_path(fake_nvml_path: Path) -> None:
    report = run_child(fake_nvml_path, "probe", gpu_count="3")

    assert report["fake"] and report["init_v2"]
    assert report["driver"] == "550.54.15"
    assert report["cuda"] == [12040, 12040]
    assert report["error_string"] == "GPU is lost"
    gpus = report["gpus"]
    assert len(gpus) == 3
    for index, gpu in enumerate(gpus):
        assert gpu["name"] == "NVIDIA H100 80GB HBM3"
        assert gpu["uuid"] == f"GPU-fake0000-0000-0000-0000-{index:012d}"
        assert gpu["index"] == index
        assert gpu["bus_id"] == f"00000000:1{index}:00.0"
        assert gpu["bus_id_legacy"] == f"0000:1{index}:00.0"
        assert gpu["pci_bus"] == 0x10 + index
        assert gpu["pci_device_id"] == 0x233010DE
        assert gpu["compute_capability"] == [9, 0]
        assert gpu["max_clocks"] == {"graphics": 1980, "sm": 1980, "mem": 2619, "video": 1755}
        assert all(0 < gpu["clocks"][kind] <= gpu["max_clocks"][kind] for kind in gpu["clocks"])
        assert gpu["pcie"] == [5, 16, 5, 16]

        total, used, free = gpu["memory"]
        assert total == TOTAL_MEMORY and 0 < used <= total and used + free == total
        total_v2, reserved, used_v2, free_v2 = gpu["memory_v2"]
        assert total_v2 == TOTAL_MEMORY and reserved + used_v2 + free_v2 == total_v2
        assert all(0 <= percent <= 100 for percent in gpu["utilization"])
        assert 30 <= gpu["temperature"] <= 85
        assert gpu["memory_temp"][:2] == [pynvml.NVML_SUCCESS, pynvml.NVML_VALUE_TYPE_UNSIGNED_INT]
        assert 30 <= gpu["memory_temp"][2] <= 85
        assert gpu["unknown_field_return"] == pynvml.NVML_ERROR_NOT_SUPPORTED

        assert gpu["enforced_limit_mw"] == gpu["management_limit_mw"] == POWER_LIMIT_MW
        assert 0 < gpu["power_mw"] <= POWER_LIMIT_MW
        assert gpu["energy_mj"] > 0
        assert 0 <= gpu["fan"] <= 100
        assert 0 <= gpu["encoder"][0] <= 100 and gpu["encoder"][1] > 0
        assert 0 <= gpu["decoder"][0] <= 100 and gpu["decoder"][1] > 0
        assert gpu["pstate"] == pynvml.NVML_PSTATE_0
        assert gpu["event_reasons"] & ~pynvml.nvmlClocksEventReasonAll == 0
        assert all(kbps > 0 for kbps in gpu["pcie_kbps"])
        assert all(isinstance(count, int) and count >= 0 for count in gpu["ecc"].values())
        assert gpu["retired_pages"] == [[], []]
        assert gpu["retired_pending"] == pynvml.NVML_FEATURE_DISABLED
        assert len(gpu["remapped_rows"]) == 4
        assert gpu["mig_mode"] == [pynvml.NVML_DEVICE_MIG_DISABLE, pynvml.NVML_DEVICE_MIG_DISABLE]
        [[pid, process_bytes]] = gpu["compute_processes"]
        assert pid == report["pid"] and 0 < process_bytes <= used
        assert gpu["graphics_processes"] == []
        assert gpu["supported_events"] & XID_EVENT

    for key in ("uuid", "serial", "bus_id"):
        assert len({gpu[key] for gpu in gpus}) == 3, key
    assert len({(gpu["memory"][1], gpu["energy_mj"]) for gpu in gpus}) == 3

    assert report["events"] == {
        "empty_wait": "timeout",
        "event_type": XID_EVENT,
        "xid": 79,
        "uuid": gpus[1]["uuid"],
    }


def test_unsupported_functions_raise_not_supported_on_every_gpu(fake_nvml_path: Path) -> None:
    report = run_child(
        fake_nvml_path,
        "outcomes",
        unsupported="nvmlDeviceGetFanSpeed, nvmlDeviceGetMemoryInfo,nvmlDeviceGetComputeRunningProcesses",
    )

    assert report["init"] == "ok"
    for gpu in report["gpus"]:
        assert gpu == {
            "handle": "ok",
            "nvmlDeviceGetFanSpeed": "NVMLError_NotSupported",
            "nvmlDeviceGetMemoryInfo": "NVMLError_NotSupported",
            "nvmlDeviceGetMemoryInfo_v2": "NVMLError_NotSupported",
            "nvmlDeviceGetComputeRunningProcesses": "NVMLError_NotSupported",
            "nvmlDeviceGetTemperature": "ok",
            "nvmlDeviceGetPowerUsage": "ok",
        }


def test_lost_gpus_and_init_errors_come_from_the_environment(fake_nvml_path: Path) -> None:
    lost = run_child(fake_nvml_path, "outcomes", gpu_count="3", lost="1")
    assert [gpu["handle"] for gpu in lost["gpus"]] == ["ok", "NVMLError_GpuIsLost", "ok"]

    assert run_child(fake_nvml_path, "outcomes", init_error="9") == {"init": "NVMLError_DriverNotLoaded"}


# ---------------------------------------------------------------- preloaded into this process


def test_preloaded_library_is_the_one_pynvml_uses(fake_nvml: ctypes.CDLL) -> None:
    pynvml.nvmlInit()
    assert pynvml.nvmlLib._handle == fake_nvml._handle
    before = fake_nvml.fakenvml_call_count()
    assert pynvml.nvmlDeviceGetCount() == 2
    assert fake_nvml.fakenvml_call_count() == before + 1
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    [process] = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
    assert process.pid == os.getpid()
    pynvml.nvmlShutdown()
    with pytest.raises(pynvml.NVMLError_Uninitialized):
        pynvml.nvmlDeviceGetPowerUsage(handle)


def test_lost_gpu_raises_gpu_is_lost_until_it_returns(fake_nvml: ctypes.CDLL) -> None:
    pynvml.nvmlInit()
    healthy, failing = (pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(2))

    fake_nvml.fakenvml_set_lost(1, 1)
    with pytest.raises(pynvml.NVMLError_GpuIsLost):
        pynvml.nvmlDeviceGetTemperature(failing, pynvml.NVML_TEMPERATURE_GPU)
    with pytest.raises(pynvml.NVMLError_GpuIsLost):
        pynvml.nvmlDeviceGetComputeRunningProcesses(failing)
    with pytest.raises(pynvml.NVMLError_GpuIsLost):
        pynvml.nvmlDeviceGetHandleByIndex(1)
    assert pynvml.nvmlDeviceGetTemperature(healthy, pynvml.NVML_TEMPERATURE_GPU) >= 30

    fake_nvml.fakenvml_set_lost(1, 0)
    assert pynvml.nvmlDeviceGetTemperature(failing, pynvml.NVML_TEMPERATURE_GPU) >= 30


def test_injected_xid_reaches_only_sets_registered_for_that_gpu(fake_nvml: ctypes.CDLL) -> None:
    pynvml.nvmlInit()
    first, second = (pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(2))
    event_set = pynvml.nvmlEventSetCreate()
    with pytest.raises(pynvml.NVMLError_NotSupported):
        pynvml.nvmlDeviceRegisterEvents(second, pynvml.nvmlEventTypeAll, event_set)
    pynvml.nvmlDeviceRegisterEvents(second, XID_EVENT, event_set)

    with pytest.raises(pynvml.NVMLError_Timeout):
        pynvml.nvmlEventSetWait(event_set, 0)
    fake_nvml.fakenvml_inject_xid(0, 13)
    fake_nvml.fakenvml_inject_xid(1, 79)
    event = pynvml.nvmlEventSetWait(event_set, 0)
    assert (event.eventType, event.eventData) == (XID_EVENT, 79)
    assert pynvml.nvmlDeviceGetUUID(event.device) == pynvml.nvmlDeviceGetUUID(second)
    assert event.gpuInstanceId == event.computeInstanceId == 0xFFFFFFFF
    with pytest.raises(pynvml.NVMLError_Timeout):
        pynvml.nvmlEventSetWait(event_set, 0)
    assert pynvml.nvmlDeviceGetUUID(first) != pynvml.nvmlDeviceGetUUID(second)
    pynvml.nvmlEventSetFree(event_set)


def test_blocked_wait_returns_the_xid_injected_meanwhile(fake_nvml: ctypes.CDLL) -> None:
    """A watcher thread blocks in nvmlEventSetWait like on a real driver, and wakes for a new event."""
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    event_set = pynvml.nvmlEventSetCreate()
    pynvml.nvmlDeviceRegisterEvents(handle, XID_EVENT, event_set)
    injector = threading.Timer(0.05, fake_nvml.fakenvml_inject_xid, args=(0, 48))
    injector.start()
    try:
        event = pynvml.nvmlEventSetWait(event_set, 60_000)
    finally:
        injector.join()
    assert event.eventData == 48
    pynvml.nvmlEventSetFree(event_set)


def test_init_error_then_recovery(fake_nvml: ctypes.CDLL) -> None:
    fake_nvml.fakenvml_set_init_error(pynvml.NVML_ERROR_DRIVER_NOT_LOADED)
    with pytest.raises(pynvml.NVMLError_DriverNotLoaded):
        pynvml.nvmlInit()

    fake_nvml.fakenvml_set_init_error(pynvml.NVML_SUCCESS)
    pynvml.nvmlInit()
    assert pynvml.nvmlDeviceGetCount() == 2


def test_environment_is_read_again_after_reset(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "4")
    monkeypatch.setenv("FAKENVML_LOST", "3")
    monkeypatch.setenv("FAKENVML_PIDS", f"{os.getpid()},{os.getppid()}")
    pynvml.nvmlInit()

    assert pynvml.nvmlDeviceGetCount() == 4
    with pytest.raises(pynvml.NVMLError_GpuIsLost):
        pynvml.nvmlDeviceGetHandleByIndex(3)
    handle = pynvml.nvmlDeviceGetHandleByIndex(2)
    processes = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
    assert [p.pid for p in processes] == [os.getpid(), os.getppid()]
    assert sum(p.usedGpuMemory for p in processes) <= pynvml.nvmlDeviceGetMemoryInfo(handle).used

    fake_nvml.fakenvml_reset()
    monkeypatch.setenv("FAKENVML_PIDS", "")
    pynvml.nvmlInit()
    assert pynvml.nvmlDeviceGetComputeRunningProcesses(handle) == []


def test_every_gpu_stays_in_realistic_ranges(fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    """64 GPUs sit at 64 different points of the same load curves, so this covers most of their range."""
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "64")
    pynvml.nvmlInit()
    for index in range(pynvml.nvmlDeviceGetCount()):
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        utilization = pynvml.nvmlDeviceGetUtilizationRates(handle)
        assert 0 < memory.used <= memory.total == TOTAL_MEMORY
        assert 0 <= utilization.gpu <= 100 and 0 <= utilization.memory <= 100
        assert 30 <= pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU) <= 85
        [memory_temp] = pynvml.nvmlDeviceGetFieldValues(handle, [pynvml.NVML_FI_DEV_MEMORY_TEMP])
        assert 30 <= memory_temp.value.uiVal <= 85
        assert 0 < pynvml.nvmlDeviceGetPowerUsage(handle) <= POWER_LIMIT_MW
        assert 0 <= pynvml.nvmlDeviceGetFanSpeed(handle) <= 100
        assert pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM) <= 1980


def test_energy_counter_grows_at_the_reported_power(fake_nvml: ctypes.CDLL) -> None:
    """The counter integrates the power curve, so it gains 150-700 W times the gap between two reads."""
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    before_first = time.monotonic()
    first = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    after_first = time.monotonic()
    time.sleep(0.3)
    before_second = time.monotonic()
    second = pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    after_second = time.monotonic()
    joules = (second - first) / 1000
    assert 150 * (before_second - after_first) <= joules <= 700 * (after_second - before_first)


# ---------------------------------------------------------------- latency, counters, hangs


def init_handle(monkeypatch: pytest.MonkeyPatch, index: int, **variables: str) -> Any:
    """``nvmlInit`` under the given FAKENVML_* variables (names without the prefix), then GPU ``index``."""
    for name, value in variables.items():
        monkeypatch.setenv(f"FAKENVML_{name.upper()}", value)
    pynvml.nvmlInit()
    return pynvml.nvmlDeviceGetHandleByIndex(index)


def counter_rate(handle: Any, field: Any, gap_s: float = 0.05) -> float:
    """A cumulative counter's rate from two reads, over the timestamps the library gives the values."""
    [first] = pynvml.nvmlDeviceGetFieldValues(handle, [field])
    time.sleep(gap_s)
    [second] = pynvml.nvmlDeviceGetFieldValues(handle, [field])
    assert first.nvmlReturn == second.nvmlReturn == pynvml.NVML_SUCCESS
    return float(second.value.ullVal - first.value.ullVal) / ((second.timestamp - first.timestamp) / 1e6)


def test_counters_grow_at_the_documented_rates(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = init_handle(monkeypatch, 2, gpu_count="3")
    [links, replays] = pynvml.nvmlDeviceGetFieldValues(
        handle, [pynvml.NVML_FI_DEV_NVLINK_LINK_COUNT, pynvml.NVML_FI_DEV_PCIE_REPLAY_COUNTER]
    )
    assert links.value.uiVal == 18 and replays.value.ullVal == 2
    assert counter_rate(handle, pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES) == pytest.approx(3 * 100e6, rel=1e-4)
    assert counter_rate(handle, pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES) == pytest.approx(3 * 250e6, rel=1e-4)
    tx_link = (pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, 5)
    rx_all = (pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX, 0xFFFFFFFF)
    assert counter_rate(handle, tx_link) == pytest.approx(3 * 1000, rel=1e-2)  # KiB/s, one link
    assert counter_rate(handle, rx_all) == pytest.approx(18 * 3 * 2000, rel=1e-3)  # all links summed
    [beyond] = pynvml.nvmlDeviceGetFieldValues(handle, [(pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, 18)])
    assert beyond.nvmlReturn == pynvml.NVML_ERROR_INVALID_ARGUMENT


def test_unsupported_fields_fail_in_their_entry_only(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = init_handle(monkeypatch, 0, unsupported_fields="197, 198")
    tx, temperature = pynvml.nvmlDeviceGetFieldValues(
        handle, [pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES, pynvml.NVML_FI_DEV_MEMORY_TEMP]
    )
    assert tx.nvmlReturn == pynvml.NVML_ERROR_NOT_SUPPORTED
    assert temperature.nvmlReturn == pynvml.NVML_SUCCESS


def test_violation_status_is_predictable(fake_nvml: ctypes.CDLL) -> None:
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(1)
    thermal = pynvml.nvmlDeviceGetViolationStatus(handle, pynvml.NVML_PERF_POLICY_THERMAL)
    assert thermal.violationTime == 2 * 2 * 10**9 and thermal.referenceTime > 0
    with pytest.raises(pynvml.NVMLError_InvalidArgument):
        pynvml.nvmlDeviceGetViolationStatus(handle, pynvml.NVML_PERF_POLICY_COUNT)


def test_a_function_takes_its_configured_latency_and_only_that_one(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    ten_minutes_us = str(600 * 10**6)
    handle = init_handle(monkeypatch, 0, latency_us=f"nvmlDeviceGetPcieThroughput={ten_minutes_us}, *=0")
    slow = call_in_thread(pynvml.nvmlDeviceGetPcieThroughput, handle, pynvml.NVML_PCIE_UTIL_TX_BYTES)
    wait_for(fake_nvml.fakenvml_delayed_calls, 1)
    assert pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU) >= 30  # answers at once
    assert slow.is_alive() and fake_nvml.fakenvml_delayed_calls() == 1
    fake_nvml.fakenvml_reset()  # ends the sleep
    slow.join(10)
    assert not slow.is_alive() and fake_nvml.fakenvml_delayed_calls() == 0


def call_in_thread(function: Any, *args: Any) -> threading.Thread:
    """Run one NVML call on a daemon thread; an error after a reset is the expected end, not a failure."""

    def call() -> None:
        with contextlib.suppress(pynvml.NVMLError):
            function(*args)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def hung_call_in_thread(handle: Any) -> threading.Thread:
    return call_in_thread(
        pynvml.nvmlDeviceGetTotalEccErrors,
        handle,
        pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED,
        pynvml.NVML_VOLATILE_ECC,
    )


def wait_for(count: Any, expected: int) -> None:
    """Bounded polling of one of the library's counters."""
    for _ in range(2000):
        if count() == expected:
            return
        time.sleep(0.005)
    raise AssertionError(f"{count()} calls, expected {expected}")


def test_a_hang_blocks_one_gpus_memory_health_queries_while_its_file_exists(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hang_file = tmp_path / "hang"
    hang_file.touch()
    monkeypatch.setenv("FAKENVML_HANG_GPU", "1")
    monkeypatch.setenv("FAKENVML_HANG_FILE", str(hang_file))
    pynvml.nvmlInit()
    healthy, hung = (pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(2))
    blocked = hung_call_in_thread(hung)
    wait_for(fake_nvml.fakenvml_hung_calls, 1)

    assert pynvml.nvmlDeviceGetTotalEccErrors(healthy, 0, 0) == 0  # other GPUs answer
    assert pynvml.nvmlDeviceGetTemperature(hung, pynvml.NVML_TEMPERATURE_GPU) >= 30  # fast calls answer
    assert blocked.is_alive()

    hang_file.unlink()
    blocked.join(10)
    assert not blocked.is_alive() and fake_nvml.fakenvml_hung_calls() == 0


def test_a_hang_window_comes_from_the_environment_and_the_control_function_ends_it(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = init_handle(monkeypatch, 0, hang_gpu="0", hang_after_s="3600", hang_s="30")
    assert pynvml.nvmlDeviceGetRemappedRows(handle) == (0, 0, 0, 0)  # the window has not opened yet

    fake_nvml.fakenvml_set_hang(0, 600.0)
    blocked = hung_call_in_thread(handle)
    wait_for(fake_nvml.fakenvml_hung_calls, 1)
    fake_nvml.fakenvml_set_hang(-1, 0.0)
    blocked.join(10)
    assert not blocked.is_alive()

    fake_nvml.fakenvml_set_hang(0, 0.2)  # a short window ends by itself
    blocked = hung_call_in_thread(handle)
    blocked.join(10)
    assert not blocked.is_alive()


if __name__ == "__main__":
    print(json.dumps({"probe": probe, "outcomes": outcomes}[sys.argv[1]]()))
