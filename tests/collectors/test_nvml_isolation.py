"""A driver call that hangs on one GPU delays only that GPU, which is reported unresponsive until it answers.

The hangs are real blocked threads in the fake pynvml; the deadlines run on an injected clock, so no test
waits for them in real time (each tick still waits its short real ``wait_s`` for the hung GPU).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import gpu_sentinel.collectors.nvml.source as nvml_source
from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines
from gpu_sentinel.snapshot import GPUSample
from tests.collectors.fake_pynvml import Clock, FakeDriver, FakeGPU, default_fields

# The wait bounds each tick that waits for a hung GPU (real time); it must cover a healthy read on a
# loaded machine, or that GPU would be late too.
DEADLINES = ReadDeadlines(wait_s=0.4, fast_s=0.5, slow_s=2.0)
POLL_LIMIT = 200


@pytest.fixture
def gpus(driver: FakeDriver, clock: Clock) -> Iterator[NvmlGPUs]:
    driver.gpus.append(FakeGPU(fields=default_fields()))  # three GPUs: one hangs, two keep answering
    source = NvmlGPUs(clock=clock, deadlines=DEADLINES)
    source.sample(now=1.0, include_slow=True)
    yield source
    driver.release_all()
    source.close()


def tick_until(
    gpus: NvmlGPUs, clock: Clock, done: Callable[[tuple[GPUSample, ...]], bool], now: float
) -> tuple[GPUSample, ...]:
    for _ in range(POLL_LIMIT):
        samples = gpus.sample(now=now, include_slow=False)
        if done(samples):
            return samples
        clock.now += 0.25
    raise AssertionError(f"condition never held; last samples: {samples}")


def test_a_hung_fast_call_marks_only_that_gpu_unresponsive_until_it_answers(
    driver: FakeDriver, gpus: NvmlGPUs, clock: Clock
) -> None:
    release = driver.hang("nvmlDeviceGetUtilizationRates", 1)
    driver.gpus[0].util = 40
    late = gpus.sample(now=2.0, include_slow=False)
    clock.now += 0.6  # past the fast deadline: the read has run 0.6 s
    driver.gpus[0].util = 41
    missed = gpus.sample(now=2.6, include_slow=True)
    clock.now += 0.25
    driver.gpus[0].util = 42
    still = gpus.sample(now=2.85, include_slow=False)

    assert late[1].utilization_gpu_pct is None and not late[1].unresponsive  # late, within its deadline
    for samples, util in ((late, 40.0), (missed, 41.0), (still, 42.0)):
        healthy, hung, other = samples
        assert healthy.utilization_gpu_pct == util and not healthy.unresponsive
        assert other.utilization_gpu_pct == 87.0 and not other.unresponsive
        assert hung.utilization_gpu_pct is None and hung.temperature_c is None
        assert hung.ecc_corrected_volatile is None and hung.processes == ()
        assert not hung.lost and hung.info.uuid is not None
    assert missed[1].unresponsive_since == still[1].unresponsive_since == pytest.approx(2.5)  # deadline
    assert driver.calls["nvmlDeviceGetUtilizationRates"] == 3 + 3 + 2 + 2  # the hung GPU was asked once

    driver.gpus[1].util = 55
    release.set()
    recovered = tick_until(gpus, clock, lambda s: not s[1].unresponsive, now=3.0)[1]
    assert recovered.unresponsive_since is None
    assert recovered.utilization_gpu_pct == 55.0  # a fresh reading, not the one that hung
    assert recovered.ecc_corrected_volatile == 2


def test_a_hung_slow_call_is_unresponsive_after_the_slow_deadline_while_the_rest_flow(
    driver: FakeDriver, gpus: NvmlGPUs, clock: Clock
) -> None:
    release = driver.hang("nvmlDeviceGetTotalEccErrors", 2)
    gpus.sample(now=2.0, include_slow=True)  # starts the slow read that hangs
    clock.now += DEADLINES.slow_s / 2
    within = gpus.sample(now=3.0, include_slow=False)
    assert not any(s.unresponsive for s in within)
    assert within[2].utilization_gpu_pct == 87.0  # the fast path of the same GPU still answers

    clock.now += DEADLINES.slow_s
    driver.gpus[0].temperature = 70
    late = gpus.sample(now=4.0, include_slow=True)
    assert late[2].unresponsive_since == pytest.approx(3.0)  # two seconds after the read began
    assert late[2].utilization_gpu_pct is None
    assert late[0].temperature_c == 70.0 and not late[0].unresponsive
    assert not late[1].unresponsive

    release.set()
    recovered = tick_until(gpus, clock, lambda s: not s[2].unresponsive, now=5.0)
    assert recovered[2].utilization_gpu_pct == 87.0 and recovered[2].ecc_corrected_volatile == 2


def test_the_first_snapshot_waits_for_slow_readings_but_later_ones_do_not(
    driver: FakeDriver, clock: Clock
) -> None:
    gpus = NvmlGPUs(clock=clock, deadlines=ReadDeadlines(wait_s=5.0, slow_s=DEADLINES.slow_s))
    try:
        first = gpus.sample(now=1.0, include_slow=True)
        assert all(s.ecc_corrected_volatile == 2 and s.power_limit_w == 700.0 for s in first)
        release = driver.hang("nvmlDeviceGetRemappedRows", 0)
        slow_tick = gpus.sample(now=2.0, include_slow=True)  # must not wait for the hung slow read
        assert slow_tick[0].ecc_corrected_volatile == 2 and not slow_tick[0].unresponsive
        release.set()
    finally:
        gpus.close()


def test_a_gpu_lost_during_a_slow_read_is_reported_lost(
    driver: FakeDriver, gpus: NvmlGPUs, clock: Clock
) -> None:
    release = driver.hang("nvmlDeviceGetTotalEccErrors", 1)
    gpus.sample(now=2.0, include_slow=True)
    driver.lost.add(1)
    release.set()
    lost = tick_until(gpus, clock, lambda s: s[1].lost, now=3.0)
    assert lost[1].unresponsive_since is None and lost[1].temperature_c is None
    assert not lost[0].lost and lost[0].temperature_c == 64.0


def test_close_returns_while_a_driver_call_is_still_hung(
    driver: FakeDriver, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nvml_source, "CLOSE_TIMEOUT_S", 0.05)
    gpus = NvmlGPUs(clock=clock, deadlines=DEADLINES)
    gpus.sample(now=1.0, include_slow=True)
    release = driver.hang("nvmlDeviceGetTemperature", 0)
    gpus.sample(now=2.0, include_slow=False)
    gpus.close()
    assert not gpus.available
    assert "nvmlShutdown" not in driver.calls  # not under a call still inside the driver
    release.set()
