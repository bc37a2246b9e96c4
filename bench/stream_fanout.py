"""Live stream fan-out: N WebSocket subscribers at 1 Hz against ``gpu-sentinel serve --simulate 8``.

The server runs in its own process, the subscribers in another (asyncio + the ``websockets`` client).
Measured: the server's CPU (% of one core, all its threads) while it feeds every subscriber, next to its
CPU with no subscriber, and the delay from a snapshot's timestamp (taken by the sampler when it starts
reading the GPUs) to its arrival at a subscriber, p50 and p99 over every frame received.

Run from the repository root (about 2 minutes):

    .venv/bin/python bench/stream_fanout.py

The service's per-client rate limit is off (GPU_SENTINEL_RATE_LIMIT=0): every subscriber connects from
127.0.0.1, which the default 10 requests/s would rightly throttle. Results: results/stream_fanout.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))

from bench.common import (  # noqa: E402
    HOST,
    RESULTS_DIR,
    WORK_DIR,
    ServerPool,
    free_port,
    log,
    machine_info,
    now_iso,
    sentinel_command,
    service_env,
    terminate_on_sigterm,
    write_json,
)

TARGET_CPU_PCT = 50.0
TARGET_P99_MS = 100.0


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _subscriber(url: str, delays: list[float], counts: list[int], recording: asyncio.Event) -> None:
    import orjson
    import websockets

    async with websockets.connect(url, max_size=None, ping_interval=None, open_timeout=60) as ws:
        counts[0] += 1
        async for message in ws:
            received = time.time()
            if not recording.is_set():
                continue
            frame = orjson.loads(message)
            if frame.get("type") == "snapshot":
                delays.append(received - frame["timestamp"])


async def run_clients(url: str, clients: int, warmup_s: float, duration_s: float) -> dict[str, Any]:
    """Connect ``clients`` subscribers, then record for ``duration_s``; print START and END around it."""
    delays: list[float] = []
    connected = [0]
    recording = asyncio.Event()
    tasks = []
    for start in range(0, clients, 50):
        tasks += [
            asyncio.create_task(_subscriber(url, delays, connected, recording))
            for _ in range(start, min(clients, start + 50))
        ]
        await asyncio.sleep(0.2)
    deadline = time.monotonic() + 60
    while connected[0] < clients and time.monotonic() < deadline:
        failed = [t for t in tasks if t.done()]
        if failed:
            raise RuntimeError(f"a subscriber failed: {failed[0].exception()!r}")
        await asyncio.sleep(0.1)
    await asyncio.sleep(warmup_s)
    print("START", flush=True)
    recording.set()
    await asyncio.sleep(duration_s)
    recording.clear()
    print("END", flush=True)
    alive = sum(not t.done() for t in tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"connected": connected[0], "alive_at_end": alive, "delays_s": delays}


def client_main(args: argparse.Namespace) -> None:
    result = asyncio.run(run_clients(args.url, args.clients, args.warmup, args.duration))
    print(json.dumps(result), flush=True)


def measure(
    pool: ServerPool, args: argparse.Namespace, poll_interval: float, rate: str | None
) -> dict[str, Any]:
    port = free_port()
    data_dir = WORK_DIR / f"stream-{port}"
    command = [*sentinel_command(8, port, data_dir), "--poll-interval", str(poll_interval)]
    env = service_env(
        {"GPU_SENTINEL_RATE_LIMIT": "0", "GPU_SENTINEL_STREAM_MAX_CLIENTS": str(args.clients + 10)}
    )
    server = pool.start(f"sentinel-stream-{poll_interval}", command, port, "/api/v1/health", env=env)
    time.sleep(2)
    idle_start = server.cpu_seconds()
    time.sleep(args.idle)
    idle_pct = 100 * (server.cpu_seconds() - idle_start) / args.idle

    url = f"ws://{HOST}:{port}/api/v1/stream" + (f"?rate={rate}" if rate else "")
    shares = [args.clients // args.client_processes] * args.client_processes
    shares[0] += args.clients - sum(shares)
    log(f"{args.clients} subscribers in {len(shares)} processes on {url} (sampler every {poll_interval} s)")
    client_args = [sys.executable, __file__, "--client", "--url", url]
    client_args += ["--warmup", str(args.warmup), "--duration", str(args.duration)]
    clients = [
        subprocess.Popen(
            [*client_args, "--clients", str(share)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    try:
        for client in clients:
            assert client.stdout is not None
            line = client.stdout.readline().strip()
            if line != "START":
                raise RuntimeError(f"client did not start measuring: {line!r}")
        cpu_start, wall_start = server.cpu_seconds(), time.monotonic()
        for client in clients:
            assert client.stdout is not None
            client.stdout.readline()
        cpu_end, wall_end = server.cpu_seconds(), time.monotonic()
        parts = [json.loads(client.stdout.readline()) for client in clients if client.stdout is not None]
        for client in clients:
            client.wait(timeout=60)
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
                client.wait()
    result = {
        "connected": sum(part["connected"] for part in parts),
        "alive_at_end": sum(part["alive_at_end"] for part in parts),
        "delays_s": [delay for part in parts for delay in part["delays_s"]],
    }
    busy_pct = 100 * (cpu_end - cpu_start) / (wall_end - wall_start)
    delays_ms = [d * 1000 for d in result.pop("delays_s")]
    frames_per_client_s = len(delays_ms) / args.clients / args.duration
    return {
        "sampler_interval_s": poll_interval,
        "rate_param": rate,
        "clients": args.clients,
        "connected": result["connected"],
        "alive_at_end": result["alive_at_end"],
        "frames_received": len(delays_ms),
        "frames_per_client_per_s": round(frames_per_client_s, 3),
        "server_cpu_pct_idle": round(idle_pct, 1),
        "server_cpu_pct": round(busy_pct, 1),
        "server_cpu_pct_for_stream": round(busy_pct - idle_pct, 1),
        "delay_ms_p50": round(statistics.median(delays_ms), 2),
        "delay_ms_p99": round(percentile(delays_ms, 99), 2),
        "delay_ms_max": round(max(delays_ms), 2),
        "server_rss_mb": round(server.rss_bytes() / 2**20, 1),
    }


def write_markdown(path: Path, data: dict[str, Any]) -> None:
    machine = data["machine"]
    lines = [
        "# Live stream fan-out",
        "",
        f"{data['clients']} WebSocket subscribers against `gpu-sentinel serve --simulate 8`, clients "
        f"in {data['client_processes']} separate process(es), {data['duration_s']:g} s measured "
        f"per scenario ({data['timestamp']}, "
        f"{machine['cpu_model']}, {machine['logical_cores']} logical cores shared by server and clients, "
        f"load average {machine['load_average_at_start'][0]} at start). "
        "CPU is the server process's, in % of one core; delay is from the snapshot's timestamp to its "
        "arrival at a subscriber.",
        "",
        "| scenario | frames/client/s | server CPU % | idle CPU % | delay p50 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in data["scenarios"].items():
        lines.append(
            f"| {name} | {r['frames_per_client_per_s']} | {r['server_cpu_pct']} | {r['server_cpu_pct_idle']} "
            f"| {r['delay_ms_p50']} | {r['delay_ms_p99']} | {r['delay_ms_max']} |"
        )
    lines += [
        "",
        f"Targets: server CPU ≤ {TARGET_CPU_PCT:g} % of one core, p99 delay ≤ {TARGET_P99_MS:g} ms.",
        "",
    ]
    for name, r in data["scenarios"].items():
        cpu_ok = r["server_cpu_pct"] <= TARGET_CPU_PCT
        p99_ok = r["delay_ms_p99"] <= TARGET_P99_MS
        lines.append(
            f"- {name}: CPU {'met' if cpu_ok else 'MISSED'}, p99 {'met' if p99_ok else 'MISSED'}; "
            f"{r['connected']} connected, {r['alive_at_end']} still connected at the end."
        )
    lines += [
        "",
        "At 1 Hz every subscriber's frame leaves at the same instant, and the one client process decodes "
        "all 500 in turn on a machine whose two cores it shares with the server, so the last arrivals wait "
        "on the measuring client. With the default 4 Hz sampler and `rate=1`, subscribers spread over the "
        "four snapshots of each second, as dashboards connecting at different times do.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument(
        "--idle", type=float, default=10.0, help="seconds of server CPU measured with no client"
    )
    parser.add_argument(
        "--client-processes", type=int, default=1, help="processes the subscribers are spread over"
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return
    scenarios = {"sampler 1 Hz, every frame": (1.0, None), "sampler 4 Hz, rate=1": (0.25, "1")}
    results = {}
    with terminate_on_sigterm(), ServerPool(WORK_DIR / "logs") as pool:
        for name, (poll_interval, rate) in scenarios.items():
            results[name] = measure(pool, args, poll_interval, rate)
            log(f"{name}: {results[name]}")
            pool.close()
    data = {
        "benchmark": "stream_fanout",
        "timestamp": now_iso(),
        "machine": machine_info(),
        "clients": args.clients,
        "client_processes": args.client_processes,
        "duration_s": args.duration,
        "targets": {"server_cpu_pct": TARGET_CPU_PCT, "delay_ms_p99": TARGET_P99_MS},
        "scenarios": results,
    }
    write_json(RESULTS_DIR / "stream_fanout.json", data)
    write_markdown(RESULTS_DIR / "stream_fanout.md", data)
    log(f"wrote {RESULTS_DIR / 'stream_fanout.md'}")


if __name__ == "__main__":
    main()
