"""Simulated GPUs behave like real ones over simulated time: ranges, thermal lag, processes, faults."""

from __future__ import annotations

from gpu_sentinel.collectors.simulated import POWER_LIMIT_W, SimulatedGPUs
from gpu_sentinel.snapshot import GPUSample


def run(
    gpus: SimulatedGPUs, seconds: float, step: float = 1.0, start: float = 0.0
) -> list[tuple[GPUSample, ...]]:
    ticks = int(seconds / step)
    return [gpus.sample(now=start + i * step, include_slow=True) for i in range(ticks)]


def test_values_stay_in_realistic_ranges_and_vary() -> None:
    history = run(SimulatedGPUs(4, seed=3), seconds=1800)
    samples = [s for tick in history for s in tick]
    assert all(0 <= s.utilization_gpu_pct <= 100 for s in samples if s.utilization_gpu_pct is not None)
    assert all(25 <= (s.temperature_c or 0) <= 95 for s in samples)
    assert all(0 < (s.power_w or 0) <= POWER_LIMIT_W for s in samples)
    assert all((s.memory_used_bytes or 0) <= (s.memory_total_bytes or 0) for s in samples)
    utilizations = {round(s.utilization_gpu_pct or 0) for s in samples}
    assert len(utilizations) > 20
    energy = [tick[0].energy_j or 0 for tick in history]
    assert energy == sorted(energy) and energy[-1] > 0


def test_temperature_follows_power_with_lag() -> None:
    gpus = SimulatedGPUs(1, seed=1)
    gpus.force_load(0, 100.0)
    history = run(gpus, seconds=600)
    temperatures = [tick[0].temperature_c or 0 for tick in history]
    assert temperatures[5] < temperatures[60] < temperatures[-1]
    assert temperatures[-1] > 75


def test_processes_come_and_go() -> None:
    history = run(SimulatedGPUs(2, seed=5), seconds=3600, step=5.0)
    pid_sets = [frozenset(p.pid for p in tick[0].processes) for tick in history]
    assert len(set(pid_sets)) > 3
    assert any(not pids for pids in pid_sets) and any(pids for pids in pid_sets)


def test_injected_xid_and_lost_gpu() -> None:
    gpus = SimulatedGPUs(2, seed=2, xid_mean_interval_s=1e12)
    gpus.sample(now=0.0, include_slow=True)
    gpus.inject_xid(1, 79)
    after = gpus.sample(now=1.0, include_slow=True)
    assert after[1].xid_count == 1 and after[1].last_xid == 79 and after[0].xid_count == 0

    gpus.set_lost(1)
    lost = gpus.sample(now=2.0, include_slow=True)[1]
    assert lost.lost and lost.temperature_c is None and lost.xid_count == 1


def test_last_gpu_can_fall_off_the_bus_by_itself() -> None:
    gpus = SimulatedGPUs(3, seed=1, lose_last_gpu=True, lost_after_s=30)
    assert not gpus.sample(now=0.0, include_slow=True)[2].lost
    late = gpus.sample(now=31.0, include_slow=True)
    assert late[2].lost and not late[0].lost and not late[1].lost


def test_same_seed_same_simulation() -> None:
    first = run(SimulatedGPUs(2, seed=9), seconds=60)
    second = run(SimulatedGPUs(2, seed=9), seconds=60)
    assert first == second


def test_link_counters_and_violation_times_are_plausible() -> None:
    history = run(SimulatedGPUs(4, seed=3), seconds=1800)
    samples = [s for tick in history for s in tick]
    busy = [s for s in samples if (s.utilization_gpu_pct or 0) > 80]
    idle = [s for s in samples if (s.utilization_gpu_pct or 0) < 1]
    assert busy and idle
    assert all(0 <= (s.nvlink_tx_bytes_per_s or 0) <= 450e9 for s in samples)  # H100: 450 GB/s a way
    assert max(s.nvlink_tx_bytes_per_s or 0 for s in busy) > 1e9
    # traffic follows load (utilization is rounded to 0.1 %)
    assert all(
        (s.nvlink_rx_bytes_per_s or 0) <= ((s.utilization_gpu_pct or 0) + 0.1) * 5.2e8 for s in samples
    )
    assert all(s.memory_reserved_bytes == 551 * 1024**2 for s in samples)
    for index in range(4):
        low_util = [tick[index].low_util_violation_s or 0 for tick in history]
        replays = [tick[index].pcie_replay_count or 0 for tick in history]
        assert low_util == sorted(low_util) and replays == sorted(replays)  # cumulative
    assert max(tick[0].low_util_violation_s or 0 for tick in history) > 0
    assert history[-1][0].reliability_violation_s == 0.0


