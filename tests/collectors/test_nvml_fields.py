"""Field values batched into one call per GPU per tick, and cumulative counters turned into rates."""

from __future__ import annotations

import pynvml
import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines
from gpu_sentinel.collectors.nvml.fields import CounterRate
from tests.collectors.fake_pynvml import FakeDriver, default_fields

TX = pynvml.NVML_FI_DEV_PCIE_COUNT_TX_BYTES
RX = pynvml.NVML_FI_DEV_PCIE_COUNT_RX_BYTES
NVLINK_TX = pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_TX
NVLINK_RX = pynvml.NVML_FI_DEV_NVLINK_THROUGHPUT_DATA_RX
# utilization, memory, power, clock-event reasons, encoder, decoder, temperature, fan, SM and memory
# clocks, P-state, and one nvmlDeviceGetFieldValues for everything else.
FAST_CALLS_PER_GPU = 12


def make_gpus() -> NvmlGPUs:
    return NvmlGPUs(clock=lambda: 1000.0, deadlines=ReadDeadlines(wait_s=5.0, fast_s=10.0, slow_s=10.0))


def advance_counters(driver: FakeDriver, seconds: float, rates: dict[object, float]) -> None:
    """Move every GPU's counters on by ``rates`` (units per second) over ``seconds`` of driver time."""
    for gpu in driver.gpus:
        gpu.field_timestamp_us += int(seconds * 1e6)
        for key, rate in rates.items():
            gpu.fields[key] = (gpu.fields[key] or 0) + int(rate * seconds)


def test_pcie_throughput_is_the_byte_counters_diffed_over_the_interval(driver: FakeDriver) -> None:
    gpus = make_gpus()
    gpus.sample(now=1.0, include_slow=True)
    advance_counters(driver, 0.25, {TX: 3.2e9, RX: 1.6e9})
    second = gpus.sample(now=1.25, include_slow=False)[0]
    advance_counters(driver, 0.5, {TX: 1.0e9, RX: 0.0})
    third = gpus.sample(now=1.75, include_slow=False)[0]

    assert second.pcie_tx_bytes_per_s == pytest.approx(3.2e9)
    assert second.pcie_rx_bytes_per_s == pytest.approx(1.6e9)
    assert third.pcie_tx_bytes_per_s == pytest.approx(1.0e9)
    assert third.pcie_rx_bytes_per_s == 0.0
    assert "nvmlDeviceGetPcieThroughput" not in driver.calls


def test_a_counter_reset_reports_no_rate_for_that_interval_only(driver: FakeDriver) -> None:
    gpus = make_gpus()
    advance_counters(driver, 100.0, {TX: 1e9})
    gpus.sample(now=1.0, include_slow=True)
    for gpu in driver.gpus:  # the driver reloaded: the counter starts again from zero
        gpu.fields[TX] = 0
        gpu.field_timestamp_us += 250_000
    after_reset = gpus.sample(now=1.25, include_slow=False)[0]
    advance_counters(driver, 0.25, {TX: 2e9})
    recovered = gpus.sample(now=1.5, include_slow=False)[0]

    assert after_reset.pcie_tx_bytes_per_s is None
    assert recovered.pcie_tx_bytes_per_s == pytest.approx(2e9)


def test_a_32_bit_counter_that_wraps_keeps_its_rate() -> None:
    rate = CounterRate()
    assert rate.update(2**32 - 1000, 10.0, bits=32) is None
    assert rate.update(3000, 11.0, bits=32) == 4000.0
    assert rate.update(1000, 12.0, bits=64) is None  # 64-bit counters do not wrap: a reset


def test_nvlink_throughput_is_summed_over_links(driver: FakeDriver) -> None:
    links = 4
    for gpu in driver.gpus:
        gpu.fields = default_fields(nvlink_links=links)
    gpus = make_gpus()
    gpus.sample(now=1.0, include_slow=True)
    rates_kib: dict[object, float] = {(NVLINK_TX, link): 1000.0 * (link + 1) for link in range(links)}
    rates_kib.update({(NVLINK_RX, link): 500.0 for link in range(links)})
    advance_counters(driver, 0.5, rates_kib)
    sample = gpus.sample(now=1.5, include_slow=False)[0]

    assert sample.nvlink_tx_bytes_per_s == pytest.approx((1000 + 2000 + 3000 + 4000) * 1024)
    assert sample.nvlink_rx_bytes_per_s == pytest.approx(4 * 500 * 1024)


def test_a_link_that_does_not_answer_is_left_out_of_the_sum(driver: FakeDriver) -> None:
    for gpu in driver.gpus:
        gpu.fields = default_fields(nvlink_links=2)
        gpu.fields[(NVLINK_TX, 1)] = None
    gpus = make_gpus()
    gpus.sample(now=1.0, include_slow=True)
    advance_counters(driver, 1.0, {(NVLINK_TX, 0): 2048.0})
    sample = gpus.sample(now=2.0, include_slow=False)[0]
    assert sample.nvlink_tx_bytes_per_s == pytest.approx(2048 * 1024)


def test_fast_readings_take_one_field_value_call_per_gpu_per_tick(driver: FakeDriver) -> None:
    for gpu in driver.gpus:
        gpu.fields = default_fields(nvlink_links=18)
    gpus = make_gpus()
    gpus.sample(now=1.0, include_slow=True)
    before = dict(driver.calls)
    ticks = 5
    for tick in range(ticks):
        gpus.sample(now=2.0 + tick, include_slow=False)
    made = {name: count - before.get(name, 0) for name, count in driver.calls.items()}
    made = {name: count for name, count in made.items() if count}

    assert made.pop("nvmlEventSetWait") == ticks
    assert made["nvmlDeviceGetFieldValues"] == ticks * len(driver.gpus)
    assert sum(made.values()) == ticks * len(driver.gpus) * FAST_CALLS_PER_GPU
    assert "nvmlDeviceGetTotalEnergyConsumption" not in made  # energy comes with the field values


def test_unsupported_counters_fall_back_to_throughput_on_the_slow_path_only(driver: FakeDriver) -> None:
    for gpu in driver.gpus:
        gpu.fields[TX] = gpu.fields[RX] = None
    gpus = make_gpus()
    first = gpus.sample(now=1.0, include_slow=True)[0]
    assert driver.calls["nvmlDeviceGetPcieThroughput"] == 2 * 2  # two GPUs, TX and RX
    assert first.pcie_tx_bytes_per_s == 2000 * 1024 and first.pcie_rx_bytes_per_s == 5000 * 1024

    for tick in range(4):
        fast = gpus.sample(now=2.0 + tick, include_slow=False)[0]
        assert fast.pcie_tx_bytes_per_s == 2000 * 1024  # the last slow reading, carried over
    assert driver.calls["nvmlDeviceGetPcieThroughput"] == 4


def test_field_values_unavailable_leaves_only_those_readings_missing(driver: FakeDriver) -> None:
    driver.unsupported.add("nvmlDeviceGetFieldValues")
    gpus = make_gpus()
    first = gpus.sample(now=1.0, include_slow=True)[0]
    assert first.memory_temperature_c is None and first.energy_j is None
    assert first.pcie_replay_count is None
    assert first.pcie_tx_bytes_per_s == 2000 * 1024  # no counters: the throughput fallback
    assert first.temperature_c == 64.0 and first.utilization_gpu_pct == 87.0
