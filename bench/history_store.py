"""History store benchmark, SQLite and PostgreSQL in the same run.

Measures what issue 3 asks: ingest rows/s (raw upserts, and snapshots through the whole writer with its
1-second downsampling and rollups), trend query time (median and p95) for 24 h @ 15 s and 30 d @ 1 h on
a store holding 30 days of 8-GPU data, and bytes on disk per GPU-sample. The 30 days are generated
straight into the 1-minute and 1-hour tiers; raw and 5-second rows are generated for the last 48 h.

    .venv/bin/python bench/history_store.py [--repeats 30] [--skip-postgres]

Writes bench/results/history.json and bench/results/history.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

from gpu_sentinel.collectors.simulated import SimulatedGPUs
from gpu_sentinel.config import Settings
from gpu_sentinel.node import load_node_identity
from gpu_sentinel.snapshot import HostSample, Snapshot
from gpu_sentinel.store import HistoryStore, TrendQuery, open_database
from gpu_sentinel.store.batch import Batch
from gpu_sentinel.store.database import Database
from gpu_sentinel.store.query import select

RESULTS = Path(__file__).resolve().parent / "results"
PG_DSN = os.environ.get("GPU_SENTINEL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
GPUS = 8
DAYS = 30
RAW_HOURS = 48
TARGET_MS = 50.0
GiB = 1024**3


def gpu_values(ts: int, gpu: int) -> tuple[float | int, ...]:
    """Plausible, cheap, deterministic values in the order of ``GPU_COLUMNS``."""
    phase = (ts // 600 + gpu * 7) % 10
    util = float((phase * 11 + ts % 7) % 101)
    return (
        util,
        util * 0.6,
        int((20 + phase * 5) * GiB),
        35.0 + util * 0.4,
        40.0 + util * 0.35,
        70.0 + util * 6.3,
        30.0 + util * 0.5,
        345 + int(util * 16),
        2619,
        util * 1e8,
        util * 5e7,
        0.0,
        0.0,
    )


def host_values(ts: int) -> tuple[float | int, ...]:
    cpu = float(ts % 97)
    return (cpu, int(96 * GiB), 37.5, 1.2, cpu / 10, 1.5e6, 3.2e6, 2e7, 4e7)


def raw_gpu_rows(start: int, end: int) -> Iterator[tuple[Any, ...]]:
    for ts in range(start, end):
        for gpu in range(GPUS):
            yield (ts, gpu, *gpu_values(ts, gpu))


def raw_host_rows(start: int, end: int) -> Iterator[tuple[Any, ...]]:
    for ts in range(start, end):
        yield (ts, *host_values(ts))


def _stats(values: tuple[float | int, ...], spread: float) -> list[float]:
    out: list[float] = []
    for value in values:
        out += [float(value), float(value) * (1 - spread), float(value) * (1 + spread)]
    return out


def rollup_gpu_rows(start: int, end: int, step: int) -> Iterator[tuple[Any, ...]]:
    for ts in range(start, end, step):
        for gpu in range(GPUS):
            yield (ts, gpu, step, *_stats(gpu_values(ts, gpu), 0.2))


def rollup_host_rows(start: int, end: int, step: int) -> Iterator[tuple[Any, ...]]:
    for ts in range(start, end, step):
        yield (ts, step, *_stats(host_values(ts), 0.2))


def process_rows(start: int, end: int) -> Iterator[tuple[Any, ...]]:
    """One process per GPU per minute, owned by one of four users."""
    for ts in range(start, end, 60):
        for gpu in range(GPUS):
            pid = 10_000 + gpu * 100 + (ts // 7200) % 50
            user = ("alice", "bob", "carol", "dave")[(pid + gpu) % 4]
            yield (ts, gpu, pid, "python", user, 60, 30.0, 18_000.0, 3000.0, 60, 20 * GiB, 600.0, 60, 8 * GiB)


def fill_plan(now: int) -> list[tuple[str, Iterator[tuple[Any, ...]]]]:
    raw_start = now - RAW_HOURS * 3600
    month_start = now - DAYS * 86400
    minute_start = month_start // 60 * 60
    hour_start = month_start // 3600 * 3600
    five_start = raw_start // 5 * 5
    return [
        ("gpu_raw", raw_gpu_rows(raw_start, now)),
        ("host_raw", raw_host_rows(raw_start, now)),
        ("gpu_5s", rollup_gpu_rows(five_start, now, 5)),
        ("host_5s", rollup_host_rows(five_start, now, 5)),
        ("gpu_15s", rollup_gpu_rows(raw_start // 15 * 15, now, 15)),
        ("host_15s", rollup_host_rows(raw_start // 15 * 15, now, 15)),
        ("gpu_1m", rollup_gpu_rows(minute_start, now, 60)),
        ("host_1m", rollup_host_rows(minute_start, now, 60)),
        ("gpu_1h", rollup_gpu_rows(hour_start, now, 3600)),
        ("host_1h", rollup_host_rows(hour_start, now, 3600)),
        ("process_1m", process_rows(minute_start, now)),
    ]


GPUS_COLUMNS = "node, gpu_id, uuid, name, memory_total_bytes, first_seen, last_seen"


def gpus_rows(node: int, now: int, gpus: int = GPUS) -> list[tuple[Any, ...]]:
    start = now - DAYS * 86400
    return [(node, g, f"GPU-{node}-{g}", "NVIDIA H100 80GB HBM3", 80 * GiB, start, now) for g in range(gpus)]


def data_columns(description: Any, width: int) -> str:
    """The columns ``width``-long rows fill, in the order ``fill_plan`` makes them: the node first, then the
    key and the first readings (those the generator knows; later ones stay null)."""
    names = [column[0] for column in description if column[0] != "node"]
    return ", ".join(["node", *names[: width - 1]])


def peek(rows: Iterator[tuple[Any, ...]]) -> tuple[int, Iterator[tuple[Any, ...]]]:
    """The width of the rows, and all of them still to come."""
    first = next(rows)
    return len(first), itertools.chain([first], rows)


def with_node(node: int, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    return ((node, *row) for row in rows)


def fill_sqlite(
    path: Path, now: int, node: int, plan: list[tuple[str, Iterator[tuple[Any, ...]]]] | None = None
) -> int:
    """Writes ``plan`` (default: ``fill_plan``) as ``node``'s rows, with its GPUs."""
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    total = 0
    connection.execute("BEGIN")
    for table, rows in fill_plan(now) if plan is None else plan:
        description = connection.execute(f"SELECT * FROM {table} LIMIT 0").description
        width, keyed = peek(with_node(node, rows))
        marks = ", ".join("?" * width)
        statement = f"INSERT INTO {table} ({data_columns(description, width)}) VALUES ({marks})"
        total += connection.executemany(statement, keyed).rowcount
    connection.executemany(
        f"INSERT INTO gpus ({GPUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", gpus_rows(node, now)
    )
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.close()
    return total


