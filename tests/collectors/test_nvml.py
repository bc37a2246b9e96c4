"""The NVML adapter against a replaced pynvml that raises the binding's real exception classes."""

from __future__ import annotations

import os
from collections.abc import Callable

import pynvml
import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines, decode_clock_event_reasons
from gpu_sentinel.snapshot import GPUSample
from tests.collectors.fake_pynvml import RESERVED_BYTES, Clock, FakeDriver

# Generous: a read that answers ends the wait at once, so these only bound a test that fails.
TEST_DEADLINES = ReadDeadlines(wait_s=5.0, fast_s=10.0, slow_s=10.0)
POLL_LIMIT = 500


def make_gpus(clock: Clock) -> NvmlGPUs:
    return NvmlGPUs(retry_interval_s=30.0, clock=clock, deadlines=TEST_DEADLINES)


def sample_until(
    gpus: NvmlGPUs,
    done: Callable[[tuple[GPUSample, ...]], bool],
    now: float = 10.0,
    include_slow: bool = False,
) -> tuple[GPUSample, ...]:
    """Ticks until ``done`` holds: slow reads finish on their own workers, between ticks."""
    for _ in range(POLL_LIMIT):
        samples = gpus.sample(now=now, include_slow=include_slow)
        if done(samples):
            return samples
    raise AssertionError(f"condition never held; last samples: {samples}")


