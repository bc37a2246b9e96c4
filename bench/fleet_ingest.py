"""Live-state ingest: how many nodes writing at 1 Hz (8 GPUs each) one PostgreSQL on this machine carries.

Two writer processes share the synthetic nodes; each writes its nodes' rows through the live-state
write path (upsert and NOTIFY, one transaction per node, pipelined on one connection per process) in ten
slices per second. Per step of ``N`` nodes: the upserts per second achieved against the ``N`` due, the
lag (how far the stalest node's heartbeat falls behind the 1 s it is due, sampled every second), the
PostgreSQL server's CPU (all its processes, % of one core), and the WAL it writes per node per day, which
is what a node's live state costs the database's disk and replicas (the table itself stays one row per
node). A step is sustained when every due upsert was made and the lag stayed under 5 s.

Run from the repository root (about two minutes):

    .venv/bin/python bench/fleet_ingest.py

Results: results/fleet_ingest.{json,md}.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))

from bench.common import RESULTS_DIR, log, machine_info, now_iso, write_json  # noqa: E402
from bench.fleet_common import SyntheticFleet, bench_schema, cpu_since, postgres_cpu_seconds  # noqa: E402

from gpu_sentinel.fleet.publisher import connect  # noqa: E402

WRITERS = 2
SLICES = 10
MAX_LAG_S = 5.0


def writer(url: str, fleet: SyntheticFleet, nodes: list[int], seconds: float, done: Any) -> None:
    written = 0
    with connect(url) as connection:
        tick = time.monotonic()
        end = tick + seconds
        while time.monotonic() < end:
            for part in range(SLICES):
                batch = nodes[part::SLICES]
                fleet.write(connection, batch)
                written += len(batch)
                tick += 1.0 / SLICES
                time.sleep(max(0.0, tick - time.monotonic()))
    done.put((written, time.process_time()))


def wal_lsn(connection: Any) -> int:
    row = connection.execute(b"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()
    return int(row[0])


def step(url: str, fleet: SyntheticFleet, nodes: int, seconds: float) -> dict[str, Any]:
    fleet.nodes = nodes
    with connect(url) as probe:
        fleet.write(probe, range(nodes))
        done: Any = multiprocessing.Queue()
        workers = [
            multiprocessing.Process(
                target=writer, args=(url, fleet, list(range(i, nodes, WRITERS)), seconds, done)
            )
            for i in range(WRITERS)
        ]
        cpu0, wal0, start = postgres_cpu_seconds(), wal_lsn(probe), time.monotonic()
        for worker in workers:
            worker.start()
        lags = []
        cpu1, cpu1_at = postgres_cpu_seconds(), time.monotonic()
        while any(worker.is_alive() for worker in workers):
            time.sleep(1.0)
            if time.monotonic() - start < seconds - 0.5:
                cpu1, cpu1_at = postgres_cpu_seconds(), time.monotonic()  # the writers' backends are open
            row = probe.execute(
                b"SELECT EXTRACT(EPOCH FROM clock_timestamp()) - MIN(heartbeat) FROM node_live"
            ).fetchone()
            lags.append(max(0.0, float(row[0]) - 1.0))
        elapsed = time.monotonic() - start
        reports = [done.get() for _ in workers]
        written = sum(count for count, _ in reports)
        writers_cpu = sum(cpu for _, cpu in reports)
        cpu_elapsed = cpu1_at - start
        cpu, wal = cpu_since(cpu0, cpu1), wal_lsn(probe) - wal0
        size = probe.execute(b"SELECT pg_total_relation_size('node_live')").fetchone()
        stored = probe.execute(b"SELECT AVG(pg_column_size(node_live.*)) FROM node_live").fetchone()
    due = nodes * seconds
    result = {
        "nodes": nodes,
        "upserts_per_s": round(written / seconds, 1),
        "due_per_s": nodes,
        "completion": round(written / due, 3),
        "lag_max_s": round(max(lags, default=0.0), 2),
        "postgres_cpu_pct": round(100 * cpu / max(cpu_elapsed, 1e-9), 1),
        "writers_cpu_pct": round(100 * writers_cpu / elapsed, 1),
        "row_bytes": round(float(stored[0])) if stored and stored[0] is not None else None,
        "wal_bytes_per_node_per_day": round(wal / nodes / elapsed * 86400),
        "table_bytes": int(size[0]) if size else None,
    }
    result["sustained"] = result["completion"] >= 0.98 and result["lag_max_s"] < MAX_LAG_S
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="250,500,1000,2000,3000,4000")
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    info = machine_info()
    fleet = SyntheticFleet.make(0)
    results = []
    with bench_schema() as url:
        for nodes in (int(n) for n in args.steps.split(",")):
            result = step(url, fleet, nodes, args.seconds)
            log(str(result))
            results.append(result)
            if not result["sustained"]:
                break
    data = {
        "benchmark": "fleet_ingest",
        "date": now_iso(),
        "machine": info,
        "seconds_per_step": args.seconds,
        "state_bytes_per_node": len(fleet.templates[0].state),
        "steps": results,
    }
    write_json(RESULTS_DIR / "fleet_ingest.json", data)
    lines = [
        "# Fleet live-state ingest",
        "",
        f"Synthetic nodes with 8 GPUs each writing their live state ({data['state_bytes_per_node']:,} bytes "
        f"of JSON) at 1 Hz into the local PostgreSQL, {args.seconds:g} s per step ({data['date']}, "
        f"{info['cpu_model']}, {info['logical_cores']} logical cores shared by PostgreSQL and the "
        f"{WRITERS} writer processes; load average {info['load_average_at_start']} at start).",
        "",
        "| nodes | upserts/s (due) | completion | max lag s | PostgreSQL CPU % | writers CPU % | "
        "stored row bytes | WAL per node per day | table bytes | sustained |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['nodes']} | {r['upserts_per_s']} ({r['due_per_s']}) | {r['completion']} | "
            f"{r['lag_max_s']} | {r['postgres_cpu_pct']} | {r['writers_cpu_pct']} | {r['row_bytes']:,} | "
            f"{r['wal_bytes_per_node_per_day'] / 2**30:.2f} GiB | "
            f"{r['table_bytes']:,} | {'yes' if r['sustained'] else 'no'} |"
        )
    lines.append("")
    (RESULTS_DIR / "fleet_ingest.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