def copy_rows(cursor: psycopg.Cursor[Any], table: str, rows: Iterator[tuple[Any, ...]]) -> int:
    """COPY rows whose first value is the node into ``table``; returns how many."""
    description = cursor.execute(f"SELECT * FROM {table} LIMIT 0".encode()).description
    width, rows = peek(rows)
    total = 0
    with cursor.copy(f"COPY {table} ({data_columns(description, width)}) FROM STDIN".encode()) as copy:
        for row in rows:
            copy.write_row(row)
            total += 1
    return total


def fill_postgres(url: str, now: int, node: int) -> int:
    total = 0
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        for table, rows in fill_plan(now):
            total += copy_rows(cursor, table, with_node(node, rows))
        cursor.executemany(
            f"INSERT INTO gpus ({GPUS_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)".encode(),
            gpus_rows(node, now),
        )
        connection.commit()
        connection.autocommit = True
        connection.execute(b"VACUUM ANALYZE")
    return total


def measure(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
    }


def ingest_raw(database: Database, node: int, now: int) -> dict[str, float]:
    """Raw upserts straight to the database: batches of 60 s of 8 GPUs + host."""
    start = now - 6 * 3600
    seconds = 1800
    started = time.perf_counter()
    for chunk in range(start, start + seconds, 60):
        batch = Batch(
            gpu_rows=list(raw_gpu_rows(chunk, chunk + 60)), host_rows=list(raw_host_rows(chunk, chunk + 60))
        )
        database.write(batch, node)
    elapsed = time.perf_counter() - started
    rows = seconds * (GPUS + 1)
    return {"rows": rows, "seconds": round(elapsed, 3), "rows_per_s": round(rows / elapsed)}


