"""Cost of finding who owns each GPU process: ``/proc/<pid>/cgroup`` reads with 500 GPU processes.

A fixture ``/proc`` tree of 500 processes (Docker, containerd and CRI-O pods, Podman, SLURM v1 and v2,
bare host processes) and a kubelet log directory are written under ``bench/.work/``; then one minute of
ticks at 4 Hz (240 ticks; processes are really read on the 2 s slow cadence, so this is an upper bound)
asks the owner of every process, three ways:

- ``uncached``: every tick reads every cgroup again, as a collector without a cache would;
- ``cached``: ``collectors.attribution.Attributor``, keyed by PID and start time (the goal: one read per
  process);
- ``cached_with_churn``: the same, while 2 processes a second exit and their PIDs are reused by new ones.

Reports cgroup reads per tick and per second, CPU time per tick and owners found.

    .venv/bin/python bench/attribution.py        # writes bench/results/attribution.{json,md}
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from common import RESULTS_DIR, WORK_DIR, machine_info, now_iso, write_json  # noqa: E402
from gpu_sentinel.collectors.attribution import Attributor  # noqa: E402

PROCESSES = 500
TICKS_PER_S = 4
SECONDS = 60
CHURN_PER_S = 2
FIRST_PID = 10_000


def _cgroup(i: int) -> str:
    """One of the real path shapes, in turn."""
    cid = f"{i:064x}"
    pod = f"{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    shapes = (
        f"0::/system.slice/docker-{cid}.scope",
        f"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod.replace('-', '_')}.slice/"
        f"cri-containerd-{cid}.scope",
        f"0::/kubepods.slice/kubepods-pod{pod.replace('-', '_')}.slice/crio-{cid}.scope",
        f"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{cid}.scope",
        f"11:memory:/slurm/uid_1000/job_{i}/step_0/task_0\n1:name=systemd:/system.slice/slurmd.service",
        f"0::/system.slice/slurmstepd.scope/job_{i}/step_batch/user/task_0",
        "0::/user.slice/user-1000.slice/session-3.scope",
    )
    return shapes[i % len(shapes)]


def write_process(proc: Path, pods: Path, pid: int, i: int, started: int) -> None:
    directory = proc / str(pid)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "stat").write_text(f"{pid} (python3) S {' '.join(['0'] * 18)} {started} 0 0\n")
    (directory / "cgroup").write_text(_cgroup(i) + "\n")
    (directory / "status").write_text("Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\n")
    (directory / "environ").write_bytes(b"HOSTNAME=worker\0")
    if i % 7 in (1, 2):
        (pods / f"team-{i % 5}_worker-{i}_{i:08x}-1c2d-4e5f-8a9b-0c1d2e3f4a5b").mkdir(exist_ok=True)


def build_tree(root: Path) -> tuple[Path, Path]:
    shutil.rmtree(root, ignore_errors=True)
    proc, pods = root / "proc", root / "pods"
    pods.mkdir(parents=True)
    for i in range(PROCESSES):
        write_process(proc, pods, FIRST_PID + i, i, started=1000 + i)
    return proc, pods


def run(proc: Path, pods: Path, fresh_each_tick: bool, churn: bool) -> dict[str, Any]:
    attributor = Attributor(proc, pods)
    reads = 0
    cpu_per_tick: list[float] = []
    owned = 0
    next_new = PROCESSES
    for tick in range(TICKS_PER_S * SECONDS):
        if churn and tick % TICKS_PER_S == 0 and tick:
            for k in range(CHURN_PER_S):  # a process exits; a new one gets its PID
                pid = FIRST_PID + (tick + k * 97) % PROCESSES
                write_process(proc, pods, pid, next_new, started=100_000 + next_new)
                next_new += 1
        if fresh_each_tick:
            reads += attributor.cgroup_reads
            attributor = Attributor(proc, pods)
        started = time.process_time()
        owners = [attributor.owner(FIRST_PID + i) for i in range(PROCESSES)]
        cpu_per_tick.append(time.process_time() - started)
        owned = sum(1 for o in owners if o.container_id or o.slurm_job_id)
    reads += attributor.cgroup_reads
    ticks = TICKS_PER_S * SECONDS
    return {
        "ticks": ticks,
        "cgroup_reads": reads,
        "cgroup_reads_per_tick": reads / ticks,
        "cgroup_reads_per_s": reads / SECONDS,
        "cpu_ms_per_tick_median": statistics.median(cpu_per_tick) * 1000,
        "cpu_ms_per_tick_max": max(cpu_per_tick) * 1000,
        "processes_with_an_owner": owned,
    }


def summary(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# Attribution cost: /proc/<pid>/cgroup reads with 500 GPU processes",
        "",
        f"{PROCESSES} fixture processes, {SECONDS} s of ticks at {TICKS_PER_S} Hz "
        f"({TICKS_PER_S * SECONDS} ticks; processes are really read every 2 s, so this is an upper bound). "
        f"{machine['logical_cores']} cores ({machine['cpu_model']}), shared: load average "
        f"{machine['load_average_at_start'][0]} at the start.",
        "Goal: each process's cgroup read once, not once per tick.",
        "",
        "| run | cgroup reads | per tick | per second | CPU per tick, median / max (ms) | with an owner |",
        "|---|---|---|---|---|---|",
    ]
    for name, run_result in results["runs"].items():
        lines.append(
            f"| {name} | {run_result['cgroup_reads']} | {run_result['cgroup_reads_per_tick']:.2f} | "
            f"{run_result['cgroup_reads_per_s']:.1f} | {run_result['cpu_ms_per_tick_median']:.2f} / "
            f"{run_result['cpu_ms_per_tick_max']:.2f} | {run_result['processes_with_an_owner']} |"
        )
    lines += [
        "",
        "Cached, each process is read once when first seen (500 reads in the first tick, none after);",
        f"with {CHURN_PER_S} PIDs a second reused by new processes, exactly those are read again. What",
        "remains per tick is one `stat` read per process, which tells a reused PID by its start time.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    root = WORK_DIR / "attribution"
    results: dict[str, Any] = {"started": now_iso(), "machine": machine_info(), "runs": {}}
    for name, fresh, churn in (
        ("uncached", True, False),
        ("cached", False, False),
        ("cached_with_churn", False, True),
    ):
        proc, pods = build_tree(root)
        results["runs"][name] = run(proc, pods, fresh, churn)
    shutil.rmtree(root, ignore_errors=True)
    write_json(RESULTS_DIR / "attribution.json", results)
    (RESULTS_DIR / "attribution.md").write_text(summary(results))
    print(summary(results))


if __name__ == "__main__":
    main()
