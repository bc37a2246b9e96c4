"""What the durability and log hardening cost, each next to the plain alternative in the same run.

- Spill: one flush interval's batch of an 8-GPU host (8 GPU rows, a host row, 16 process rows), appended
  to the spill file and fsync'd as the writer now does during a database outage, next to the same append
  without fsync and to holding it in a deque (what the writer did before).
- Log: one uvicorn access-log record with a token in its query string, through ``SafeFormatter``
  (redaction and escaping) and through the standard ``logging.Formatter``.

    .venv/bin/python bench/durability.py [--batches 2000] [--records 50000]

Writes bench/results/durability.json and bench/results/durability.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from common import RESULTS_DIR, machine_info
from gpu_sentinel.logs import LOG_FORMAT, SafeFormatter
from gpu_sentinel.store.backlog import Backlog
from gpu_sentinel.store.batch import Batch

TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXZhbHVlLXZhbHVl"


def one_second(ts: int) -> Batch:
    return Batch(
        gpu_rows=[(ts, gpu, *([50.0] * 13)) for gpu in range(8)],
        host_rows=[(ts, *([20.0] * 9))],
        process_rows=[
            (ts // 60 * 60, gpu, 1000 + n, "alice", "python", 4e9, 60.0) for gpu in range(8) for n in range(2)
        ],
    )


def per_call_us(action: Callable[[int], None], count: int) -> dict[str, float]:
    samples = []
    for n in range(count):
        started = time.perf_counter_ns()
        action(n)
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "median_us": round(statistics.median(samples), 2),
        "p95_us": round(samples[int(len(samples) * 0.95)], 2),
        "mean_us": round(statistics.fmean(samples), 2),
    }


def spill(batches: int, directory: Path) -> dict[str, Any]:
    synced = Backlog(directory / "synced.jsonl", memory_rows=0, max_spill_bytes=1 << 40)
    unsynced = directory / "unsynced.jsonl"
    held: deque[Batch] = deque()

    def append_unsynced(n: int) -> None:
        with unsynced.open("ab") as file:
            file.write(orjson.dumps(one_second(n).to_json()) + b"\n")

    results = {
        "append_and_fsync (now)": per_call_us(lambda n: synced.push(one_second(n)), batches),
        "append_without_fsync": per_call_us(append_unsynced, batches),
        "hold_in_memory (before)": per_call_us(lambda n: held.append(one_second(n)), batches),
    }
    line_bytes = len(orjson.dumps(one_second(0).to_json())) + 1
    return {"batches": batches, "bytes_per_batch": line_bytes, "per_batch": results}


def access_record(path: str) -> logging.LogRecord:
    args = ("127.0.0.1:51234", "GET", path, "1.1", 200)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


def log_format(records: int) -> dict[str, Any]:
    safe, plain = SafeFormatter(LOG_FORMAT), logging.Formatter(LOG_FORMAT)
    with_token = access_record(f"/api/v1/stream?token={TOKEN}&gpus=0")
    without = access_record("/api/v1/system/monitoring/all")
    assert TOKEN not in safe.format(with_token)
    return {
        "records": records,
        "per_record": {
            "SafeFormatter, token in the URL (now)": per_call_us(lambda _: safe.format(with_token), records),
            "SafeFormatter, nothing to redact (now)": per_call_us(lambda _: safe.format(without), records),
            "logging.Formatter (before)": per_call_us(lambda _: plain.format(with_token), records),
        },
    }


def markdown(result: dict[str, Any]) -> str:
    lines = ["# Durability and log hardening cost", "", f"Machine: {result['machine']}", ""]
    spilled = result["spill"]
    lines += [
        f"## Spill, per flush interval of an outage ({spilled['bytes_per_batch']} bytes per batch, 8 GPUs)",
        "",
        "| way | median (µs) | p95 (µs) | mean (µs) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {way} | {t['median_us']} | {t['p95_us']} | {t['mean_us']} |"
        for way, t in spilled["per_batch"].items()
    ]
    lines += [
        "",
        "## Log formatting, one access-log record",
        "",
        "| formatter | median (µs) | p95 (µs) |",
    ]
    lines += ["|---|---|---|"]
    lines += [
        f"| {name} | {t['median_us']} | {t['p95_us']} |" for name, t in result["log"]["per_record"].items()
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--records", type=int, default=50000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=RESULTS_DIR.parent) as scratch:
        result = {
            "machine": machine_info(),
            "spill": spill(args.batches, Path(scratch)),
            "log": log_format(args.records),
        }
    (RESULTS_DIR / "durability.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS_DIR / "durability.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
