"""Helpers of the fleet benchmarks: a PostgreSQL schema of their own, synthetic nodes written through the
live-state write path (``LiveRecord`` rendered from real simulated snapshots, ``UPSERT_AND_NOTIFY``), a
hub process, percentiles and the PostgreSQL server's CPU."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import psycopg

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR.parent) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR.parent))

from bench.common import HOST, WORK_DIR, Server, ServerPool, free_port, service_env  # noqa: E402

from gpu_sentinel import __version__  # noqa: E402
from gpu_sentinel.collectors.host import HostCollector  # noqa: E402
from gpu_sentinel.collectors.simulated import SimulatedGPUs  # noqa: E402
from gpu_sentinel.fleet.live import LiveRecord  # noqa: E402
from gpu_sentinel.node import NodeIdentity  # noqa: E402
from gpu_sentinel.sampler import Sampler  # noqa: E402
from gpu_sentinel.snapshot import Snapshot  # noqa: E402
from gpu_sentinel.store.live import UPSERT_AND_NOTIFY  # noqa: E402
from gpu_sentinel.store.postgres import PostgresDatabase  # noqa: E402

PG_DSN = os.environ.get("GPU_SENTINEL_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def bench_schema() -> Iterator[str]:
    """A migrated schema for this run, dropped afterwards; yields its URL."""
    schema = f"bench_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}".encode())
    url = f"{PG_DSN}?options={quote(f'-csearch_path={schema}')}"
    try:
        database = PostgresDatabase(url)
        database.migrate()
        database.close()
        yield url
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE".encode())


def simulated_snapshots(gpus: int = 8, count: int = 8) -> list[Snapshot]:
    """``count`` consecutive snapshots of ``gpus`` simulated GPUs and this host, processes included."""
    sampler = Sampler(SimulatedGPUs(gpus, seed=3), HostCollector(), interval_s=0.25, slow_interval_s=0.25)
    taken: list[Snapshot] = []
    sampler.subscribe(taken.append)
    sampler.start()
    try:
        while len(taken) < count + 2:
            time.sleep(0.05)
    finally:
        sampler.stop()
    return taken[2 : count + 2]


@dataclasses.dataclass
class SyntheticFleet:
    """Records of ``nodes`` synthetic nodes, each rendered by ``LiveRecord.of`` from a real snapshot (a
    few distinct ones, rotated), so a write costs the database what a node's write costs it."""

    nodes: int
    templates: list[LiveRecord]

    @classmethod
    def make(cls, nodes: int, gpus: int = 8) -> SyntheticFleet:
        templates = [
            LiveRecord.of(
                snapshot,
                NodeIdentity("0" * 32, "template"),
                version=__version__,
                metrics_url="http://127.0.0.1:1/metrics",
                alerts_firing=0,
            )
            for snapshot in simulated_snapshots(gpus)
        ]
        return cls(nodes, templates)

    def record(self, index: int, now: float) -> LiveRecord:
        template = self.templates[index % len(self.templates)]
        return dataclasses.replace(
            template,
            node_id=f"{index:032x}",
            name=f"node-{index:05d}",
            metrics_url=f"http://10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}:5500/metrics",
            heartbeat=now,
        )

    def write(self, connection: psycopg.Connection[Any], indexes: Sequence[int]) -> None:
        """One upsert-and-notify per node, each its own transaction, pipelined on one connection."""
        now = time.time()
        with connection.pipeline():
            for index in indexes:
                connection.execute(UPSERT_AND_NOTIFY.encode(), self.record(index, now).params())


def start_hub(pool: ServerPool, url: str, name: str = "hub") -> Server:
    port = free_port()
    exe = Path(sys.executable).parent / "gpu-sentinel"
    data_dir = WORK_DIR / f"fleet-{name}-{port}"
    command = [str(exe), "serve", "--hub", "--no-gpu", "--host", HOST, "--port", str(port)]
    command += ["--log-file", "", "--log-level", "warning", "--data-dir", str(data_dir)]
    env = service_env(
        {"DATABASE_URL": url, "GPU_SENTINEL_RATE_LIMIT": "0", "GPU_SENTINEL_ALERTS_ENABLED": "false"}
    )
    return pool.start(name, command, port, "/api/v1/health", env=env)


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary_ms(values_s: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def postgres_cpu_seconds() -> dict[int, float]:
    """CPU time of each PostgreSQL server process on this machine, by pid."""
    found = {}
    for process in psutil.process_iter(["name", "cpu_times"]):
        times = process.info["cpu_times"]
        if process.info["name"] in ("postgres", "postmaster") and times is not None:
            found[process.pid] = times.user + times.system
    return found


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU the server spent between two readings, counting backends that started in between (those that
    ended in between are lost, so each measured step keeps its connections open to the end)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
