"""MIG devices through the real nvidia-ml-py binding and the fake libnvidia-ml.so: identity, memory, GPM
per GPU instance, processes per instance, nulls where MIG has no figure, and GPM samples freed."""

from __future__ import annotations

import ctypes
import os
import time

import pytest

from gpu_sentinel.collectors.nvml import NvmlGPUs
from gpu_sentinel.snapshot import GPUSample
from tests.collectors.test_nvml_fake_library import opened
from tests.fakenvml.fixtures import fake_nvml, fake_nvml_lib, fake_nvml_path

__all__ = ["fake_nvml", "fake_nvml_lib", "fake_nvml_path"]

pytestmark = pytest.mark.real_component

GIB = 1024**3
POLL_LIMIT = 100
POLL_PAUSE_S = 0.05
PIDS = (os.getpid(), os.getppid())  # processes that exist, so the host lookup keeps them


def sample_until_instances_profiled(gpus: NvmlGPUs) -> tuple[GPUSample, ...]:
    """Ticks until every MIG device of GPU 0 has a full GPM interval (two samples 100 ms apart)."""
    samples: tuple[GPUSample, ...] = ()
    for _ in range(POLL_LIMIT):
        samples = gpus.sample(now=time.time(), include_slow=True)
        instances = samples[0].mig_instances
        if instances and all(m.profiling.status == "ok" for m in instances):
            return samples
        time.sleep(POLL_PAUSE_S)
    raise AssertionError(f"MIG GPM never reported; last samples: {samples}")


@pytest.fixture
def mig_gpu_0(fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two GPUs; GPU 0 in MIG mode with three MIG devices, two processes on it (set after the reset)."""
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "2")
    monkeypatch.setenv("FAKENVML_MIG", "0:3g.40gb/2g.20gb/1g.10gb")
    monkeypatch.setenv("FAKENVML_PIDS", ",".join(map(str, PIDS)))


@pytest.mark.usefixtures("mig_gpu_0")
def test_each_mig_device_appears_under_its_gpu(fake_nvml: ctypes.CDLL) -> None:
    with opened() as gpus:
        mig, plain = sample_until_instances_profiled(gpus)

    assert mig.mig_mode is True and plain.mig_mode is False
    assert plain.mig_instances == ()
    assert [(m.index, m.profile, m.gpu_instance_id, m.compute_instance_id) for m in mig.mig_instances] == [
        (0, "3g.40gb", 1, 0),
        (1, "2g.20gb", 2, 0),
        (2, "1g.10gb", 3, 0),
    ]
    assert [m.uuid for m in mig.mig_instances] == [
        f"MIG-fake0000-{k:04}-0000-0000-{k + 1:012}" for k in range(3)
    ]
    assert [(m.memory_total_bytes, m.memory_used_bytes) for m in mig.mig_instances] == [
        (40 * GIB, 1 * GIB),
        (20 * GIB, 2 * GIB),
        (10 * GIB, 3 * GIB),
    ]
    for m in mig.mig_instances:  # the fake: half the GPU's base, + GPU index 0, + the instance id
        gi = m.gpu_instance_id
        assert gi is not None
        assert m.profiling.sm_active_pct == 30 + gi and m.profiling.sm_occupancy_pct == 20 + gi
        assert m.profiling.tensor_active_pct == 15 + gi and m.profiling.dram_active_pct == 25 + gi
        assert m.profiling.fp16_active_pct == 5 + gi


@pytest.mark.usefixtures("mig_gpu_0")
def test_what_mig_cannot_report_is_null_not_zero(fake_nvml: ctypes.CDLL) -> None:
    with opened() as gpus:
        mig, plain = sample_until_instances_profiled(gpus)

    assert mig.utilization_gpu_pct is None and mig.utilization_memory_pct is None
    assert all(m.utilization_gpu_pct is None for m in mig.mig_instances)
    assert [p.sm_util_pct for p in mig.processes] == [None, None]
    assert mig.temperature_c is not None and mig.profiling.sm_active_pct is not None  # the rest reads on
    assert plain.utilization_gpu_pct is not None
    assert all(p.sm_util_pct is not None for p in plain.processes)


@pytest.mark.usefixtures("mig_gpu_0")
def test_each_process_says_which_instance_it_runs_on(fake_nvml: ctypes.CDLL) -> None:
    with opened() as gpus:
        mig, plain = gpus.sample(now=time.time(), include_slow=True)

    # The fake puts process j on MIG device j % 3: GPU instances 1 and 2.
    assert [(p.pid, p.gpu_instance_id, p.compute_instance_id) for p in mig.processes] == sorted(
        [(PIDS[0], 1, 0), (PIDS[1], 2, 0)]
    )
    assert [(p.gpu_instance_id, p.compute_instance_id) for p in plain.processes] == [(None, None)] * 2


@pytest.mark.usefixtures("mig_gpu_0")
def test_without_privileges_processes_come_from_each_mig_device(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver gives a MIG GPU's whole process list only to a privileged caller."""
    monkeypatch.setenv("FAKENVML_MIG_UNPRIVILEGED", "1")
    with opened() as gpus:
        mig, _ = gpus.sample(now=time.time(), include_slow=True)
        calls = gpus.call_stats()

    assert calls["nvmlDeviceGetComputeRunningProcesses"].errors >= 1  # the parent refused
    assert [(p.pid, p.gpu_instance_id, p.compute_instance_id) for p in mig.processes] == sorted(
        [(PIDS[0], 1, 0), (PIDS[1], 2, 0)]
    )
    assert all(p.gpu_memory_bytes for p in mig.processes)


def test_mig_mode_off_reads_no_instances(fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKENVML_GPU_COUNT", "2")
    with opened() as gpus:
        samples = gpus.sample(now=time.time(), include_slow=True)
        calls = gpus.call_stats()

    assert all(s.mig_mode is False and s.mig_instances == () for s in samples)
    assert all(s.utilization_gpu_pct is not None for s in samples)
    assert "nvmlDeviceGetMigDeviceHandleByIndex" not in calls


def test_gpm_samples_are_freed_when_the_source_stops(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_MIG", "0:7")
    before = fake_nvml.fakenvml_gpm_samples_live()
    with opened() as gpus:
        sample_until_instances_profiled(gpus)
        # Two samples per GPU and per GPU instance: GPU 0 and its 7 instances, GPU 1.
        assert fake_nvml.fakenvml_gpm_samples_live() - before == 2 * (1 + 7 + 1)
    assert fake_nvml.fakenvml_gpm_samples_live() == before


def test_gpm_samples_are_freed_when_a_gpu_is_lost(
    fake_nvml: ctypes.CDLL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKENVML_MIG", "1:2")
    before = fake_nvml.fakenvml_gpm_samples_live()
    with opened() as gpus:
        for _ in range(POLL_LIMIT):
            samples = gpus.sample(now=time.time(), include_slow=False)
            if samples[1].mig_instances and samples[1].mig_instances[-1].profiling.status == "ok":
                break
            time.sleep(POLL_PAUSE_S)
        assert fake_nvml.fakenvml_gpm_samples_live() - before == 2 * (1 + 1 + 2)
        fake_nvml.fakenvml_set_lost(1, 1)
        for _ in range(POLL_LIMIT):
            if gpus.sample(now=time.time(), include_slow=False)[1].lost:
                break
            time.sleep(POLL_PAUSE_S)
        assert fake_nvml.fakenvml_gpm_samples_live() - before == 2  # GPU 0's pair only
    assert fake_nvml.fakenvml_gpm_samples_live() == before