def ingest_pipeline(store: HistoryStore, now: int) -> dict[str, float]:
    """Snapshots (4 per second, 8 simulated GPUs with processes) through the writer: downsampling,
    batching, raw upserts, rollups into every tier and per-minute process usage."""
    simulated = SimulatedGPUs(GPUS, seed=1, xid_mean_interval_s=1e12)
    start = float(now - 3 * 3600)
    snapshots = []
    for i in range(4 * 600):
        ts = start + i * 0.25
        host = HostSample(hostname="bench", cpu_pct=20.0, memory_used_bytes=64 * GiB)
        snapshots.append(Snapshot(i, ts, True, simulated.sample(ts, i % 8 == 0), host))
    started = time.perf_counter()
    for n, snapshot in enumerate(snapshots):
        store.ingest(snapshot)
        if n % 40 == 39:
            store.flush()
    store.flush()
    elapsed = time.perf_counter() - started
    return {
        "snapshots": len(snapshots),
        "seconds": round(elapsed, 3),
        "snapshots_per_s": round(len(snapshots) / elapsed),
        "gpu_samples_per_s": round(len(snapshots) * GPUS / elapsed),
    }


QUERIES = {
    "24h@15s one GPU, all chart series": (86400, 15, (0,), ()),
    "24h@15s one GPU, gpu_utilization": (86400, 15, (0,), ("gpu_utilization",)),
    "24h@15s all 8 GPUs, all chart series": (86400, 15, None, ()),
    "30d@1h one GPU, all chart series": (30 * 86400, 3600, (0,), ()),
    "30d@1h all 8 GPUs, all chart series": (30 * 86400, 3600, None, ()),
    "1h@1s one GPU, all chart series": (3600, 1, (0,), ()),
    "6h@5s one GPU, all chart series": (6 * 3600, 5, (0,), ()),
    "7d@2min all 8 GPUs, all chart series": (7 * 86400, 120, None, ()),
}


