"""History queries at fleet shape, SQLite and PostgreSQL in the same run.

Two questions of the node-keyed schema:
1. 24 h of every chart series for one node's 8 GPUs, the dashboard's 24 h view (15 s buckets, 15 s
   tier), on SQLite and on PostgreSQL, with the other nodes' rows in the same tables.
2. One GPU metric (utilization of GPU 0) across N nodes over 24 h on PostgreSQL: the fleet heatmap. N is
   100 and 300 for the 1-minute tier (1,440 rows per node) and 1,000 for the 1-hour tier; a 1,000-node
   1-minute tier (1.4 M wide rows, about 1 GB) is more than this shared 2-core machine builds in minutes,
   so its figure is scaled from the two measured sizes.

Rows are generated straight into the tiers (``history_store.fill_plan``'s values), each node under its own
key as the store writes them, then the store's own planner and SQL answer. Times are the median and p95 of
``--repeats`` runs after a warm-up: the database statement alone, and the store's whole answer (series).

    .venv/bin/python bench/history_fleet.py [--repeats 20] [--skip-postgres]

Writes bench/results/history_fleet.json and bench/results/history_fleet.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from gpu_sentinel.config import Settings
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import HistoryStore, TrendQuery, blocks
from gpu_sentinel.store.postgres import PostgresDatabase
from gpu_sentinel.store.query import select
from history_store import (
    GPUS_COLUMNS,
    bench_schema,
    copy_rows,
    fill_sqlite,
    gpus_rows,
    measure,
    progress,
    rollup_gpu_rows,
    rollup_host_rows,
    save,
    with_node,
)

DAY_S = 86400
NODE_TARGET_MS = 50.0
FLEET_TARGET_MS = 100.0
FLEET_SIZES_1M = (100, 300)
FLEET_SIZE_1H = 1000
LOCAL = NodeIdentity("0" * 32, "bench-node")


def node_identity(index: int) -> NodeIdentity:
    return NodeIdentity(f"{index + 1:032x}", f"node-{index:04d}")


def one_gpu(node: int, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """GPU 0's rows of a tier, under ``node``: the fleet query reads one GPU of each node."""
    return with_node(node, (row for row in rows if row[1] == 0))


def local_plan(now: int) -> list[tuple[str, Iterator[tuple[Any, ...]]]]:
    """The local node's last 25 h in the 15-second and 1-minute tiers."""
    plan = []
    for tier, step in (("15s", 15), ("1m", 60)):
        start = (now - DAY_S - 3600) // step * step
        plan += [
            (f"gpu_{tier}", rollup_gpu_rows(start, now, step)),
            (f"host_{tier}", rollup_host_rows(start, now, step)),
        ]
    return plan


def fleet_plan(now: int, nodes: range, tier: str) -> Iterator[tuple[str, Iterator[tuple[Any, ...]]]]:
    step = 60 if tier == "1m" else 3600
    start = (now - DAY_S - 3600) // step * step
    for node in nodes:
        yield f"gpu_{tier}", one_gpu(node, rollup_gpu_rows(start, now, step))


def register(url: str, count: int, now: int) -> range:
    """Registers ``count`` fleet nodes (on a connection of its own: the store's writer is its thread's);
    returns their keys."""
    database = PostgresDatabase(url)
    try:
        keys = [database.register_node(node_identity(i), now) for i in range(count)]
    finally:
        database.close()
    return range(min(keys), max(keys) + 1)


def fill_postgres(url: str, tables: Iterator[tuple[str, Iterator[tuple[Any, ...]]]], gpus: list[Any]) -> int:
    total = 0
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for table, rows in tables:
            total += copy_rows(cursor, table, rows)
        if gpus:
            cursor.executemany(
                f"INSERT INTO gpus ({GPUS_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)".encode(), gpus
            )
        connection.commit()
        connection.autocommit = True
        connection.execute(b"VACUUM ANALYZE")
    return total


