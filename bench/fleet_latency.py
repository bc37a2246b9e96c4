"""Hub live update latency: from a node's upsert of its live state to the hub's in-memory state, and on
to a browser's WebSocket (``/api/v1/stream?node=NAME`` on a real ``serve --hub`` process).

``--nodes`` synthetic nodes write their state at 1 Hz each, spread over the second, through the
live-state write path. Measured per update: the time from the row's heartbeat (taken just before the
upsert) to (a) a ``FleetHub`` in this process (the hub's own code: LISTEN, gather, fetch, publish)
having it in memory, and (b) the stream client of the hub process receiving the frame.

Run from the repository root (about a minute):

    .venv/bin/python bench/fleet_latency.py

Results: results/fleet_latency.{json,md}.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
from websockets.sync.client import connect as ws_connect

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))

from bench.common import (  # noqa: E402
    HOST,
    RESULTS_DIR,
    WORK_DIR,
    ServerPool,
    log,
    machine_info,
    now_iso,
    terminate_on_sigterm,
    write_json,
)
from bench.fleet_common import SyntheticFleet, bench_schema, start_hub, summary_ms  # noqa: E402

from gpu_sentinel.fleet.hub import FleetHub  # noqa: E402
from gpu_sentinel.fleet.live import NodeLive  # noqa: E402
from gpu_sentinel.fleet.publisher import connect  # noqa: E402

TARGET_P95_MS = 1500.0
WATCHED = 7


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    info = machine_info()
    fleet = SyntheticFleet.make(args.nodes)
    in_memory: list[float] = []
    streamed: list[float] = []

    def heard(changed: Sequence[NodeLive]) -> None:
        now = time.time()
        in_memory.extend(now - node.record.heartbeat for node in changed)

    with terminate_on_sigterm(), bench_schema() as url, ServerPool(WORK_DIR / "fleet-latency") as pool:
        hub_process = start_hub(pool, url)
        hub = FleetHub(url)
        hub.subscribe(heard)
        hub.start()
        with connect(url) as connection:
            fleet.write(connection, range(args.nodes))
            time.sleep(2)  # the hubs' first full load is not an update
            in_memory.clear()
            stop = threading.Event()
            uri = f"ws://{HOST}:{hub_process.port}/api/v1/stream?node=node-{WATCHED:05d}"

            def listen() -> None:
                with ws_connect(uri, open_timeout=10) as socket:
                    socket.recv()  # the latest state, sent on connection
                    while not stop.is_set():
                        try:
                            frame = orjson.loads(socket.recv(timeout=1))
                        except TimeoutError:
                            continue
                        if frame["type"] == "snapshot":
                            streamed.append(time.time() - frame["heartbeat"])

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            slices = 10
            end = time.monotonic() + args.seconds
            tick = time.monotonic()
            while time.monotonic() < end:
                for part in range(slices):
                    fleet.write(connection, range(part, args.nodes, slices))
                    tick += 1.0 / slices
                    time.sleep(max(0.0, tick - time.monotonic()))
            stop.set()
            listener.join(5)
        hub.stop()
    data = {
        "benchmark": "fleet_latency",
        "date": now_iso(),
        "machine": info,
        "nodes": args.nodes,
        "seconds": args.seconds,
        "to_hub_memory": summary_ms(in_memory),
        "to_stream_client": summary_ms(streamed),
        "target_p95_ms": TARGET_P95_MS,
    }
    log(str(data))
    write_json(RESULTS_DIR / "fleet_latency.json", data)
    memory, stream = data["to_hub_memory"], data["to_stream_client"]
    assert isinstance(memory, dict) and isinstance(stream, dict)
    verdict = "met" if stream["p95_ms"] <= TARGET_P95_MS else "MISSED"
    lines = [
        "# Fleet live update latency",
        "",
        f"{args.nodes} synthetic nodes writing their live state at 1 Hz each for {args.seconds:g} s "
        f"({data['date']}, {info['cpu_model']}, {info['logical_cores']} logical cores shared by PostgreSQL, "
        "the hub process, this writer and the clients). From the row's heartbeat, taken just before the "
        "upsert, to:",
        "",
        "| arrival | updates | p50 ms | p95 ms | p99 ms | max ms |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| hub's in-memory state (FleetHub, LISTEN/NOTIFY) | {memory['n']} | {memory['p50_ms']} | "
        f"{memory['p95_ms']} | {memory['p99_ms']} | {memory['max_ms']} |",
        f"| WebSocket client of `serve --hub`, `stream?node=` | {stream['n']} | {stream['p50_ms']} | "
        f"{stream['p95_ms']} | {stream['p99_ms']} | {stream['max_ms']} |",
        "",
        f"Target: p95 ≤ {TARGET_P95_MS:g} ms to a stream client: {verdict}.",
        "",
    ]
    (RESULTS_DIR / "fleet_latency.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
