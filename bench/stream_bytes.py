"""Live stream bytes on the wire: full frames against incremental mode (``mode=delta``), 8 GPUs at 4 Hz.

One ``gpu-sentinel serve --simulate 8`` samples every 0.25 s. Subscribers of each mode connect side by
side, each through its own loopback TCP relay that counts the bytes the server sends (WebSocket framing
and handshake included; ``serve`` turns per-message compression off). Measured per scenario: bytes/s and
frames/s per subscriber, median message size by kind, and the ratio full/incremental. The incremental
subscriber also rebuilds every frame from the deltas, and each rebuilt frame whose ``seq`` the full
subscriber received too is compared with it byte for byte: the savings count only if that holds.

Run from the repository root (about 2 minutes):

    .venv/bin/python bench/stream_bytes.py

Results: results/stream_bytes.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
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

TARGET_RATIO = 3.0
GPUS = 8
SAMPLER_INTERVAL_S = 0.25


class ByteCounter:
    """A loopback TCP relay to the server that counts what the server sends back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server_bytes = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, HOST, 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(HOST, self.port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, counted: bool) -> None:
            while data := await source.read(65536):
                if counted:
                    self.server_bytes += len(data)
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(
            pipe(reader, upstream_writer, False),
            pipe(upstream_reader, writer, True),
            return_exceptions=True,
        )


@dataclass
class Subscriber:
    mode: str
    counter: ByteCounter
    recording: bool = False
    start_bytes: int = 0
    sizes: dict[str, list[int]] = field(default_factory=dict)
    frames: dict[int, bytes] = field(default_factory=dict)
    resyncs: int = 0


async def _subscribe(url: str, subscriber: Subscriber) -> None:
    import orjson
    import websockets

    from gpu_sentinel import json_delta

    relay_port = await subscriber.counter.start()
    target = url.replace(f":{subscriber.counter.port}/", f":{relay_port}/")
    latest: dict[str, Any] | None = None
    async with websockets.connect(target, max_size=None, ping_interval=None, compression=None) as ws:
        async for text in ws:
            message = orjson.loads(text)
            kind = message["type"]
            if kind == "snapshot":
                latest = message
            elif kind == "delta":
                if latest is None or latest["seq"] != message["base_seq"]:
                    subscriber.resyncs += 1
                    latest = None
                    await ws.send('{"type": "resync"}')
                    continue
                latest = json_delta.apply(latest, message["patch"])
            else:
                continue
            if subscriber.recording and latest is not None:
                subscriber.sizes.setdefault(kind, []).append(len(text))
                subscriber.frames[latest["seq"]] = orjson.dumps(latest)


async def measure(port: int, query: str, warmup_s: float, duration_s: float) -> dict[str, Any]:
    """A full and an incremental subscriber on the same snapshots, for ``duration_s``."""
    url = f"ws://{HOST}:{port}/api/v1/stream"
    subscribers = [Subscriber(mode, ByteCounter(port)) for mode in ("full", "delta")]
    tasks = [
        asyncio.create_task(_subscribe(url + f"?{query}{'&' if query else ''}mode={s.mode}", s))
        for s in subscribers
    ]
    await asyncio.sleep(warmup_s)
    for subscriber in subscribers:
        subscriber.start_bytes = subscriber.counter.server_bytes
        subscriber.recording = True
    started = time.monotonic()
    await asyncio.sleep(duration_s)
    elapsed = time.monotonic() - started
    for subscriber in subscribers:
        subscriber.recording = False
    for task in tasks:
        if task.done() and task.exception() is not None:
            raise RuntimeError(f"a subscriber failed: {task.exception()!r}")
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for subscriber in subscribers:
        await subscriber.counter.close()
    full, delta = subscribers
    common = sorted(set(full.frames) & set(delta.frames))
    mismatched = sum(full.frames[seq] != delta.frames[seq] for seq in common)
    results: dict[str, Any] = {}
    for subscriber in subscribers:
        wire = subscriber.counter.server_bytes - subscriber.start_bytes
        frames = sum(len(sizes) for sizes in subscriber.sizes.values())
        results[subscriber.mode] = {
            "bytes_per_s": round(wire / elapsed),
            "frames_per_s": round(frames / elapsed, 2),
            "median_message_bytes": {
                kind: round(statistics.median(sizes)) for kind, sizes in subscriber.sizes.items()
            },
            "messages": {kind: len(sizes) for kind, sizes in subscriber.sizes.items()},
            "resyncs": subscriber.resyncs,
        }
    return {
        "query": query or None,
        "duration_s": round(elapsed, 1),
        **results,
        "ratio_full_to_delta": round(
            results["full"]["bytes_per_s"] / max(1, results["delta"]["bytes_per_s"]), 2
        ),
        "frames_compared": len(common),
        "frames_mismatched": mismatched,
    }