def test_an_unresponsive_gpu_reports_only_since_when_until_it_answers() -> None:
    gpus = SimulatedGPUs(2, seed=2, xid_mean_interval_s=1e12)
    gpus.sample(now=0.0, include_slow=True)
    gpus.set_unresponsive(1, since=0.5)
    stuck = gpus.sample(now=1.0, include_slow=True)
    assert stuck[1].unresponsive_since == 0.5 and stuck[1].utilization_gpu_pct is None
    assert not stuck[1].lost and stuck[0].utilization_gpu_pct is not None
    gpus.set_unresponsive(1, since=None)
    back = gpus.sample(now=2.0, include_slow=True)[1]
    assert not back.unresponsive and back.utilization_gpu_pct is not None


def test_gpus_in_mig_mode_run_a_workload_per_instance_with_the_nulls_nvml_reports() -> None:
    history = run(SimulatedGPUs(2, seed=7, mig_gpus=1), seconds=1800, step=5.0)
    plain, mig = history[-1]
    assert (plain.mig_mode, plain.mig_instances) == (False, ())
    assert mig.mig_mode is True
    assert [(m.profile, m.gpu_instance_id, m.memory_total_bytes) for m in mig.mig_instances] == [
        ("3g.40gb", 1, 40 * 1024**3),
        ("2g.20gb", 5, 20 * 1024**3),
        ("1g.10gb", 13, 10 * 1024**3),
        ("1g.10gb", 14, 10 * 1024**3),
    ]
    assert len({m.uuid for m in mig.mig_instances}) == 4

    samples = [tick[1] for tick in history]
    instances = [m for s in samples for m in s.mig_instances]
    processes = [p for s in samples for p in s.processes]
    # NVML has no utilization under MIG: none for the GPU, an instance or a process, never 0.
    assert all(s.utilization_gpu_pct is None for s in samples)
    assert all(m.utilization_gpu_pct is None for m in instances)
    assert processes and all(p.sm_util_pct is None for p in processes)
    # Each process runs on one of the instances, and within its memory.
    assert {p.gpu_instance_id for p in processes} <= {1, 5, 13, 14}
    assert all((m.memory_used_bytes or 0) <= (m.memory_total_bytes or 0) for m in instances)
    assert all((s.memory_used_bytes or 0) <= (s.memory_total_bytes or 0) for s in samples)
    # Instances' workloads differ and change: their GPM activity tells them apart over time.
    activity = {(m.gpu_instance_id, round(m.profiling.sm_active_pct or 0)) for m in instances}
    assert len({sm for _, sm in activity}) > 10
    assert all(m.profiling.status == "ok" and m.profiling.pcie_tx_bytes_per_s is None for m in instances)
    assert all(s.profiling.pcie_tx_bytes_per_s is not None for s in samples)


def test_a_busy_gpu_in_mig_mode_draws_power_like_a_busy_whole_gpu() -> None:
    gpus = SimulatedGPUs(2, seed=2, mig_gpus=1)
    gpus.force_load(0, 100.0)
    gpus.force_load(1, 100.0)
    plain, mig = run(gpus, seconds=120)[-1]
    assert (plain.power_w or 0) > 0.8 * POWER_LIMIT_W and (mig.power_w or 0) > 0.8 * POWER_LIMIT_W
    assert all((m.profiling.sm_active_pct or 0) > 70 for m in mig.mig_instances)
