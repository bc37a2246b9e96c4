"""What deep telemetry costs: NVML calls and CPU per tick with GPM profiling metrics and per-process
utilization on 8 GPUs, against the same sampler without them and beside nvitop on the same fake GPUs;
then the same 8 GPUs in MIG mode with 7 MIG devices each (56 instances, GPM per GPU instance), beside
nvitop reading the same MIG devices.

Each configuration runs in a child process whose ``LD_LIBRARY_PATH`` points the real nvidia-ml-py binding
at the fake ``libnvidia-ml.so`` (tests/fakenvml), whose own counter counts every tool's NVML calls
alike. "without" makes the fake report no GPM and refuse the per-process utilization calls, so the
difference is exactly what the two readings add. Fast ticks are timed one by one at the 4 Hz pacing
(GPM wants 100 ms between samples); then the whole sampler runs at 4 Hz with the slow readings
(processes and their utilization) every 2 s. nvitop's query is a snapshot of every device and of each
of its processes (which includes nvitop's per-process SM/memory/encoder/decoder utilization); on the MIG
GPUs also a snapshot of every MIG device. In MIG mode the driver (and the fake) refuses per-process
utilization, so that case is GPM per GPU and per GPU instance, memory per MIG device, and the processes.

    .venv/bin/python bench/deep_telemetry_cost.py     # writes bench/results/deep_telemetry_cost.{json,md}
"""

from __future__ import annotations

import argparse
import statistics
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakenvml.build import build_fake_nvml, fake_nvml_env  # noqa: E402

from common import machine_info, now_iso, write_json  # noqa: E402
from peers import (  # noqa: E402
    CALL_COUNTER,
    NVITOP_MIG_QUERY,
    ensure_peer,
    peer_version,
    run_peer,
    run_probe,
)

RESULTS = REPO / "bench" / "results"
GPUS = 8
INTERVAL_S = 0.25
SLOW_INTERVAL_S = 2.0
MIG_DEVICES_PER_GPU = 7
MIG = {"FAKENVML_MIG": ",".join(f"{i}:{MIG_DEVICES_PER_GPU}" for i in range(GPUS))}
WITHOUT = {
    "FAKENVML_NO_GPM": ",".join(str(i) for i in range(GPUS)),
    "FAKENVML_UNSUPPORTED": "nvmlDeviceGetProcessesUtilizationInfo,nvmlDeviceGetProcessUtilization",
}

SENTINEL_PROBE = CALL_COUNTER + textwrap.dedent(
    """
    import json, statistics, sys, time
    import psutil
    from gpu_sentinel.collectors.host import HostCollector
    from gpu_sentinel.collectors.nvml import NvmlGPUs, ReadDeadlines
    from gpu_sentinel.sampler import Sampler

    ticks, seconds = int(sys.argv[1]), float(sys.argv[2])
    interval, slow = float(sys.argv[3]), float(sys.argv[4])
    gpus = NvmlGPUs(deadlines=ReadDeadlines.for_interval(interval))
    fast_only = Sampler(gpus, HostCollector(), interval_s=interval, slow_interval_s=1e9)
    fast_only.tick()
    calls, cpu = [], []
    for _ in range(ticks):
        time.sleep(interval)
        before, cpu_before = nvml_calls(), time.process_time()
        snapshot = fast_only.tick()
        cpu.append(time.process_time() - cpu_before)
        calls.append(nvml_calls() - before)
    count = len(snapshot.gpus)
    profiled = sum(gpu.profiling.status == "ok" for gpu in snapshot.gpus)
    instances = [m for gpu in snapshot.gpus for m in gpu.mig_instances]
    gpus.close()

    loop = Sampler(NvmlGPUs(deadlines=ReadDeadlines.for_interval(interval)), HostCollector(),
                   interval_s=interval, slow_interval_s=slow)
    loop.start()
    time.sleep(2.0)
    process = psutil.Process()
    calls_before, cpu_before, wall_before = nvml_calls(), sum(process.cpu_times()[:2]), time.monotonic()
    time.sleep(seconds)
    calls_after, cpu_after, wall_after = nvml_calls(), sum(process.cpu_times()[:2]), time.monotonic()
    latest = loop.latest
    loop.stop()
    loop.gpus.close()
    wall = wall_after - wall_before
    print(json.dumps({
        "gpus": count,
        "gpus_with_profiling": profiled,
        "mig_instances": len(instances),
        "mig_instances_with_profiling": sum(m.profiling.status == "ok" for m in instances),
        "processes_with_sm_util": sum(p.sm_util_pct is not None for g in latest.gpus for p in g.processes),
        "nvml_calls_per_gpu_per_fast_tick": statistics.median(calls) / count,
        "fast_tick_cpu_ms_median": statistics.median(cpu) * 1e3,
        "nvml_calls_per_gpu_per_s_at_4hz": (calls_after - calls_before) / wall / count,
        "cpu_percent_of_one_core_at_4hz": 100 * (cpu_after - cpu_before) / wall,
    }))
    """
)


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ticks", type=int, default=40, help="fast ticks timed one by one, at 4 Hz")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the 4 Hz loop runs")
    parser.add_argument("--queries", type=int, default=40, help="nvitop queries timed, 4 per second")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration; medians reported")
    args = parser.parse_args()

    library = build_fake_nvml()
    nvitop = ensure_peer("nvitop")
    env = fake_nvml_env(library, gpu_count=str(GPUS))
    probe_args = (str(args.ticks), str(args.seconds), str(INTERVAL_S), str(SLOW_INTERVAL_S))
    results: dict[str, Any] = {
        "benchmark": "deep_telemetry_cost",
        "when": now_iso(),
        "machine": machine_info(),
        "peers": {"nvitop": peer_version(nvitop, "nvitop")} if nvitop else {},
        "note": "fake libnvidia-ml.so: driver time ~0, so CPU figures are each tool's own cost",
        "gpus": GPUS,
    }
    for name, extra in (("with", {}), ("without", WITHOUT), ("mig", MIG)):
        runs = [
            run_probe(sys.executable, SENTINEL_PROBE, {**env, **extra}, *probe_args)
            for _ in range(args.repeats)
        ]
        results[name] = median_run(runs)
        print(name, results[name])
    if nvitop is not None:
        runs = [run_peer(nvitop, "nvitop", env, args.queries, INTERVAL_S) for _ in range(args.repeats)]
        results["nvitop"] = median_run(runs)
        print("nvitop", results["nvitop"])
        mig_env = {**env, **MIG}
        runs = [
            run_peer(nvitop, "nvitop", mig_env, args.queries, INTERVAL_S, query=NVITOP_MIG_QUERY)
            for _ in range(args.repeats)
        ]
        results["nvitop_mig"] = median_run(runs)
        print("nvitop_mig", results["nvitop_mig"])
    write_json(RESULTS / "deep_telemetry_cost.json", results)
    (RESULTS / "deep_telemetry_cost.md").write_text(render_markdown(results))


