"""What history keeps when things go wrong: PostgreSQL going away (buffered, spilled, replayed in order)
and the service being killed (SQLite loses at most about the last second and reopens cleanly)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg
import pytest

from gpu_sentinel.config import Settings
from gpu_sentinel.node import load_node_identity
from gpu_sentinel.store import HistoryStore, TrendQuery, open_database
from gpu_sentinel.store.errors import HistoryUnavailableError
from gpu_sentinel.store.sqlite import SQLiteDatabase
from gpu_sentinel.store.tiers import tiers_for
from tests.conftest import free_port, require_component
from tests.server import running_server
from tests.store.helpers import feed, fresh_schema, gpu, pg_available, process
from tests.store.proxy import TCPProxy

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def proxied_url() -> Iterator[tuple[str, TCPProxy]]:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    with fresh_schema() as url:
        parts = urlsplit(url)
        proxy = TCPProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        proxy.start()
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
        try:
            yield urlunsplit(parts._replace(netloc=netloc)), proxy
        finally:
            proxy.cut()


def open_store(url: str, tmp_path: Path, memory_rows: int) -> HistoryStore:
    settings = Settings(data_dir=tmp_path, database_url=url)
    store = HistoryStore(
        open_database(settings),
        tiers_for(settings),
        load_node_identity(tmp_path),
        spill_path=tmp_path / "spill.jsonl",
        spill_max_bytes=64 * 1024 * 1024,
        retry_interval=0.2,
        memory_backlog_rows=memory_rows,
        cache_ttl=0,
    )
    store.start()
    return store


def wait_until_caught_up(store: HistoryStore, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store.flush()
        status = store.status().writer
        if status.connected and not status.backlog_rows and not status.spilled_bytes:
            return
        time.sleep(0.2)
    raise AssertionError(f"history did not catch up: {store.status()}")


def seconds_stored(store: HistoryStore, start: int, end: int) -> int:
    rows = store.database.query(
        "SELECT COUNT(*) FROM gpu_raw WHERE gpu_id = 0 AND ts >= ? AND ts < ?", (start, end)
    )
    return int(rows[0][0])


def busy(ts: float) -> list:  # type: ignore[type-arg]
    return [gpu(0, util=float(int(ts) % 100), processes=[process(7, "alice")]), gpu(1)]


@pytest.mark.real_component
def test_postgresql_outage_loses_no_sample(proxied_url: tuple[str, TCPProxy], tmp_path: Path) -> None:
    url, proxy = proxied_url
    store = open_store(url, tmp_path, memory_rows=50)
    start = (int(time.time()) // 60 - 20) * 60
    feed(store, start, 30, busy)
    assert store.status().writer.connected

    proxy.cut()
    feed(store, start + 30, 90, busy)
    status = store.status().writer
    assert not status.connected and status.last_error
    assert status.spilled_bytes > 0 and status.backlog_rows == 0, "each batch goes to the file at once"
    with pytest.raises(HistoryUnavailableError):
        store.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), 1))

    proxy.start()
    feed(store, start + 120, 1, busy)
    wait_until_caught_up(store)
    assert seconds_stored(store, start, start + 121) == 121
    minute = store.trends(TrendQuery(("gpu_utilization",), start, start + 120, (0,), 60))
    expected = [sum(ts % 100 for ts in range(m, m + 60)) / 60 for m in (start, start + 60)]
    assert minute.series[0].avg == pytest.approx(expected, abs=1e-3)
    usage = store.usage(start, start + 120, (0,))
    assert usage.processes[0].hours == pytest.approx(120 / 3600)
    store.close()


@pytest.mark.real_component
def test_graceful_restart_during_an_outage_replays_the_spill_file(
    proxied_url: tuple[str, TCPProxy], tmp_path: Path
) -> None:
    url, proxy = proxied_url
    start = (int(time.time()) // 60 - 20) * 60
    first = open_store(url, tmp_path, 1_000_000)
    feed(first, start, 10, busy)
    proxy.cut()
    feed(first, start + 10, 50, busy)
    first.close()
    assert (tmp_path / "spill.jsonl").stat().st_size > 0

    proxy.start()
    second = open_store(url, tmp_path, 1_000_000)
    wait_until_caught_up(second)
    assert seconds_stored(second, start, start + 60) == 60
    assert not (tmp_path / "spill.jsonl").exists()
    second.close()


CHILD = """
import sys, time
from pathlib import Path
from typing import Any
from gpu_sentinel.config import Settings
from gpu_sentinel.node import load_node_identity
from gpu_sentinel.store import HistoryStore
from tests.store.helpers import gpu, snapshot

