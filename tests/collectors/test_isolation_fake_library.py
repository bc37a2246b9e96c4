"""The sampler on the fake libnvidia-ml.so through the real binding, with a real driver's slow calls and
a GPU whose memory-health queries hang: the cadence holds and only the hung GPU drops out."""

from __future__ import annotations

import ctypes
import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines
from gpu_sentinel.sampler import Sampler
from gpu_sentinel.snapshot import HostSample, Snapshot
from tests.fakenvml.fixtures import fake_nvml, fake_nvml_lib, fake_nvml_path

__all__ = ["fake_nvml", "fake_nvml_lib", "fake_nvml_path"]

pytestmark = pytest.mark.real_component

INTERVAL_S = 0.25
SLOW_INTERVAL_S = 0.5
WAIT_LIMIT_S = 60.0  # bounds a failing test; a passing one ends as soon as its condition holds
REALISTIC_LATENCY_US = (
    "nvmlDeviceGetPcieThroughput=20000,"
    "nvmlDeviceGetComputeRunningProcesses=4500,"
    "nvmlDeviceGetGraphicsRunningProcesses=4500,"
    "nvmlDeviceGetMemoryInfo=12"
)


# On a 2-core CI host shared with other jobs, a healthy GPU's worker can now and then go unscheduled for
# half an interval; that GPU then has no readings for that one tick (never a false "unresponsive"). A GPU
# held up by another GPU's hang would miss every tick, so one miss per GPU is all these tests allow.
MISSES_ALLOWED = 1


def ticks_without_readings(snapshots: list[Snapshot], index: int) -> int:
    """Ticks in which GPU ``index`` published no fresh reading (its energy counter did not move on)."""
    return sum(
        1
        for previous, snapshot in itertools.pairwise(snapshots)
        if (snapshot.gpus[index].energy_j or 0) <= (previous.gpus[index].energy_j or 0)
    )


class StaticHost:
    def __init__(self) -> None:
        self.samples = 0

    def sample(self, include_slow: bool) -> HostSample:
        self.samples += 1
        return HostSample(hostname="test-host", cpu_pct=10.0)


class Recorder:
    """Every published snapshot, in order; filled from the sampler thread."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self._changed = threading.Condition()

    def __call__(self, snapshot: Snapshot) -> None:
        with self._changed:
            self.snapshots.append(snapshot)
            self._changed.notify_all()

    def wait_for(self, condition: Callable[[list[Snapshot]], bool]) -> list[Snapshot]:
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self.snapshots), WAIT_LIMIT_S):
                raise AssertionError(f"condition never held over {len(self.snapshots)} snapshots")
            return list(self.snapshots)


@pytest.fixture
def running(fake_nvml: ctypes.CDLL) -> Iterator[Callable[[ReadDeadlines], tuple[Sampler, Recorder]]]:
    started: list[tuple[Sampler, NvmlGPUs]] = []

    def start(deadlines: ReadDeadlines) -> tuple[Sampler, Recorder]:
        gpus = NvmlGPUs(deadlines=deadlines)
        sampler = Sampler(gpus, StaticHost(), interval_s=INTERVAL_S, slow_interval_s=SLOW_INTERVAL_S)
        recorder = Recorder()
        sampler.subscribe(recorder)
        started.append((sampler, gpus))
        sampler.start()
        return sampler, recorder

    yield start
    fake_nvml.fakenvml_set_hang(-1, 0.0)
    for sampler, gpus in started:
        sampler.stop()
        gpus.close()


def test_eight_gpus_with_a_20_ms_pcie_throughput_call_keep_four_samples_a_second(
    running: Callable[[ReadDeadlines], tuple[Sampler, Recorder]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One thread reading 8 GPUs would spend 8 x (2 x 20 + 2 x 4.5) ms per slow tick: past 250 ms."""
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "8")
    monkeypatch.setenv("FAKENVML_UNSUPPORTED_FIELDS", "197,198")  # no byte counters: the 20 ms fallback
    monkeypatch.setenv("FAKENVML_LATENCY_US", REALISTIC_LATENCY_US)
    sampler, recorder = running(ReadDeadlines.for_interval(INTERVAL_S))

    snapshots = recorder.wait_for(lambda s: len(s) >= 24)  # six seconds: a dozen slow reads per GPU
    sampler.stop()

    assert sampler.overruns == 0 and sampler.errors == 0
    assert [s.seq for s in snapshots] == list(range(1, len(snapshots) + 1))
    for snapshot in snapshots:
        assert len(snapshot.gpus) == 8
        assert not any(g.unresponsive or g.lost for g in snapshot.gpus)
    assert all(ticks_without_readings(snapshots, index) <= MISSES_ALLOWED for index in range(8))
    # From the slow path, in every snapshot that has the GPU's readings (not the one tick it may miss).
    for index in range(8):
        readings = [s.gpus[index] for s in snapshots if s.gpus[index].energy_j is not None]
        assert all(g.pcie_tx_bytes_per_s is not None for g in readings), index
    assert sampler.call_stats()["nvmlDeviceGetPcieThroughput"].calls >= 8 * 2 * 6


def test_a_gpu_whose_ecc_queries_hang_drops_out_alone_and_comes_back(
    running: Callable[[ReadDeadlines], tuple[Sampler, Recorder]],
    fake_nvml: ctypes.CDLL,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "4")
    monkeypatch.setenv("FAKENVML_LATENCY_US", REALISTIC_LATENCY_US)
    hung = 2
    sampler, recorder = running(ReadDeadlines(wait_s=INTERVAL_S / 2, fast_s=0.5, slow_s=1.0))
    recorder.wait_for(lambda s: len(s) >= 3)

    hang_started = time.time()
    fake_nvml.fakenvml_set_hang(hung, 600.0)
    before = recorder.wait_for(lambda s: s[-1].gpus[hung].unresponsive)
    first_miss = len(before) - 1
    during = recorder.wait_for(lambda s: len(s) >= first_miss + 12)[first_miss:]
    fake_nvml.fakenvml_set_hang(-1, 0.0)
    after = recorder.wait_for(lambda s: not s[-1].gpus[hung].unresponsive)
    sampler.stop()

    assert sampler.overruns == 0
    assert [s.seq for s in after] == list(range(1, len(after) + 1))
    since = during[0].gpus[hung].unresponsive_since
    assert since is not None and hang_started < since <= during[0].timestamp
    for snapshot in during:
        sample = snapshot.gpus[hung]
        assert sample.unresponsive_since == since  # the first missed deadline, not the latest tick
        assert sample.utilization_gpu_pct is None and sample.ecc_corrected_aggregate is None
        assert not any(snapshot.gpus[index].unresponsive for index in (0, 1, 3))
    for index in (0, 1, 3):  # the others update at every tick: their energy counter moves on
        assert ticks_without_readings(during, index) <= MISSES_ALLOWED

    recovered = after[-1].gpus[hung]
    assert recovered.unresponsive_since is None
    assert recovered.utilization_gpu_pct is not None and recovered.temperature_c is not None
    assert recovered.ecc_corrected_aggregate == 2 * hung  # the fake's count for that GPU
