"""Writes the alert benchmarks' results: each benchmark updates its own section of
bench/results/alerts.json, and alerts.md is rendered from all sections."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).resolve().parent / "results"
JSON_PATH = RESULTS / "alerts.json"
MD_PATH = RESULTS / "alerts.md"


def machine() -> dict[str, Any]:
    return {"cpus": psutil.cpu_count(), "processor": platform.machine(), "python": platform.python_version()}


def save(section: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = json.loads(JSON_PATH.read_text()) if JSON_PATH.exists() else {}
    results[section] = {"machine": machine(), **data}
    JSON_PATH.write_text(json.dumps(results, indent=2) + "\n")
    MD_PATH.write_text(render(results))


def render(results: dict[str, Any]) -> str:
    lines = ["# Alert benchmarks", ""]
    evaluation = results.get("evaluation")
    if evaluation:
        lines += [
            "## Evaluation cost per snapshot (`bench/alerts_eval.py`)",
            "",
            f"Machine: {evaluation['machine']}. {evaluation['rules']} rules x {evaluation['gpus']} GPUs, "
            f"{evaluation['snapshots']} snapshots per scenario. Target: median and p99 <= 1 ms.",
            "",
            "| scenario | engine wall median / p99 (ms) | engine CPU median / p99 (ms) | "
            "naive peer wall median / p99 (ms) | naive peer CPU median / p99 (ms) |",
            "|---|---|---|---|---|",
        ]
        for name, row in evaluation["scenarios"].items():
            lines.append(
                f"| {name} | {row['engine_median_ms']:.3f} / {row['engine_p99_ms']:.3f} | "
                f"{row['engine_cpu_median_ms']:.3f} / {row['engine_cpu_p99_ms']:.3f} | "
                f"{row['naive_median_ms']:.3f} / {row['naive_p99_ms']:.3f} | "
                f"{row['naive_cpu_median_ms']:.3f} / {row['naive_cpu_p99_ms']:.3f} |"
            )
        lines += ["", evaluation["notes"], ""]
    latency = results.get("latency")
    if latency:
        lines += [
            "## Snapshot to webhook latency (`bench/alerts_latency.py`)",
            "",
            f"Machine: {latency['machine']}. Rule `for` = {latency['for_s']} s, snapshots every "
            f"{latency['interval_s']} s, {latency['runs']} firings; webhook to a local HTTP receiver "
            "through the persistent outbox (SQLite). Target: <= 1 s beyond `for`.",
            "",
            "| measure | median (ms) | p99 (ms) | max (ms) |",
            "|---|---|---|---|",
        ]
        for name, row in latency["measures"].items():
            lines.append(f"| {name} | {row['median_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.1f} |")
        lines += ["", latency["notes"], ""]
    return "\n".join(lines)
