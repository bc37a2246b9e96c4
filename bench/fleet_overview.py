"""Fleet overview at scale: ``GET /api/v1/fleet/gpus`` on a hub that holds 1,000 nodes x 8 GPUs.

The nodes are synthetic: their rows are written through the live-state write path (``LiveRecord`` from
real simulated snapshots, upsert and NOTIFY) by this script; the hub is a real ``serve --hub`` process.
Measured: latency of the full list (8,000 GPUs), of a free-GPU query (``min_free_gb``, sorted) and of
``/api/v1/fleet/nodes``, sequential requests on one keep-alive connection, each timed to the last byte,
while every node keeps writing its state at 1 Hz (from a process of its own);
and the hub's memory (RSS) before and after it took in the fleet.

Run from the repository root (about a minute):

    .venv/bin/python bench/fleet_overview.py

Results: results/fleet_overview.{json,md}.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
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
    log,
    machine_info,
    now_iso,
    terminate_on_sigterm,
    write_json,
)
from bench.fleet_common import SyntheticFleet, bench_schema, start_hub, summary_ms  # noqa: E402

from gpu_sentinel.fleet.live import NodeLive, StatusBounds  # noqa: E402
from gpu_sentinel.fleet.publisher import connect  # noqa: E402
from gpu_sentinel.fleet.query import GPUFilter, gpus_body  # noqa: E402

QUERIES = {
    "all GPUs": "/api/v1/fleet/gpus",
    "free GPUs (min_free_gb=40, by free memory)": (
        "/api/v1/fleet/gpus?min_free_gb=40&sort=memory_free_gib&order=desc"
    ),
    "one node's GPUs": "/api/v1/fleet/gpus?node=node-{middle:05d}",
    "node list": "/api/v1/fleet/nodes",
}
TARGET_P95_MS = 100.0


def timed_gets(port: int, path: str, count: int) -> tuple[list[float], int]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    times, size = [], 0
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            times.append(time.perf_counter() - start)
            assert response.status == 200, (path, response.status, body[:200])
            size = len(body)
    finally:
        connection.close()
    return times, size


def keep_writing(url: str, fleet: SyntheticFleet, stop: Any) -> None:
    """Every node's state at 1 Hz, in ten slices a second, as a live fleet writes while it is viewed."""
    with connect(url) as connection:
        tick = time.monotonic()
        while not stop.is_set():
            for part in range(10):
                fleet.write(connection, range(part, fleet.nodes, 10))
                tick += 0.1
                time.sleep(max(0.0, tick - time.monotonic()))