def query_times(store: HistoryStore, now: int, repeats: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, (span, bucket, gpus, metrics) in QUERIES.items():
        request = TrendQuery(metrics, now - span, now, gpus, bucket)
        plan = store.plan(request)

        def database_only(plan: Any = plan) -> None:
            if plan.gpu_metrics:
                store.database.query(*select(plan, "gpu"))
            if plan.host_metrics:
                store.database.query(*select(plan, "host"))

        def uncached(request: TrendQuery = request) -> None:
            store.settled.clear()  # a first ask: no settled buckets held from the last repeat
            store._compute_trends(request)

        points = sum(len(s.timestamps) for s in store._compute_trends(request).series)
        results[name] = {
            "tier": plan.tier.name,
            "points": points,
            "query": measure(database_only, repeats),
            "store_uncached": measure(uncached, repeats),
        }
    usage_start = now - 7 * 86400
    results["usage 7d all GPUs, users and processes"] = {
        "tier": "1m",
        "query": measure(lambda: store._compute_usage(usage_start, now, None, 100), repeats),
    }
    return results


def disk_usage(store: HistoryStore, kind: str) -> dict[str, Any]:
    raw_rows = int(store.database.query("SELECT COUNT(*) FROM gpu_raw")[0][0])
    if kind == "sqlite":
        table_bytes = int(store.database.query("SELECT SUM(pgsize) FROM dbstat WHERE name = 'gpu_raw'")[0][0])
    else:
        table_bytes = int(store.database.query("SELECT pg_total_relation_size('gpu_raw')")[0][0])
    total = store.database.size_bytes()
    return {
        "gpu_raw_rows": raw_rows,
        "gpu_raw_bytes": table_bytes,
        "bytes_per_gpu_sample_raw": round(table_bytes / raw_rows, 1),
        "database_bytes": total,
        "bytes_per_gpu_sample_all_tiers": round(total / raw_rows, 1),
    }


def clear(database: Database) -> None:
    tables = [f"{scope}_{tier}" for scope in ("gpu", "host") for tier in ("raw", "5s", "15s", "1m", "1h")]
    database.execute(
        [(f"DELETE FROM {table}", ()) for table in [*tables, "process_1m", "process_1h", "gpus"]]
    )


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_backend(kind: str, url: str, data_dir: Path, repeats: int) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir, database_url=url, history_cache_ttl=0)
    now = int(time.time())
    database = open_database(settings)
    database.migrate()
    node = database.register_node(load_node_identity(data_dir), now)
    result: dict[str, Any] = {"location": database.location}
    progress(f"{kind}: raw ingest")
    result["ingest_raw"] = ingest_raw(database, node, now)
    clear(database)
    database.close()
    progress(f"{kind}: ingest through the writer")
    store = HistoryStore.from_settings(settings)
    store.start()
    result["ingest_pipeline"] = ingest_pipeline(store, now)
    store.close()
    clear(store.database)
    store.database.close()
    progress(f"{kind}: generating {DAYS} days")
    started = time.perf_counter()
    rows = (
        fill_sqlite(Path(database.location), now, node) if kind == "sqlite" else fill_postgres(url, now, node)
    )
    result["fill"] = {"rows": rows, "seconds": round(time.perf_counter() - started, 1)}
    progress(f"{kind}: queries")
    store = HistoryStore.from_settings(settings)
    result["queries"] = query_times(store, now, repeats)
    result["disk"] = disk_usage(store, kind)
    store.database.close()
    return result


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# History store benchmark",
        "",
        f"{report['machine']}. {GPUS} GPUs, {DAYS} days in the 1-minute and 1-hour tiers, the last "
        f"{RAW_HOURS} h raw (1 s), 5 s and 15 s; {report['repeats']} repeats per query after one warm-up. "
        f"Target: database query time <= {TARGET_MS:.0f} ms (spec 000).",
        "",
    ]
    backends = report["backends"]
    names = list(next(iter(backends.values()))["queries"])
    lines += ["| query | tier | " + " | ".join(f"{b} median / p95 ms" for b in backends) + " |"]
    lines += ["| --- | --- |" + " --- |" * len(backends)]
    for name in names:
        cells = []
        for data in backends.values():
            entry = data["queries"][name]
            cells.append(f"{entry['query']['median_ms']} / {entry['query']['p95_ms']}")
        tier = next(iter(backends.values()))["queries"][name]["tier"]
        lines.append(f"| {name} | {tier} | " + " | ".join(cells) + " |")
    lines += ["", "| | " + " | ".join(backends) + " |", "| --- |" + " --- |" * len(backends)]
    rows = [
        ("raw upserts, rows/s", lambda d: d["ingest_raw"]["rows_per_s"]),
        ("snapshots through the writer, /s", lambda d: d["ingest_pipeline"]["snapshots_per_s"]),
        ("GPU samples through the writer, /s", lambda d: d["ingest_pipeline"]["gpu_samples_per_s"]),
        ("bytes per GPU-sample, raw table", lambda d: d["disk"]["bytes_per_gpu_sample_raw"]),
        ("bytes per GPU-sample, all tiers", lambda d: d["disk"]["bytes_per_gpu_sample_all_tiers"]),
        ("database size, MB", lambda d: round(d["disk"]["database_bytes"] / 1e6, 1)),
        ("fill (generated rows, seconds)", lambda d: f"{d['fill']['rows']:,}, {d['fill']['seconds']}"),
    ]
    for label, get in rows:
        lines.append(f"| {label} | " + " | ".join(str(get(d)) for d in backends.values()) + " |")
    lines += [
        "",
        "Query times are the database statements alone; `history.json` also has the store's time "
        "including shaping the series (`store_uncached`). Presets the dashboard uses: 1 h @ 1 s, "
        "6 h @ 5 s, 24 h @ 15 s, 7 d @ 2 min, 30 d @ 10 min.",
        "",
    ]
    return "\n".join(lines)


def save(name: str, report: dict[str, Any], summary: str) -> None:
    """``bench/results/<name>.json`` (raw) and ``<name>.md`` (the summary), which is also printed."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(summary)
    print(summary)


@contextmanager
def bench_schema() -> Iterator[tuple[str, str | None]]:
    """A URL whose tables land in a PostgreSQL schema of their own, dropped afterwards, and the server's
    version."""
    schema = f"gs_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}".encode())
        row = connection.execute(b"SHOW server_version").fetchone()
    try:
        yield f"{PG_DSN}?options={quote(f'-csearch_path={schema}')}", row[0] if row else None
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE".encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "repeats": args.repeats,
        "backends": {},
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "history.sqlite3"
        report["backends"]["sqlite"] = run_backend(
            "sqlite", f"sqlite:///{path}", Path(directory), args.repeats
        )
        if not args.skip_postgres:
            with bench_schema() as (url, version):
                report["postgresql_version"] = version
                report["backends"]["postgresql"] = run_backend(
                    "postgresql", url, Path(directory), args.repeats
                )
    save("history", report, markdown(report))


if __name__ == "__main__":
    main()