def node_views(store: HistoryStore, now: int, repeats: int) -> dict[str, Any]:
    """The dashboard's 24 h view (15 s buckets), and the same at 1 minute from the 1-minute tier."""
    store.flush()  # the writer's first flush recomputes rollups from the fill, moving the revision
    sealed = -1
    while (count := len(store.database.query("SELECT start FROM trend_blocks"))) != sealed:
        sealed = count  # the writer seals what the fill left, a few blocks a flush, as after an upgrade
        store.flush()
    return {f"24h@{bucket}s": node_view(store, now, bucket, repeats) for bucket in (15, 60)}


def node_view(store: HistoryStore, now: int, bucket_s: int, repeats: int) -> dict[str, Any]:
    """24 h of every chart series of one node's 8 GPUs and its host: read whole (the first time a range
    is asked), and asked again as the 24 h window moves on, from the settled buckets the store holds."""
    request = TrendQuery((), now - DAY_S, now, None, bucket_s)
    plan = store.plan(request)

    def database_only() -> None:
        store.database.query(*select(plan, "gpu"))
        store.database.query(*select(plan, "host"))

    def blocks_only() -> None:
        for scope in ("gpu", "host"):
            if blocks.serves(plan, scope):
                store.database.query(*blocks.select(plan, scope, (plan.start, plan.end)))

    def whole() -> None:
        store.settled.clear()
        store._compute_trends(request)

    def moving() -> TrendQuery:
        end = int(time.time())
        return TrendQuery((), end - DAY_S, end, None, bucket_s)

    points = sum(len(series.timestamps) for series in store._compute_trends(request).series)
    store._compute_trends(moving())
    hits = store.settled.hits
    again = measure(lambda: store._compute_trends(moving()), repeats)
    return {
        "tier": plan.tier.name,
        "gpus": len(plan.gpu_ids),
        "points": points,
        "query": measure(database_only, repeats),
        "blocks_query": measure(blocks_only, repeats) if blocks.serves(plan, "gpu") else None,
        "store_uncached": measure(whole, repeats),
        "store_settled": again,
        "settled_hits": store.settled.hits - hits,
    }


def fleet_sql(tier: str, nodes: range, bucket_s: int) -> tuple[str, list[Any]]:
    """The store's bucketing (``query.select``), over many nodes: one index range per node on
    ``(node, gpu_id, ts)``."""
    step = 60 if tier == "1m" else 3600
    marks = ", ".join("?" for _ in nodes)
    where = f"node IN ({marks}) AND gpu_id = 0 AND ts >= ? AND ts < ?"
    if bucket_s == step:
        text = (
            f"SELECT node, ts, util_gpu_avg, util_gpu_min, util_gpu_max FROM gpu_{tier} WHERE {where} "
            "ORDER BY node, ts"
        )
    else:
        bucket = f"(ts / {bucket_s}) * {bucket_s}"
        text = (
            f"SELECT node, {bucket} AS bucket, SUM(util_gpu_avg * n) / NULLIF(SUM(n), 0), MIN(util_gpu_min), "
            f"MAX(util_gpu_max) FROM gpu_{tier} WHERE {where} GROUP BY node, bucket ORDER BY node, bucket"
        )
    return text, list(nodes)


