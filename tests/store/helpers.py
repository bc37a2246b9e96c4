"""Snapshots with known values, and PostgreSQL schemas of their own, for the history tests."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import quote

import psycopg

from gpu_sentinel.snapshot import GPUInfo, GPUProcess, GPUSample, HostSample, Snapshot
from gpu_sentinel.store import HistoryStore

PG_DSN = os.environ.get("GPU_SENTINEL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
RUN_ID = uuid.uuid4().hex[:8]
_schemas = itertools.count()
GiB = 1024**3


def pg_available() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def with_search_path(dsn: str, schema: str) -> str:
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A URL whose tables land in a schema made for this test alone, dropped afterwards."""
    schema = f"gs_test_{RUN_ID}_{next(_schemas)}"
    with psycopg.connect(PG_DSN, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}".encode())
    try:
        yield with_search_path(PG_DSN, schema)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE".encode())


def gpu(
    index: int,
    util: float | None = 50.0,
    *,
    power: float | None = 200.0,
    memory_gb: float = 10.0,
    temperature: float = 60.0,
    processes: Sequence[GPUProcess] = (),
) -> GPUSample:
    return GPUSample(
        info=GPUInfo(index=index, name="Test GPU", uuid=f"GPU-{index}", memory_total_bytes=80 * GiB),
        utilization_gpu_pct=util,
        memory_used_bytes=int(memory_gb * GiB),
        memory_total_bytes=80 * GiB,
        temperature_c=temperature,
        power_w=power,
        processes=tuple(processes),
    )


def process(pid: int, user: str, memory_gb: float = 4.0, name: str = "python") -> GPUProcess:
    return GPUProcess(pid=pid, name=name, kind="compute", gpu_memory_bytes=int(memory_gb * GiB), user=user)


def snapshot(seq: int, ts: float, gpus: Sequence[GPUSample], cpu: float = 20.0) -> Snapshot:
    host = HostSample(hostname="test", cpu_pct=cpu, memory_used_bytes=16 * GiB, memory_used_pct=25.0)
    return Snapshot(seq=seq, timestamp=ts, gpu_available=bool(gpus), gpus=tuple(gpus), host=host)


def feed(
    store: HistoryStore,
    start: int,
    seconds: int,
    make: Callable[[float], Sequence[GPUSample]],
    per_second: int = 4,
) -> None:
    """``per_second`` snapshots in each second from ``start``, then a flush."""
    seq = 0
    for second in range(start, start + seconds):
        for i in range(per_second):
            ts = second + i / per_second
            store.ingest(snapshot(seq, ts, make(ts)))
            seq += 1
    assert store.flush()