def run_queries(port: int, nodes: int, requests: int) -> dict[str, dict[str, Any]]:
    results = {}
    for name, template in QUERIES.items():
        path = template.format(middle=nodes // 2)
        timed_gets(port, path, 5)  # warm up
        times, size = timed_gets(port, path, requests)
        results[name] = {"path": path, "response_bytes": size, **summary_ms(times)}
        log(f"{name}: {results[name]}")
    return results


def body_join_ms(fleet: SyntheticFleet, repeats: int = 20) -> dict[str, float]:
    """The whole list's body as the hub builds it (``gpus_body``), in this process, from the same nodes:
    what a request costs before HTTP and the shared cores add theirs."""
    now = time.time()
    nodes = {node.id: node for node in (NodeLive.of(fleet.record(i, now)) for i in range(fleet.nodes))}
    bounds = StatusBounds(online_within_s=60.0, offline_after_s=600.0)
    gpus_body(nodes, GPUFilter(), bounds, now)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gpus_body(nodes, GPUFilter(), bounds, time.time())
        times.append(time.perf_counter() - start)
    return summary_ms(times)


def hub_nodes(port: int) -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", "/api/v1/fleet/nodes")
        return connection.getresponse().read().count(b'"status"')
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--before", type=Path, help="an earlier fleet_overview.json to compare with")
    args = parser.parse_args()
    info = machine_info()
    fleet = SyntheticFleet.make(args.nodes, args.gpus)
    with terminate_on_sigterm(), bench_schema() as url, ServerPool(WORK_DIR / "fleet-overview") as pool:
        hub = start_hub(pool, url)
        time.sleep(2)
        rss_empty = hub.rss_bytes()
        with connect(url) as connection:
            for start in range(0, args.nodes, 100):
                fleet.write(connection, range(start, min(args.nodes, start + 100)))
            deadline = time.monotonic() + 60
            while hub_nodes(hub.port) < args.nodes + 1 and time.monotonic() < deadline:
                fleet.write(connection, range(args.nodes))  # keep every node online
                time.sleep(0.5)
            log(f"hub holds {hub_nodes(hub.port)} nodes")
            time.sleep(1)
            rss_loaded = hub.rss_bytes()
            quiet = run_queries(hub.port, args.nodes, args.requests)
            stop = multiprocessing.Event()
            writer = multiprocessing.Process(target=keep_writing, args=(url, fleet, stop), daemon=True)
            writer.start()
            live = run_queries(hub.port, args.nodes, args.requests)
            stop.set()
            writer.join(10)
        rss_full = hub.rss_bytes()
    data = {
        "benchmark": "fleet_overview",
        "date": now_iso(),
        "machine": info,
        "nodes": args.nodes,
        "gpus_per_node": args.gpus,
        "state_bytes_per_node": len(fleet.templates[0].state),
        "hub_rss_bytes": {"empty": rss_empty, "with_fleet": rss_loaded, "after_live_updates": rss_full},
        "queries": {"quiet": quiet, "live": live},
        "target_p95_ms": TARGET_P95_MS,
        "body_join_ms": body_join_ms(fleet),
    }
    if args.before:
        earlier = json.loads(args.before.read_text())
        data["before"] = {"date": earlier["date"], "queries": earlier["queries"]}
    write_json(RESULTS_DIR / "fleet_overview.json", data)
    write_markdown(data)


def write_markdown(data: dict[str, Any]) -> None:
    machine, rss = data["machine"], data["hub_rss_bytes"]
    lines = [
        "# Fleet overview",
        "",
        f"A `serve --hub` process holding {data['nodes']} synthetic nodes x {data['gpus_per_node']} GPUs "
        f"({data['date']}, {machine['cpu_model']}, {machine['logical_cores']} logical cores shared by "
        "PostgreSQL, the hub, the writer and the client, and by other work: load average "
        f"{machine['load_average_at_start']} at start). Sequential GETs on one keep-alive connection, timed "
        "to the last byte: first with the fleet quiet, then while every node writes its state at 1 Hz "
        "(from a process of its own).",
        "",
        "| fleet | query | response bytes | p50 ms | p95 ms | p99 ms | max ms | before: p50 / p95 ms |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    before = data.get("before", {}).get("queries", {})
    for phase, queries in data["queries"].items():
        for name, row in queries.items():
            old = before.get(phase, {}).get(name)
            was = f"{old['p50_ms']} / {old['p95_ms']}" if old else "-"
            lines.append(
                f"| {phase} | {name} | {row['response_bytes']:,} | {row['p50_ms']} | {row['p95_ms']} | "
                f"{row['p99_ms']} | {row['max_ms']} | {was} |"
            )
    if "before" in data:
        lines += ["", f"Before: the run of {data['before']['date']}, GPU rows joined one by one per request."]
    join = data["body_join_ms"]
    lines += [
        "",
        f"The whole list's body alone (`gpus_body` over the same {data['nodes']} nodes, in the benchmark's "
        f"process): p50 {join['p50_ms']} ms, p95 {join['p95_ms']} ms; the rest of a request is HTTP and "
        "waiting for the shared cores.",
    ]
    lines += ["", f"Target: p95 ≤ {TARGET_P95_MS:g} ms for all GPUs:"]
    for phase, queries in data["queries"].items():
        p95 = queries["all GPUs"]["p95_ms"]
        lines.append(f"- {phase}: {'met' if p95 <= TARGET_P95_MS else 'MISSED'} ({p95} ms)")
    per_node = (rss["with_fleet"] - rss["empty"]) / 2**10 / data["nodes"]
    lines += [
        "",
        f"Hub memory (RSS): {rss['empty'] / 2**20:.0f} MiB with no node, {rss['with_fleet'] / 2**20:.0f} MiB "
        f"with the fleet loaded ({per_node:.0f} KiB per node; a node's stored state is "
        f"{data['state_bytes_per_node']:,} bytes of JSON), {rss['after_live_updates'] / 2**20:.0f} MiB after "
        "the live phase's updates.",
        "",
    ]
    (RESULTS_DIR / "fleet_overview.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