def fleet_queries(store: HistoryStore, now: int, sizes: dict[str, range], repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    start, end = now - DAY_S, now
    for label, tier, bucket_s in (("1m", "1m", 60), ("1m", "1m", 300), ("1h", "1h", 3600)):
        for count in (100, 300, 1000):
            nodes = sizes.get(f"{label}:{count}")
            if nodes is None:
                continue
            text, params = fleet_sql(tier, nodes, bucket_s)
            rows = store.database.query(text, [*params, start, end])
            results[f"{count} nodes, 24h@{bucket_s}s from the {tier} tier"] = {
                "nodes": count,
                "tier": tier,
                "bucket_s": bucket_s,
                "rows": len(rows),
                "query": measure(
                    lambda text=text, params=params: store.database.query(text, [*params, start, end]),
                    repeats,
                ),
            }
    return results


def open_store(url: str, data_dir: Path) -> HistoryStore:
    settings = Settings(data_dir=data_dir, database_url=url, history_cache_ttl=0)  # type: ignore[call-arg]
    store = HistoryStore.from_settings(settings, node=LOCAL)
    store.start()
    return store


def run_sqlite(data_dir: Path, repeats: int) -> dict[str, Any]:
    now = int(time.time())
    path = data_dir / "fleet.sqlite3"
    store = open_store(f"sqlite:///{path}", data_dir)
    node = store.node_key()
    store.close()
    progress("sqlite: generating 24 h of one node's 8 GPUs")
    fill_sqlite(path, now, node, local_plan(now))
    store = open_store(f"sqlite:///{path}", data_dir)
    try:
        return {"node_view": node_views(store, now, repeats)}
    finally:
        store.close()


def run_postgres(url: str, data_dir: Path, repeats: int) -> dict[str, Any]:
    now = int(time.time())
    store = open_store(url, data_dir)
    node = store.node_key()
    try:
        progress("postgresql: registering the fleet")
        fleet = register(url, max(*FLEET_SIZES_1M, FLEET_SIZE_1H), now)
        sizes: dict[str, range] = {}
        filled: dict[str, int] = {}
        started = time.perf_counter()
        progress(f"postgresql: 1-minute tier of {max(FLEET_SIZES_1M)} nodes, 1-hour tier of {FLEET_SIZE_1H}")
        filled["1m"] = fill_postgres(url, fleet_plan(now, fleet[: max(FLEET_SIZES_1M)], "1m"), [])
        filled["1h"] = fill_postgres(url, fleet_plan(now, fleet[:FLEET_SIZE_1H], "1h"), [])
        progress("postgresql: 24 h of the local node's 8 GPUs")
        gpus = [row for key in fleet for row in gpus_rows(key, now, 1)] + gpus_rows(node, now)
        local = ((table, with_node(node, rows)) for table, rows in local_plan(now))
        filled["local"] = fill_postgres(url, local, gpus)
        fill_s = round(time.perf_counter() - started, 1)
        for count in FLEET_SIZES_1M:
            sizes[f"1m:{count}"] = fleet[:count]
        sizes[f"1h:{FLEET_SIZE_1H}"] = fleet[:FLEET_SIZE_1H]
        store.close()  # opened again on the filled tables, as a node upgraded with history starts
        store = open_store(url, data_dir)
        progress("postgresql: queries")
        return {
            "fill": {"rows": filled, "seconds": fill_s},
            "node_view": node_views(store, now, repeats),
            "fleet": fleet_queries(store, now, sizes, repeats),
        }
    finally:
        store.close()


NOTES = (
    "Where the time of a first ask goes: one node's 24 h @ 15 s is 46,080 GPU rows of 14 values, found as "
    "one index range per GPU (every key leads with the node, `(node, gpu_id, ts)`, clustered in SQLite, so "
    "the 1,000 other nodes' rows in the PostgreSQL tables cost it nothing). Over the rows, the database "
    "statements are the driver turning some 650,000 values into Python objects; no index makes that cheap. "
    "So the layout changed (schema version 8, `store.blocks`): once an hour of buckets has settled (closed "
    "30 s ago, its rollups done), the writer stores that hour's chart series of each GPU and the host as one "
    "compressed blob, and a writer that writes into settled buckets later (a backlog replayed after an "
    "outage, a restart recomputing its last rollups) deletes the blocks from there on and seals them again. "
    "A first ask of 24 h is 216 blobs by the table's key, 'statement over sealed blocks', plus the rows of "
    "the hour no block covers yet; what remains of the whole answer is making the Python floats of the "
    "series. Questions at a coarser bucket than their tier's (the 1 m rows here are the 1 m tier's own) "
    "and metrics that are not chart series are read from the rows. The same chart asked again (another "
    "dashboard, a reload, the next minute) is the settled buckets held in memory, one lookup of the "
    "node's `history_revision` (version 7) and a few rows per GPU since: the 'asked again' column.",
    "",
    "Compare within one run: the machine is shared, and its load moves every figure. The fleet queries' SQL "
    "is unchanged from the 'before' run, so their ratio to it is the machine's slowdown between the runs; "
    "on PostgreSQL every round trip of the 'asked again' answer (the revision, then the GPU and host rows "
    "since) waits its turn for a core as well.",
    "",
    "Tier choice is what makes a fleet question cheap: 24 h of one metric for 1,000 nodes from the 1-hour "
    "tier is 24 rows per node. At 1-minute resolution the cost grows with the rows read and returned (about "
    "linear from 100 to 300 nodes here), so 1,000 nodes x 1,440 minutes, 1.44 M rows, would take about "
    "3.3 times the 300-node figure: a fleet chart that fine needs a coarser tier or fewer nodes per request.",
)


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# History queries at fleet shape",
        "",
        f"{report['machine']}; PostgreSQL {report.get('postgresql_version')}. {report['repeats']} repeats "
        "after one warm-up; median / p95 in ms. 'Before' is the run given with `--before`"
        f"{' (' + report['before_machine'] + ')' if report.get('before_machine') else ''}.",
        "",
        f"## One node's 8 GPUs, 24 h, every chart series (goal <= {NODE_TARGET_MS:.0f} ms)",
        "",
        "| backend | question | tier | points | statements over the rows | statement over sealed blocks | "
        "store's whole answer, first ask | store's answer asked again | before: statements / whole "
        "answer (medians) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    before = report.get("before", {})
    for backend, data in report["backends"].items():
        for name, view in data["node_view"].items():
            query, whole, again = view["query"], view["store_uncached"], view["store_settled"]
            sealed = view.get("blocks_query")
            old = before.get(backend, {}).get("node_view", {}).get(name)
            was = f"{old['query']['median_ms']} / {old['store_uncached']['median_ms']}" if old else "-"
            on_blocks = f"{sealed['median_ms']} / {sealed['p95_ms']}" if sealed else "-"
            lines.append(
                f"| {backend} | {name} | {view['tier']} | {view['points']:,} | {query['median_ms']} / "
                f"{query['p95_ms']} | {on_blocks} | {whole['median_ms']} / {whole['p95_ms']} | "
                f"{again['median_ms']} / {again['p95_ms']} | {was} |"
            )
    fleet = report["backends"].get("postgresql", {}).get("fleet", {})
    if fleet:
        lines += [
            "",
            f"## GPU 0's utilization across N nodes, 24 h, PostgreSQL "
            f"(goal <= {FLEET_TARGET_MS:.0f} ms for 1,000)",
            "",
            "| question | rows returned | database statement | before (median / p95) |",
            "| --- | --- | --- | --- |",
        ]
        earlier = before.get("postgresql", {}).get("fleet", {})
        for name, entry in fleet.items():
            old = earlier.get(name)
            was = f"{old['query']['median_ms']} / {old['query']['p95_ms']}" if old else "-"
            query = entry["query"]
            lines.append(f"| {name} | {entry['rows']:,} | {query['median_ms']} / {query['p95_ms']} | {was} |")
    lines += ["", *NOTES, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--before", type=Path, help="an earlier history_fleet.json to compare with")
    args = parser.parse_args()
    machine = f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}"
    load = f"load average {os.getloadavg()[0]:.1f} at the start (the machine is shared)"
    report: dict[str, Any] = {"machine": f"{machine}, {load}", "repeats": args.repeats, "backends": {}}
    if args.before:
        earlier = json.loads(args.before.read_text())
        report["before"], report["before_machine"] = earlier["backends"], earlier["machine"]
    with tempfile.TemporaryDirectory() as directory:
        report["backends"]["sqlite"] = run_sqlite(Path(directory), args.repeats)
        if not args.skip_postgres:
            with bench_schema() as (url, version):
                report["postgresql_version"] = version
                report["backends"]["postgresql"] = run_postgres(url, Path(directory) / "pg", args.repeats)
    save("history_fleet", report, markdown(report))


if __name__ == "__main__":
    main()