def write_markdown(path: Path, data: dict[str, Any]) -> None:
    machine = data["machine"]
    lines = [
        "# Live stream bytes: full frames against incremental mode",
        "",
        f"`gpu-sentinel serve --simulate {GPUS}` sampling every {SAMPLER_INTERVAL_S} s; one subscriber "
        f"per mode side by side, {data['duration_s']:g} s measured per scenario ({data['timestamp']}, "
        f"{machine['cpu_model']}, {machine['logical_cores']} logical cores, no GPU). Bytes are what the "
        "server sent on the TCP connection (WebSocket framing included, no compression).",
        "",
        "| scenario | full B/s | incremental B/s | ratio | full frame B (median) "
        "| delta B (median) | frames/s | frames compared | mismatched |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in data["scenarios"].items():
        full, delta = r["full"], r["delta"]
        lines.append(
            f"| {name} | {full['bytes_per_s']:,} | {delta['bytes_per_s']:,} "
            f"| {r['ratio_full_to_delta']}x | {full['median_message_bytes'].get('snapshot', 0):,} "
            f"| {delta['median_message_bytes'].get('delta', 0):,} | {delta['frames_per_s']} "
            f"| {r['frames_compared']} | {r['frames_mismatched']} |"
        )
    lines += ["", f"Target: at least {TARGET_RATIO:g}x fewer bytes in incremental mode.", ""]
    for name, r in data["scenarios"].items():
        met = r["ratio_full_to_delta"] >= TARGET_RATIO and r["frames_mismatched"] == 0
        lines.append(
            f"- {name}: {'met' if met else 'MISSED'} ({r['ratio_full_to_delta']}x; "
            f"{r['delta']['resyncs']} resyncs, every rebuilt frame "
            f"{'identical' if r['frames_mismatched'] == 0 else 'NOT identical'} to the full one)."
        )
    lines += [
        "",
        "What still changes every tick: utilization, power and energy, temperatures, PCIe and NVLink "
        "throughput, profiling counters and the host's CPU and memory; names, UUIDs, totals, limits, "
        "health and most process fields do not, and a delta leaves them out.",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=45.0, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    scenarios = {"every frame (4 Hz)": "", "dashboard at 1 s (rate=1)": "rate=1"}
    results = {}
    with terminate_on_sigterm(), ServerPool(WORK_DIR / "logs") as pool:
        port = free_port()
        command = [
            *sentinel_command(GPUS, port, WORK_DIR / f"stream-bytes-{port}"),
            "--poll-interval",
            str(SAMPLER_INTERVAL_S),
        ]
        env = service_env({"GPU_SENTINEL_RATE_LIMIT": "0"})
        pool.start("sentinel-stream-bytes", command, port, "/api/v1/health", env=env)
        time.sleep(2)
        for name, query in scenarios.items():
            results[name] = asyncio.run(measure(port, query, args.warmup, args.duration))
            log(f"{name}: {results[name]}")
    data = {
        "benchmark": "stream_bytes",
        "timestamp": now_iso(),
        "machine": machine_info(),
        "gpus": GPUS,
        "sampler_interval_s": SAMPLER_INTERVAL_S,
        "duration_s": args.duration,
        "target_ratio": TARGET_RATIO,
        "scenarios": results,
    }
    write_json(RESULTS_DIR / "stream_bytes.json", data)
    write_markdown(RESULTS_DIR / "stream_bytes.md", data)
    log(f"wrote {RESULTS_DIR / 'stream_bytes.md'}")


if __name__ == "__main__":
    main()