def test_reads_every_metric_with_units_converted(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    first, second = gpus.sample(now=1.0, include_slow=True)

    assert gpus.available and gpus.status == "ok"
    assert first.info.name == "NVIDIA H100 80GB HBM3"
    assert first.info.driver_version == "550.54.15" and first.info.cuda_version == "12.4"
    assert first.info.compute_capability == "9.0"
    assert first.info.uuid != second.info.uuid
    assert first.utilization_gpu_pct == 87.0
    assert first.memory_used_bytes == 40 * 1024**3
    assert first.memory_reserved_bytes == RESERVED_BYTES
    assert first.temperature_c == 64.0 and first.memory_temperature_c == 72.0
    assert first.power_w == 512.0 and first.power_limit_w == 700.0
    assert first.energy_j == pytest.approx(123_456.789)
    assert first.pcie_replay_count == 4
    assert first.sm_clock_mhz == 1755 and first.info.gpu_max_mhz == 1980
    assert first.pcie_tx_bytes_per_s is None  # a counter needs two reads for a rate
    assert first.nvlink_tx_bytes_per_s is None  # no NVLinks on this GPU
    assert first.encoder_pct == 3.0 and first.decoder_pct == 12.0
    assert (first.power_violation_s, first.thermal_violation_s, first.reliability_violation_s) == (
        1.5,
        3.0,
        9.0,
    )
    assert not first.unresponsive
    assert first.clock_event_reasons == ("sw_power_cap", "sw_thermal_slowdown")
    assert first.ecc_corrected_volatile == 2 and first.ecc_uncorrected_aggregate == 112
    assert first.retired_pages_single_bit == 1 and first.retired_pages_double_bit == 2
    assert first.retired_pages_pending is False
    assert (first.remapped_rows_correctable, first.remapped_rows_uncorrectable) == (3, 1)
    assert first.mig_mode is False


@pytest.mark.parametrize(
    ("function", "field"),
    [
        ("nvmlDeviceGetFanSpeed", "fan_speed_pct"),
        ("nvmlDeviceGetPowerUsage", "power_w"),
        ("nvmlDeviceGetTemperature", "temperature_c"),
        ("nvmlDeviceGetFieldValues", "memory_temperature_c"),
        ("nvmlDeviceGetFieldValues", "energy_j"),
        ("nvmlDeviceGetEncoderUtilization", "encoder_pct"),
        ("nvmlDeviceGetViolationStatus", "thermal_violation_s"),
        ("nvmlDeviceGetTotalEccErrors", "ecc_corrected_volatile"),
        ("nvmlDeviceGetRetiredPages", "retired_pages_single_bit"),
        ("nvmlDeviceGetRemappedRows", "remapped_rows_correctable"),
        ("nvmlDeviceGetMigMode", "mig_mode"),
        ("nvmlDeviceGetPerformanceState", "pstate"),
        ("nvmlDeviceGetUtilizationRates", "utilization_gpu_pct"),
    ],
)
def test_unsupported_field_is_null_and_nothing_else_changes(
    driver: FakeDriver, clock: Clock, function: str, field: str
) -> None:
    driver.unsupported.add(function)
    gpus = make_gpus(clock)
    sample = gpus.sample(now=1.0, include_slow=True)[0]

    assert getattr(sample, field) is None
    assert sample.memory_used_bytes == 40 * 1024**3
    assert sample.sm_clock_mhz == 1755
    assert not sample.lost


def test_unsupported_function_is_not_asked_again(driver: FakeDriver, clock: Clock) -> None:
    driver.unsupported.add("nvmlDeviceGetFanSpeed")
    gpus = make_gpus(clock)
    for tick in range(5):
        gpus.sample(now=float(tick), include_slow=False)
    assert driver.calls["nvmlDeviceGetFanSpeed"] == 2  # once per GPU
    assert gpus.call_stats()["nvmlDeviceGetFanSpeed"].errors == 2
    assert gpus.call_stats()["nvmlDeviceGetUtilizationRates"].calls == 10


def test_no_permission_gives_null(driver: FakeDriver, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(handle: int) -> int:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_NO_PERMISSION)

    monkeypatch.setattr(pynvml, "nvmlDeviceGetSerial", denied)
    sample = make_gpus(clock).sample(now=1.0, include_slow=True)[0]
    assert sample.info.serial is None
    assert sample.info.name == "NVIDIA H100 80GB HBM3"


def test_old_driver_without_clock_event_reasons_falls_back_to_throttle_reasons(
    driver: FakeDriver, clock: Clock
) -> None:
    driver.missing.add("nvmlDeviceGetCurrentClocksEventReasons")
    sample = make_gpus(clock).sample(now=1.0, include_slow=True)[0]
    assert sample.clock_event_reasons == ("gpu_idle",)


def test_old_driver_without_memory_info_v2_uses_v1(
    driver: FakeDriver, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = pynvml.nvmlDeviceGetMemoryInfo

    def v1_only(handle: int, version: int | None = None) -> object:
        if version is not None:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_FUNCTION_NOT_FOUND)
        return original(handle)

    monkeypatch.setattr(pynvml, "nvmlDeviceGetMemoryInfo", v1_only)
    sample = make_gpus(clock).sample(now=1.0, include_slow=True)[0]
    assert sample.memory_used_bytes == 40 * 1024**3
    assert sample.memory_reserved_bytes is None


def test_gpu_lost_mid_run_is_marked_and_others_keep_reporting(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    before = gpus.sample(now=1.0, include_slow=True)
    assert not before[1].lost

    driver.lost.add(1)
    driver.gpus[0].util = 12
    after = gpus.sample(now=2.0, include_slow=False)

    assert after[1].lost
    assert after[1].utilization_gpu_pct is None and after[1].temperature_c is None
    assert after[1].info.uuid == before[1].info.uuid
    assert not after[0].lost and after[0].utilization_gpu_pct == 12.0
    assert gpus.available


def test_gpu_lost_at_start_is_reported_lost(driver: FakeDriver, clock: Clock) -> None:
    driver.lost.add(0)
    samples = make_gpus(clock).sample(now=1.0, include_slow=True)
    assert samples[0].lost and not samples[1].lost


def test_init_failure_is_retried_and_a_driver_that_appears_later_is_used(
    driver: FakeDriver, clock: Clock
) -> None:
    driver.init_error = pynvml.NVML_ERROR_DRIVER_NOT_LOADED
    gpus = make_gpus(clock)

    assert gpus.sample(now=1.0, include_slow=True) == ()
    assert not gpus.available
    assert gpus.status.startswith("nvml_unavailable") and "Driver Not Loaded" in gpus.status

    driver.init_error = None
    clock.now += 10  # before the retry interval: not retried yet
    assert gpus.sample(now=2.0, include_slow=True) == ()
    assert driver.calls["nvmlInit"] == 1

    clock.now += 25
    samples = gpus.sample(now=3.0, include_slow=True)
    assert len(samples) == 2 and gpus.available and gpus.status == "ok"


def test_library_missing_is_a_status_not_a_crash(driver: FakeDriver, clock: Clock) -> None:
    driver.init_error = pynvml.NVML_ERROR_LIBRARY_NOT_FOUND
    gpus = make_gpus(clock)
    assert gpus.sample(now=1.0, include_slow=True) == ()
    assert "Library Not Found" in gpus.status


def test_no_devices_is_unavailable(driver: FakeDriver, clock: Clock) -> None:
    driver.gpus = []
    gpus = make_gpus(clock)
    assert gpus.sample(now=1.0, include_slow=True) == ()
    assert not gpus.available and gpus.status.startswith("no_gpus")


def test_processes_are_enriched_and_vanished_pids_dropped(driver: FakeDriver, clock: Clock) -> None:
    vanished_pid = 2**22 + 12345  # above the kernel's pid_max default: cannot exist
    driver.gpus[0].processes = [(os.getpid(), 512 * 1024**2), (vanished_pid, 1024**3)]
    sample = make_gpus(clock).sample(now=1.0, include_slow=True)[0]

    assert [p.pid for p in sample.processes] == [os.getpid()]
    process = sample.processes[0]
    assert process.name.startswith("python") or process.name == "pytest"
    assert "/" not in process.name and " " not in process.name
    assert process.gpu_memory_bytes == 512 * 1024**2
    assert process.kind == "compute"
    assert process.user is not None and process.host_memory_bytes and process.host_memory_bytes > 0


def test_slow_metrics_refresh_only_on_the_slow_cadence(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=True)
    driver.gpus[0].processes = [(os.getpid(), 1024**2)]
    for tick in range(5):
        fast = gpus.sample(now=2.0 + tick, include_slow=False)[0]
        assert fast.processes == ()
        assert fast.ecc_corrected_volatile == 2  # the last slow reading is carried over
    assert driver.calls["nvmlDeviceGetRemappedRows"] == 2  # one slow read per GPU so far

    gpus.sample(now=8.0, include_slow=True)
    slow = sample_until(gpus, lambda samples: bool(samples[0].processes))[0]
    assert [p.pid for p in slow.processes] == [os.getpid()]
    assert driver.calls["nvmlDeviceGetRemappedRows"] == 4
    assert "nvmlDeviceGetPcieThroughput" not in driver.calls  # the byte counters are there


def test_slow_readings_are_published_when_every_tick_is_a_slow_tick(driver: FakeDriver, clock: Clock) -> None:
    """A slow read that finishes between two ticks is published, though the next tick starts another."""
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=True)
    driver.gpus[1].processes = [(os.getpid(), 1024**2)]
    sample_until(gpus, lambda samples: bool(samples[1].processes), include_slow=True)


def test_xid_events_are_counted_per_gpu(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=True)
    driver.events = [(1, 79), (1, 48), (0, 13)]
    first, second = gpus.sample(now=5.0, include_slow=False)

    assert first.xid_count == 1 and first.last_xid == 13
    assert second.xid_count == 2 and second.last_xid == 48
    assert [(e.xid, e.timestamp) for e in second.xid_events] == [(79, 5.0), (48, 5.0)]
    assert gpus.sample(now=6.0, include_slow=False)[1].xid_count == 2


def test_xid_events_unavailable_does_not_stop_sampling(driver: FakeDriver, clock: Clock) -> None:
    driver.missing.add("nvmlEventSetCreate")
    samples = make_gpus(clock).sample(now=1.0, include_slow=True)
    assert len(samples) == 2 and samples[0].xid_count == 0


def test_every_call_is_counted_and_timed(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=True)
    stats = gpus.call_stats()
    assert stats["nvmlDeviceGetUtilizationRates"].calls == 2
    assert stats["nvmlDeviceGetTotalEccErrors"].calls == 2 * 4
    assert {name: s.calls for name, s in stats.items() if s.calls} == {
        name: count
        for name, count in driver.calls.items()
        if name.startswith(("nvmlDevice", "nvmlSystem", "nvmlGpm"))
        and name
        not in (
            "nvmlDeviceGetCount",
            "nvmlDeviceGetHandleByIndex",
            "nvmlDeviceGetSupportedEventTypes",
            "nvmlDeviceRegisterEvents",
        )
    }


def test_clock_event_reason_bits_decode_to_names() -> None:
    assert decode_clock_event_reasons(0) == ()
    mask = pynvml.nvmlClocksEventReasonGpuIdle | pynvml.nvmlClocksEventReasonHwThermalSlowdown
    assert decode_clock_event_reasons(mask) == ("gpu_idle", "hw_thermal_slowdown")


def test_close_shuts_nvml_down(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=True)
    gpus.close()
    assert driver.calls["nvmlShutdown"] == 1
    assert not gpus.available
