"""What sampling costs: per-snapshot time and CPU % of one core at 4 Hz, with 1 and 8 GPUs.

Every measurement runs in a child process whose ``LD_LIBRARY_PATH`` points the real nvidia-ml-py binding at
the fake ``libnvidia-ml.so`` from tests/fakenvml, so the whole ctypes path runs; the fake answers in
nanoseconds where a real driver takes microseconds, so these figures are the service's own overhead. In the
same run, the peer gpustat (installed into bench/.work/peers) queries the same fake GPUs.

    .venv/bin/python bench/sampler_cost.py            # writes bench/results/sampler_cost.{json,md}
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakenvml.build import build_fake_nvml, fake_nvml_env  # noqa: E402

RESULTS = REPO / "bench" / "results"
PEERS_VENV = REPO / "bench" / ".work" / "peers"

# Runs inside the child: one snapshot cost distribution, then the sampler thread at its real cadence.
SENTINEL_PROBE = textwrap.dedent(
    """
    import json, statistics, sys, time
    import psutil
    from gpu_sentinel.collectors.host import HostCollector
    from gpu_sentinel.collectors.nvml import NvmlGPUs
    from gpu_sentinel.sampler import Sampler

    ticks, seconds, interval = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    sampler = Sampler(NvmlGPUs(), HostCollector(), interval_s=interval, slow_interval_s=2.0)
    sampler.tick()
    fast, slow, fast_cpu = [], [], []
    for i in range(ticks):
        started, started_cpu = time.perf_counter(), time.thread_time()
        snapshot = sampler.tick()
        (slow if i % 8 == 0 else fast).append(time.perf_counter() - started)
        if i % 8:
            fast_cpu.append(time.thread_time() - started_cpu)
        sampler._next_slow = 0.0 if (i + 1) % 8 == 0 else float("inf")
    gpus = len(snapshot.gpus)
    calls = snapshot.cost.nvml_calls
    process = psutil.Process()
    sampler._next_slow = 0.0
    sampler.start()
    cpu_before, wall_before = sum(process.cpu_times()[:2]), time.monotonic()
    time.sleep(seconds)
    cpu_after, wall_after = sum(process.cpu_times()[:2]), time.monotonic()
    sampler.stop()
    print(json.dumps({
        "gpus": gpus,
        "nvml_calls_per_fast_tick": calls,
        "fast_tick_ms_median": statistics.median(fast) * 1e3,
        "fast_tick_ms_p95": sorted(fast)[int(len(fast) * 0.95)] * 1e3,
        "fast_tick_cpu_ms_median": statistics.median(fast_cpu) * 1e3,
        "slow_tick_ms_median": statistics.median(slow) * 1e3,
        "cpu_percent_of_one_core": 100 * (cpu_after - cpu_before) / (wall_after - wall_before),
        "snapshots": sampler.latest.seq,
    }))
    """
)

GPUSTAT_PROBE = textwrap.dedent(
    """
    import json, statistics, sys, time
    import gpustat
    ticks = int(sys.argv[1])
    gpustat.new_query()
    times, cpu = [], []
    for _ in range(ticks):
        started, started_cpu = time.perf_counter(), time.process_time()
        stats = gpustat.new_query()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    print(json.dumps({
        "gpus": len(stats.gpus),
        "query_ms_median": statistics.median(times) * 1e3,
        "query_cpu_ms_median": statistics.median(cpu) * 1e3,
    }))
    """
)


def ensure_peers() -> Path | None:
    """A virtualenv with gpustat for the side-by-side figure; None if it cannot be installed."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    try:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "gpustat==1.1.1", "nvidia-ml-py"],
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        print(f"gpustat unavailable: {exc.stderr.decode()[-500:]}", file=sys.stderr)
        return None
    return python


def run_probe(python: str, probe: str, env: dict[str, str], *args: str) -> dict[str, float]:
    output = subprocess.run(
        [python, "-c", probe, *args], env={**os.environ, **env}, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ticks", type=int, default=400, help="snapshots timed one by one")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the 4 Hz loop runs")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration; medians reported")
    args = parser.parse_args()

    library = build_fake_nvml()
    peers_python = ensure_peers()
    results: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "note": "fake libnvidia-ml.so: driver time ~0, so this is the service's own cost per snapshot",
        "configurations": [],
    }
    for gpu_count in (1, 8):
        env = fake_nvml_env(library, gpu_count=str(gpu_count))
        runs = [
            run_probe(sys.executable, SENTINEL_PROBE, env, str(args.ticks), str(args.seconds), "0.25")
            for _ in range(args.repeats)
        ]
        row: dict[str, float] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        if peers_python is not None:
            peer = [run_probe(str(peers_python), GPUSTAT_PROBE, env, "20") for _ in range(args.repeats)]
            row["gpustat_query_ms_median"] = statistics.median(p["query_ms_median"] for p in peer)
            row["gpustat_query_cpu_ms_median"] = statistics.median(p["query_cpu_ms_median"] for p in peer)
        results["configurations"].append(row)  # type: ignore[attr-defined]
        print(json.dumps(row))

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sampler_cost.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "sampler_cost.md").write_text(render_markdown(results))


def render_markdown(results: dict[str, object]) -> str:
    lines = [
        "# Sampler cost",
        "",
        f"Machine: {results['machine']}. {results['note']}.",
        "Target: sampler <= 2 % of one core at 4 Hz with 8 GPUs.",
        "",
        "| GPUs | NVML calls / fast tick | fast tick median (ms) | p95 (ms) | CPU per fast tick (ms) "
        "| slow tick median (ms) | CPU % of one core at 4 Hz | gpustat query: wall / CPU (ms) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["configurations"]:  # type: ignore[attr-defined]
        gpustat = row.get("gpustat_query_ms_median")
        peer = f"{gpustat:.1f} / {row['gpustat_query_cpu_ms_median']:.2f}" if gpustat else "n/a"
        lines.append(
            f"| {row['gpus']:.0f} | {row['nvml_calls_per_fast_tick']:.0f} | {row['fast_tick_ms_median']:.2f} "
            f"| {row['fast_tick_ms_p95']:.2f} | {row['fast_tick_cpu_ms_median']:.2f} "
            f"| {row['slow_tick_ms_median']:.2f} | {row['cpu_percent_of_one_core']:.2f} | {peer} |"
        )
    lines += [
        "",
        "gpustat sleeps 100 ms per GPU in each query (it samples process CPU over that window),",
        "so its wall time is mostly waiting; its CPU time is the comparable figure.",
        "It reads fewer metrics per GPU than we do.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
