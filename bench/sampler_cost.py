"""What sampling costs the driver and the CPU: NVML calls per GPU per fast tick, CPU per tick and CPU % of one
core at 4 Hz, with 1 and 8 GPUs, beside nvitop and gpustat reading the same GPUs.

Every measurement runs in a child process whose ``LD_LIBRARY_PATH`` points the real nvidia-ml-py binding at
the fake ``libnvidia-ml.so`` from tests/fakenvml, whose own counter counts the NVML calls of every tool
alike. The fake answers in microseconds, so CPU figures are each tool's own overhead; ``tick_latency.py``
adds a real driver's latencies. nvitop (``Device.as_snapshot()`` plus a snapshot of each process) and
gpustat (``new_query()``) run in their own virtualenvs under bench/.work, paced at 4 Hz like our sampler.

    .venv/bin/python bench/sampler_cost.py            # writes bench/results/sampler_cost.{json,md}
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakenvml.build import build_fake_nvml, fake_nvml_env  # noqa: E402

from common import machine_info, now_iso, write_json  # noqa: E402
from peers import CALL_COUNTER, ensure_peer, peer_version, run_peer, run_probe  # noqa: E402

RESULTS = REPO / "bench" / "results"
INTERVAL_S = 0.25

# Runs inside the child: fast ticks one by one (slow readings never due), then the real 4 Hz loop.
SENTINEL_PROBE = CALL_COUNTER + textwrap.dedent(
    """
    import json, statistics, sys, time
    import psutil
    from gpu_sentinel.collectors.host import HostCollector
    from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines
    from gpu_sentinel.sampler import Sampler

    ticks, seconds, interval = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    gpus = NvmlGPUs(deadlines=ReadDeadlines.for_interval(interval))
    fast_only = Sampler(gpus, HostCollector(), interval_s=interval, slow_interval_s=1e9)
    first = fast_only.tick()  # opens the devices and takes the one slow reading
    calls, cpu, wall = [], [], []
    for _ in range(ticks):
        time.sleep(0.01)
        before, cpu_before, wall_before = nvml_calls(), time.process_time(), time.perf_counter()
        snapshot = fast_only.tick()
        wall.append(time.perf_counter() - wall_before)
        cpu.append(time.process_time() - cpu_before)
        calls.append(nvml_calls() - before)
    gpu_count = len(snapshot.gpus)
    gpus.close()

    loop = Sampler(NvmlGPUs(deadlines=ReadDeadlines.for_interval(interval)), HostCollector(),
                   interval_s=interval, slow_interval_s=2.0)
    loop.start()
    time.sleep(2.0)
    process = psutil.Process()
    cpu_before, wall_before = sum(process.cpu_times()[:2]), time.monotonic()
    time.sleep(seconds)
    cpu_after, wall_after = sum(process.cpu_times()[:2]), time.monotonic()
    loop.stop()
    loop.gpus.close()
    print(json.dumps({
        "gpus": gpu_count,
        # one nvmlEventSetWait per tick polls XID events for all GPUs; it is counted here too
        "nvml_calls_per_gpu_per_fast_tick": statistics.median(calls) / gpu_count,
        "fast_tick_ms_median": statistics.median(wall) * 1e3,
        "fast_tick_cpu_ms_median": statistics.median(cpu) * 1e3,
        "cpu_percent_of_one_core_at_4hz": 100 * (cpu_after - cpu_before) / (wall_after - wall_before),
        "overruns_at_4hz": loop.overruns,
    }))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ticks", type=int, default=200, help="fast ticks timed one by one")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the 4 Hz loop runs")
    parser.add_argument("--queries", type=int, default=40, help="peer queries timed, 4 per second")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration; medians reported")
    args = parser.parse_args()

    library = build_fake_nvml()
    peers = {name: ensure_peer(name) for name in ("nvitop", "gpustat")}
    results: dict[str, Any] = {
        "benchmark": "sampler_cost",
        "when": now_iso(),
        "machine": machine_info(),
        "peers": {name: peer_version(python, name) for name, python in peers.items() if python},
        "note": "fake libnvidia-ml.so: driver time ~0, so CPU figures are each tool's own cost",
        "configurations": [],
    }
    for gpu_count in (1, 8):
        env = fake_nvml_env(library, gpu_count=str(gpu_count))
        probe_args = (str(args.ticks), str(args.seconds), str(INTERVAL_S))
        runs = [run_probe(sys.executable, SENTINEL_PROBE, env, *probe_args) for _ in range(args.repeats)]
        row: dict[str, Any] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        for name, python in peers.items():
            if python is None:
                continue
            peer_runs = [run_peer(python, name, env, args.queries, INTERVAL_S) for _ in range(args.repeats)]
            row[name] = {key: statistics.median(run[key] for run in peer_runs) for key in peer_runs[0]}
        if "nvitop" in row:
            row["calls_vs_nvitop"] = (
                row["nvml_calls_per_gpu_per_fast_tick"] / row["nvitop"]["nvml_calls_per_gpu_per_query"]
            )
        results["configurations"].append(row)
        print(json.dumps(row))

    write_json(RESULTS / "sampler_cost.json", results)
    (RESULTS / "sampler_cost.md").write_text(render_markdown(results))


def render_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    lines = [
        "# Sampler cost",
        "",
        f"{machine['logical_cores']} cores ({machine['cpu_model']}, load average "
        f"{machine['load_average_at_start'][0]} at the start), Python {machine['python']}; "
        f"{results['note']}. Peers: {results['peers']}.",
        "Targets: at most half of nvitop's NVML calls per GPU; <= 2 % of one core at 4 Hz with 8 GPUs.",
        "",
        "| GPUs | tool | NVML calls / GPU / tick | wall per tick (ms) | CPU per tick (ms) "
        "| CPU % of one core at 4 Hz |",
        "|---|---|---|---|---|---|",
    ]
    for row in results["configurations"]:
        lines.append(
            f"| {row['gpus']:.0f} | GPU Sentinel (fast tick) | {row['nvml_calls_per_gpu_per_fast_tick']:.1f} "
            f"| {row['fast_tick_ms_median']:.2f} | {row['fast_tick_cpu_ms_median']:.2f} "
            f"| {row['cpu_percent_of_one_core_at_4hz']:.2f} |"
        )
        for name in ("nvitop", "gpustat"):
            peer = row.get(name)
            if peer:
                lines.append(
                    f"| {row['gpus']:.0f} | {name} | {peer['nvml_calls_per_gpu_per_query']:.1f} "
                    f"| {peer['query_ms_median']:.2f} | {peer['query_cpu_ms_median']:.2f} | |"
                )
        if "calls_vs_nvitop" in row:
            lines.append(f"| {row['gpus']:.0f} | ratio to nvitop | {row['calls_vs_nvitop']:.2f} | | | |")
    lines += [
        "",
        "Our fast tick reads about 25 fields per GPU (utilization, memory used/total/reserved, temperatures,",
        "power, energy, fan, clocks, P-state, throttle reasons, encoder/decoder, PCIe and NVLink throughput,",
        "PCIe replays); processes, ECC, retired pages, remapped rows and violation times follow every 2 s",
        "on their own workers. gpustat sleeps in each query (it samples process CPU), so its wall time is",
        "mostly waiting; CPU time is the comparable figure.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