store = HistoryStore.from_settings(Settings(data_dir=Path(sys.argv[1])))
store.start()
seq = 0
while True:
    now = time.time()
    store.ingest(snapshot(seq, now, [gpu(0), gpu(1)]))
    print(now, flush=True)
    seq += 1
    time.sleep(0.25 - now % 0.25)
"""


def test_kill_9_loses_at_most_about_a_second_and_the_file_reopens(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    started = time.monotonic()
    last_sample = 0.0
    while time.monotonic() - started < 4.6:
        last_sample = float(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    child.wait()

    database = SQLiteDatabase(tmp_path / "history.sqlite3")
    assert database.query("PRAGMA integrity_check") == [("ok",)]
    newest = database.query("SELECT MAX(ts) FROM gpu_raw WHERE gpu_id = 0")[0][0]
    assert newest is not None
    lost = last_sample - (newest + 1)
    assert lost <= 1.5, f"lost {lost:.2f} s of samples"
    database.close()

    store = HistoryStore.from_settings(Settings(data_dir=tmp_path))
    store.start()
    result = store.trends(TrendQuery(("gpu_utilization",), int(newest) - 3, int(newest) + 1, (0,), 1))
    assert len(result.series[0].timestamps) == 4
    store.close()


def history_status(base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{base_url}/api/v1/history/status").json()
    return body


def last_sample_ts(base_url: str) -> float:
    return float(httpx.get(f"{base_url}/api/v1/health").json()["sampler"]["last_sample_timestamp"])


def wait_for_flushes(base_url: str, count: int, timeout_s: float = 60) -> None:
    """Until the writer has held back ``count`` more batches (each flush interval adds one)."""
    held = lambda: (status := history_status(base_url))["backlog_rows"] + status["spilled_bytes"]  # noqa: E731
    seen = held()
    deadline = time.monotonic() + timeout_s
    while count:
        assert time.monotonic() < deadline, f"the writer held back no new batch: {history_status(base_url)}"
        time.sleep(0.1)
        if (now := held()) != seen:
            seen, count = now, count - 1


def kill_9(port: int) -> None:
    """SIGKILL the ``serve`` child listening on ``port``: no shutdown code runs."""
    (child,) = [p for p in psutil.Process().children() if str(port) in p.cmdline()]
    child.send_signal(signal.SIGKILL)
    child.wait(10)


@pytest.mark.real_component
def test_kill_9_during_a_postgresql_outage_loses_at_most_the_flush_interval(
    proxied_url: tuple[str, TCPProxy], tmp_path: Path
) -> None:
    url, proxy = proxied_url
    args = ["--simulate", "1", "--data-dir", str(tmp_path), "--database", url]
    env = {"GPU_SENTINEL_HISTORY_RETRY_INTERVAL": "0.5", "GPU_SENTINEL_HISTORY_FLUSH_INTERVAL": "1"}
    port = free_port()
    with running_server(args, env=env, port=port) as base_url:
        deadline = time.monotonic() + 30
        while history_status(base_url)["rows_written"] == 0:
            assert time.monotonic() < deadline, history_status(base_url)
            time.sleep(0.1)
        proxy.cut()
        outage_from = last_sample_ts(base_url)
        wait_for_flushes(base_url, 5)
        sampled_until = last_sample_ts(base_url)
        wait_for_flushes(base_url, 2)  # a flush that began after ``sampled_until`` has finished
        health = httpx.get(f"{base_url}/api/v1/health")
        kill_9(port)
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    reason = health.json()["history"]["reason"]
    assert reason.startswith("history database unavailable: ") and "PostgreSQL" in reason
    assert str(proxy.port) not in reason and "postgres@" not in reason, "anyone may read the health check"
    assert health.json()["history"]["reason"].endswith("new samples wait in the spill file")
    assert sampled_until - outage_from >= 3

    proxy.start()
    with running_server(args, env=env) as base_url:
        deadline = time.monotonic() + 60
        while (status := history_status(base_url))["spilled_bytes"] or not status["connected"]:
            assert time.monotonic() < deadline, f"the spill file was not replayed: {status}"
            time.sleep(0.2)
        health = httpx.get(f"{base_url}/api/v1/health")
    assert health.json()["status"] == "ok" and health.json()["history"]["status"] == "ok"
    with psycopg.connect(url) as connection:
        first, stored = connection.execute(
            "SELECT MIN(ts), COUNT(*) FILTER (WHERE ts < %s) FROM gpu_raw WHERE gpu_id = 0",
            (int(sampled_until),),
        ).fetchone() or (None, 0)
    assert first is not None and first < outage_from
    assert stored == int(sampled_until) - first, "every second up to the last flush is in history"