def render_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    with_, without, mig = results["with"], results["without"], results["mig"]
    lines = [
        "# Deep telemetry cost (GPM profiling metrics, per-process utilization, MIG)",
        "",
        f"{results['gpus']} fake H100s; {machine['logical_cores']} cores ({machine['cpu_model']}, "
        f"load average {machine['load_average_at_start'][0]} at the start), Python {machine['python']}; "
        f"{results['note']}. Peers: {results['peers']}.",
        "",
        "| tool | NVML calls / GPU / fast tick | CPU per fast tick (ms) | NVML calls / GPU / s at 4 Hz "
        "| CPU % of one core at 4 Hz |",
        "|---|---|---|---|---|",
    ]
    for label, row in (
        ("GPU Sentinel, with GPM + per-process utilization", with_),
        ("GPU Sentinel, without", without),
        (f"GPU Sentinel, MIG: {MIG_DEVICES_PER_GPU} MIG devices per GPU, GPM per instance", mig),
    ):
        lines.append(
            f"| {label} | {row['nvml_calls_per_gpu_per_fast_tick']:.1f} "
            f"| {row['fast_tick_cpu_ms_median']:.2f} "
            f"| {row['nvml_calls_per_gpu_per_s_at_4hz']:.1f} | {row['cpu_percent_of_one_core_at_4hz']:.2f} |"
        )
    for label, key in (
        ("nvitop (device + process snapshots, 4 Hz)", "nvitop"),
        ("nvitop, MIG (device, MIG device + process snapshots, 4 Hz)", "nvitop_mig"),
    ):
        peer = results.get(key)
        if peer:
            lines.append(
                f"| {label} | {peer['nvml_calls_per_gpu_per_query']:.1f} "
                f"| {peer['query_cpu_ms_median']:.2f} | {4 * peer['nvml_calls_per_gpu_per_query']:.1f} | |"
            )
    lines += [
        "",
        f"With: {with_['gpus_with_profiling']:.0f} of {with_['gpus']:.0f} GPUs report profiling metrics and "
        f"{with_['processes_with_sm_util']:.0f} processes their SM share.",
        "GPM adds one nvmlGpmSampleGet and one nvmlGpmMetricsGet per GPU per fast tick (all fifteen metrics",
        "in one call); per-process utilization adds one call per GPU per slow tick (every 2 s). nvitop has",
        "no profiling metrics; its figures are for its device and process snapshots.",
        "",
        f"MIG: {mig['mig_instances']:.0f} MIG devices, {mig['mig_instances_with_profiling']:.0f} with GPM "
        "figures.",
        "Each MIG device adds per fast tick one memory call, one nvmlGpmMigSampleGet and one",
        "nvmlGpmMetricsGet (eleven activity metrics in one call); utilization is asked once per GPU and,",
        "refused as NVML refuses it under MIG, not again. The list of MIG devices is read again every 30 s",
        "(two calls per device), outside the timed ticks. Per-process utilization is refused in MIG mode,",
        "so processes carry their MIG instance ids and null SM shares. nvitop reads each MIG device's",
        "snapshot field by field and has no per-instance profiling metrics.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
