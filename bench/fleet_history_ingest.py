"""History ingest at fleet scale: how many nodes writing history at 1 Hz (8 GPUs each) one PostgreSQL on
this machine carries.

Every synthetic node is the project's own write path: a ``HistoryWriter`` (its thread, downsampler,
one batch per 1 s flush, the rollup tiers kept current, retention, the backlog) fed one simulated
8-GPU snapshot a second through ``submit``, as the sampler feeds it. Many nodes share a load process
(``--processes``); a node's own process would hold one connection, so the nodes of a load process
share one, each flush a transaction of its own on it, taken in turn. Per step of ``N`` nodes: the
commit lag (how far the stalest node's newest committed second falls behind the wall clock, sampled
every second; the newest second is rewritten while it fills, so a node keeping up reads 1-2 s), the
PostgreSQL server's CPU (all its processes, % of one core), the load processes' CPU, and what a node
costs the database per day: the growth of the history tables and the WAL (what replicas receive). A
step is sustained when the lag stayed under 5 s and no snapshot was dropped.

Run from the repository root (a few minutes):

    .venv/bin/python bench/fleet_history_ingest.py [--steps 100,200,400,700,1000] [--seconds 20]

Results: results/fleet_history_ingest.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))

from bench.common import RESULTS_DIR, log, machine_info, now_iso, write_json  # noqa: E402
from bench.fleet_common import (  # noqa: E402
    bench_schema,
    cpu_since,
    postgres_cpu_seconds,
    simulated_snapshots,
)

from gpu_sentinel.config import Settings  # noqa: E402
from gpu_sentinel.fleet.publisher import connect  # noqa: E402
from gpu_sentinel.node import NodeIdentity  # noqa: E402
from gpu_sentinel.snapshot import Snapshot  # noqa: E402
from gpu_sentinel.store.backlog import Backlog  # noqa: E402
from gpu_sentinel.store.batch import Batch, Row  # noqa: E402
from gpu_sentinel.store.database import Statement  # noqa: E402
from gpu_sentinel.store.postgres import PostgresDatabase  # noqa: E402
from gpu_sentinel.store.tiers import tiers_for  # noqa: E402
from gpu_sentinel.store.writer import HistoryWriter  # noqa: E402

MAX_LAG_S = 5.0
WARM_UP_S = 5.0
HISTORY_TABLES = (
    "gpu_raw",
    "host_raw",
    *(f"{scope}_{tier}" for scope in ("gpu", "host") for tier in ("5s", "15s", "1m", "1h")),
    "process_1m",
    "process_1h",
    "gpus",
)
LAG_SQL = (
    b"SELECT EXTRACT(EPOCH FROM clock_timestamp()) - MIN(x.ts), COUNT(x.ts) FROM unnest(%s::int[]) AS k(node)"
    b" CROSS JOIN LATERAL (SELECT ts FROM host_raw h WHERE h.node = k.node ORDER BY ts DESC LIMIT 1) x"
)


def identity(index: int) -> NodeIdentity:
    return NodeIdentity(f"{index + 1:032x}", f"node-{index:05d}")


class Lane:
    """A node's database in a load process: writes go over one of the process's ``--connections``
    connections, each write a transaction of its own, the nodes of a lane taking turns on it (a node's
    own process holds a connection of its own; a thousand would exceed the server's connection limit).
    Reads share the first connection's pool, as a node's reads use its pool anyway."""

    def __init__(self, database: PostgresDatabase, lock: threading.Lock, reader: PostgresDatabase) -> None:
        self._database = database
        self._lock = lock
        self._reader = reader
        self.backend = database.backend
        self.location = database.location
        self.dialect = database.dialect

    def migrate(self) -> int:
        with self._lock:
            return self._database.migrate()

    def register_node(self, node: NodeIdentity, now: int) -> int:
        with self._lock:
            return self._database.register_node(node, now)

    def write(self, batch: Batch, node: int) -> None:
        with self._lock:
            self._database.write(batch, node)

    def execute(self, statements: Sequence[Statement]) -> None:
        with self._lock:
            self._database.execute(statements)

    def query(self, sql_text: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._reader.query(sql_text, params)

    def close(self) -> None:
        """The load process closes the connections once every writer has stopped."""


@dataclasses.dataclass(frozen=True)
class LoadPlan:
    url: str
    connections: int
    """Write connections per load process."""
    templates: list[Snapshot]
    seconds: float


def load(plan: LoadPlan, indexes: list[int], ready: Any, out: Any) -> None:
    """Run ``indexes``' writers for ``plan.seconds``, feeding each one snapshot a second; report the
    snapshots fed and dropped and this process's CPU."""
    url, templates, seconds = plan.url, plan.templates, plan.seconds
    databases = [PostgresDatabase(url) for _ in range(plan.connections)]
    lanes = [Lane(database, threading.Lock(), databases[0]) for database in databases]
    with tempfile.TemporaryDirectory() as spill:
        tiers = tiers_for(Settings(data_dir=Path(spill)))  # type: ignore[call-arg]
        writers = []
        for lane, index in enumerate(indexes):
            database = lanes[lane % len(lanes)]
            backlog = Backlog(Path(spill) / f"{index}.jsonl", memory_rows=50_000, max_spill_bytes=1 << 20)
            writer = HistoryWriter(database, tiers, backlog, identity(index), flush_interval=1.0)  # type: ignore[arg-type]
            writer.prepare()
            writers.append(writer)
        for writer in writers:
            writer.start()
        ready.put([writer.node_key for writer in writers])
        cpu0 = time.process_time()
        fed, tick, seq = 0, time.monotonic(), 0
        end = tick + seconds
        while time.monotonic() < end:
            now = time.time()
            for offset, writer in enumerate(writers):
                template = templates[(seq + offset) % len(templates)]
                writer.submit(dataclasses.replace(template, seq=seq, timestamp=now))
                fed += 1
            seq += 1
            tick += 1.0
            time.sleep(max(0.0, tick - time.monotonic()))
        cpu = time.process_time() - cpu0
        dropped = sum(writer.status().dropped_snapshots for writer in writers)
        for writer in writers:
            writer.stop()
        for opened in databases:
            opened.close()
    out.put((fed, dropped, cpu))


def history_bytes(connection: Any) -> int:
    total = 0
    for table in HISTORY_TABLES:
        row = connection.execute(b"SELECT pg_total_relation_size(%s)", (table,)).fetchone()
        total += int(row[0])
    return total


def wal_lsn(connection: Any) -> int:
    row = connection.execute(b"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')").fetchone()
    return int(row[0])


def step(plan: LoadPlan, nodes: int, processes: int) -> dict[str, Any]:
    ready: Any = multiprocessing.Queue()
    out: Any = multiprocessing.Queue()
    url, seconds = plan.url, plan.seconds
    run_s = WARM_UP_S + seconds
    running = dataclasses.replace(plan, seconds=run_s)
    workers = [
        multiprocessing.Process(
            target=load,
            args=(running, list(range(i, nodes, processes)), ready, out),
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    keys = [key for _ in workers for key in ready.get(timeout=600)]
    time.sleep(WARM_UP_S)
    lags: list[float] = []
    with connect(url) as probe:
        probe.autocommit = True
        cpu0, wal0, bytes0, start = (
            postgres_cpu_seconds(),
            wal_lsn(probe),
            history_bytes(probe),
            time.monotonic(),
        )
        cpu1, cpu1_at = cpu0, start
        while time.monotonic() - start < seconds - 0.5:
            time.sleep(1.0)
            cpu1, cpu1_at = postgres_cpu_seconds(), time.monotonic()
            lag, reporting = probe.execute(LAG_SQL, (keys,)).fetchone()
            if reporting:
                lags.append(float(lag))
        elapsed = cpu1_at - start
        wal, grown = wal_lsn(probe) - wal0, history_bytes(probe) - bytes0
        reports = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(30)
    fed = sum(report[0] for report in reports)
    dropped = sum(report[1] for report in reports)
    loaders_cpu = sum(report[2] for report in reports)
    lags.sort()
    result = {
        "nodes": nodes,
        "processes": processes,
        "connections": processes * plan.connections,
        "snapshots_fed": fed,
        "snapshots_dropped": dropped,
        "lag_p50_s": round(lags[len(lags) // 2], 2) if lags else None,
        "lag_max_s": round(lags[-1], 2) if lags else None,
        "postgres_cpu_pct": round(100 * cpu_since(cpu0, cpu1) / max(elapsed, 1e-9), 1),
        "load_cpu_pct": round(100 * loaders_cpu / run_s, 1),
        "history_bytes_per_node_per_day": round(grown / nodes / elapsed * 86400),
        "wal_bytes_per_node_per_day": round(wal / nodes / elapsed * 86400),
    }
    result["sustained"] = bool(lags) and lags[-1] < MAX_LAG_S and dropped == 0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="100,200,400,700,1000")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8, help="write connections per load process")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--before", type=Path, help="an earlier run (its json) to show beside this one")
    args = parser.parse_args()
    info = machine_info()
    templates = simulated_snapshots(8)
    results = []
    with bench_schema() as url:
        for nodes in (int(n) for n in args.steps.split(",")):
            plan = LoadPlan(url, args.connections, templates, args.seconds)
            result = step(plan, nodes, args.processes)
            log(str(result))
            results.append(result)
            if not result["sustained"]:
                break
    data = {
        "benchmark": "fleet_history_ingest",
        "date": now_iso(),
        "machine": info,
        "seconds_per_step": args.seconds,
        "gpus_per_node": 8,
        "steps": results,
    }
    if args.before:
        earlier = json.loads(args.before.read_text())
        data["before"] = {"date": earlier["date"], "steps": earlier["steps"], "machine": earlier["machine"]}
    write_json(RESULTS_DIR / "fleet_history_ingest.json", data)
    write_markdown(data)


NOTES = (
    "Where it saturates, and why: the largest step sustained is the fleet one PostgreSQL carries on this "
    "machine. Its two cores hold the database, every node's writer and feeder (the load processes) and, "
    "while these ran, other work (see the load average): past the last sustained step the stalest node "
    "falls behind although neither PostgreSQL nor the load processes use a whole core, because each of "
    "them waits its turn for one. A node costs the database two transactions a second (its rows, then its "
    "rollups), each waiting for its WAL to reach the disk, with these row writes: 8 GPU rows and the "
    "host row of the second still filling, written again once it is complete (so a kill -9 loses at most "
    "a second), the process rows, the node's 8 rows of `gpus` (last seen), and the rollup rows due. "
    "Rolling every tier's filling bucket up at "
    "every flush was most of the rest: the writer now rolls a tier up when one of its buckets closes, "
    "and its filling bucket at most once per its width (a minute for the hour tier); the table above "
    "beside the one before shows what that saved at the same fleet.",
    "",
    "What a node costs: the WAL per node per day is what the database's disk and every replica take in; "
    "table growth counts rows rewritten in place until vacuum reclaims them, and the tiers' retention "
    "(1 s, 5 s and 15 s kept 48 h by default) bounds what stays. A fleet of 1,000 nodes at 1 Hz needs a "
    "database server of its own: several cores and a disk that takes that WAL, not a shared 2-core VM.",
)


def write_markdown(data: dict[str, Any]) -> None:
    info = data["machine"]
    lines = [
        "# Fleet history ingest",
        "",
        "Synthetic nodes, each a `HistoryWriter` fed one simulated 8-GPU snapshot a second, writing into "
        f"the local PostgreSQL, {data['seconds_per_step']:g} s per step after a {WARM_UP_S:g} s warm-up "
        f"({data['date']}, {info['cpu_model']}, {info['logical_cores']} logical cores shared by PostgreSQL, "
        f"the load processes and other work: load average {info['load_average_at_start']} at start).",
        "",
        *_table(data["steps"]),
    ]
    if "before" in data:
        lines += [
            "",
            f"Before (run of {data['before']['date']}, load average "
            f"{data['before']['machine']['load_average_at_start']} at start), the writer rolling every "
            "tier's filling bucket up at every flush:",
            "",
            *_table(data["before"]["steps"]),
        ]
    lines += ["", *NOTES, ""]
    (RESULTS_DIR / "fleet_history_ingest.md").write_text("\n".join(lines))


def _table(results: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| nodes | load processes / connections | snapshots dropped | commit lag p50 / max s | "
        "PostgreSQL CPU % | load CPU % | history growth per node per day | WAL per node per day | "
        "sustained |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r['nodes']} | {r['processes']} / {r['connections']} | {r['snapshots_dropped']} | "
            f"{r['lag_p50_s']} / {r['lag_max_s']} | "
            f"{r['postgres_cpu_pct']} | {r['load_cpu_pct']} | "
            f"{r['history_bytes_per_node_per_day'] / 2**20:,.0f} MiB | "
            f"{r['wal_bytes_per_node_per_day'] / 2**20:,.0f} MiB | {'yes' if r['sustained'] else 'no'} |"
        )
    return lines


if __name__ == "__main__":
    main()
