"""GPM profiling metrics and per-process utilization against a replaced pynvml (real exception classes)."""

from __future__ import annotations

import os

import pynvml

from gpu_sentinel.collectors.nvml import NvmlGPUs
from gpu_sentinel.collectors.nvml.calls import NvmlCalls
from gpu_sentinel.collectors.nvml.process_utilization import ProcessUtilization
from tests.collectors.fake_pynvml import HANDLE_BASE, Clock, FakeDriver, default_fields
from tests.collectors.test_nvml import TEST_DEADLINES

MIB = 1024 * 1024
PID = os.getpid()


def make_gpus(clock: Clock) -> NvmlGPUs:
    return NvmlGPUs(clock=clock, deadlines=TEST_DEADLINES)


def test_each_tick_is_measured_against_the_previous_tick(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    first = gpus.sample(now=1.0, include_slow=False)[0]
    assert first.profiling.status == "pending" and first.profiling.sm_active_pct is None

    clock.now += 1.0
    second = gpus.sample(now=2.0, include_slow=False)[0]
    assert second.profiling.status == "ok"
    assert second.profiling.sm_active_pct == 61.5 and second.profiling.tensor_active_pct == 33.0
    assert second.profiling.dram_active_pct == 48.0
    assert second.profiling.pcie_tx_bytes_per_s == 10.0 * MIB
    assert second.profiling.tensor_hmma_active_pct is None  # a metric the GPU does not report stays null

    clock.now += 1.0
    gpus.sample(now=3.0, include_slow=False)
    # Two GPUs: sample numbers interleave, but each pair is one GPU's previous sample and its next one.
    pairs = driver.gpm_pairs
    assert len(pairs) == 4 and all(second > first for first, second in pairs)
    assert {first for first, _ in pairs[2:]} == {second for _, second in pairs[:2]}


def test_a_tick_closer_than_100_ms_keeps_the_last_interval(driver: FakeDriver, clock: Clock) -> None:
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=False)
    clock.now += 1.0
    gpus.sample(now=2.0, include_slow=False)
    taken = driver.calls["nvmlGpmSampleGet"]

    clock.now += 0.05
    again = gpus.sample(now=2.05, include_slow=False)[0]

    assert driver.calls["nvmlGpmSampleGet"] == taken
    assert again.profiling.status == "ok" and again.profiling.sm_active_pct == 61.5


def test_a_gpu_without_gpm_reports_null_and_says_so(driver: FakeDriver, clock: Clock) -> None:
    driver.gpus[1].gpm = None
    gpus = make_gpus(clock)
    for tick in range(3):
        clock.now += 1.0
        with_gpm, without = gpus.sample(now=float(tick), include_slow=False)

    assert with_gpm.profiling.status == "ok"
    assert without.profiling.status == "unsupported"
    assert without.profiling.sm_active_pct is None and without.profiling.tensor_active_pct is None
    assert driver.calls["nvmlGpmSampleGet"] == 3  # only the GPU with GPM is sampled


def test_no_permission_is_reported_and_not_asked_again(driver: FakeDriver, clock: Clock) -> None:
    driver.gpus[0].gpm_error = pynvml.NVML_ERROR_NO_PERMISSION
    gpus = make_gpus(clock)
    for tick in range(3):
        clock.now += 1.0
        sample = gpus.sample(now=float(tick), include_slow=False)[0]

    assert sample.profiling.status == "no_permission" and sample.profiling.sm_active_pct is None
    assert driver.calls["nvmlGpmSampleGet"] == 1 + 3  # GPU 0 once, GPU 1 every tick


def test_gpm_supplies_nvlink_only_on_a_gpu_without_link_counters(driver: FakeDriver, clock: Clock) -> None:
    driver.gpus[1].fields = default_fields(nvlink_links=2)
    gpus = make_gpus(clock)
    gpus.sample(now=1.0, include_slow=False)
    clock.now += 1.0
    driver.gpus[1].field_timestamp_us += 1_000_000
    driver.gpus[1].fields[(pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX, 0)] = 3 * 1024
    without_links, with_links = gpus.sample(now=2.0, include_slow=False)

    assert without_links.nvlink_tx_bytes_per_s == 2.0 * MIB  # GPM's total
    assert with_links.nvlink_tx_bytes_per_s == 3 * 1024 * 1024  # the links' own counters: 3 MiB in 1 s


def _reader(driver: FakeDriver, wall_s: float) -> ProcessUtilization:
    return ProcessUtilization(NvmlCalls(), HANDLE_BASE, set(), wall_clock=lambda: wall_s)


def test_each_process_read_passes_the_newest_sample_it_has_seen(driver: FakeDriver) -> None:
    gpu = driver.gpus[0]
    gpu.process_samples = [
        (100, 9_000_000, 90, 90, 90, 90),  # older than the first window: not asked for
        (100, 10_000_000, 40, 10, 2, 4),
        (100, 10_166_667, 60, 30, 4, 8),
    ]
    reader = _reader(driver, wall_s=10.5)

    first = reader.read().of(100)
    gpu.process_samples.append((100, 10_333_334, 20, 5, 0, 0))
    second = reader.read().of(100)

    assert first == {
        "sm_util_pct": 50.0,
        "memory_util_pct": 20.0,
        "encoder_util_pct": 3.0,
        "decoder_util_pct": 6.0,
    }
    assert second["sm_util_pct"] == 20.0  # only the sample since the last read, not the whole buffer
    assert driver.process_util_since == [("info", 9_500_000), ("info", 10_166_667)]


def test_a_process_without_samples_since_the_last_read_was_idle(driver: FakeDriver) -> None:
    reader = _reader(driver, wall_s=10.5)  # the driver has no samples: NVML_ERROR_NOT_FOUND
    assert reader.read().of(100) == {
        "sm_util_pct": 0.0,
        "memory_util_pct": 0.0,
        "encoder_util_pct": 0.0,
        "decoder_util_pct": 0.0,
    }


def test_older_drivers_fall_back_to_the_legacy_call_once(driver: FakeDriver) -> None:
    driver.missing.add("nvmlDeviceGetProcessesUtilizationInfo")
    driver.gpus[0].process_samples = [(100, 10_000_000, 40, 10, 2, 4)]
    reader = _reader(driver, wall_s=10.5)

    assert reader.read().of(100)["sm_util_pct"] == 40.0
    reader.read()

    assert [name for name, _ in driver.process_util_since] == ["legacy", "legacy"]
    assert driver.calls["nvmlDeviceGetProcessesUtilizationInfo"] == 1


def test_utilization_the_driver_cannot_give_is_null_never_zero(driver: FakeDriver) -> None:
    # As under MIG: neither function is supported, although the driver holds samples.
    driver.unsupported |= {"nvmlDeviceGetProcessesUtilizationInfo", "nvmlDeviceGetProcessUtilization"}
    driver.gpus[0].process_samples = [(100, 10_000_000, 40, 10, 2, 4)]
    reader = _reader(driver, wall_s=10.5)

    figures = reader.read().of(100)
    reader.read()

    assert figures == dict.fromkeys(figures, None) and len(figures) == 4
    assert driver.calls["nvmlDeviceGetProcessesUtilizationInfo"] == 1  # "not supported" is remembered


def test_processes_carry_their_utilization_into_the_sample(driver: FakeDriver, clock: Clock) -> None:
    for index, gpu in enumerate(driver.gpus):
        gpu.processes = [(PID, 1024**3)]
        gpu.process_samples = [(PID, 2**62, 30 + index, 12, 0, 1)]
    driver.gpus[1].process_samples = []
    gpus = make_gpus(clock)
    busy, idle = gpus.sample(now=1.0, include_slow=True)

    assert busy.processes[0].sm_util_pct == 30.0 and busy.processes[0].memory_util_pct == 12.0
    assert busy.processes[0].decoder_util_pct == 1.0
    assert idle.processes[0].sm_util_pct == 0.0
