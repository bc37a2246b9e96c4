"""Debian's real Prometheus server scraping a running ``serve``, for the tests of the files that read it."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import free_port, require_component


@dataclass(frozen=True)
class Stack:
    sentinel: str
    prometheus: str

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def label_values(self, label: str, selector: str) -> list[str]:
        """What Grafana's ``label_values(selector, label)`` lists."""
        url = f"{self.prometheus}/api/v1/label/{label}/values"
        body = httpx.get(url, params={"match[]": selector}, timeout=10).json()
        assert body["status"] == "success", body
        values: list[str] = body["data"]
        return values


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    require_component(path is not None, "the Prometheus server (Debian package 'prometheus')")
    assert path is not None
    return path


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


@contextmanager
def scraping(sentinel: str, work: Path, rule_files: Sequence[Path] = ()) -> Iterator[Stack]:
    """Prometheus scraping ``sentinel`` every second, yielded once it holds six scrapes."""
    binary = prometheus_binary()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": "gpu-sentinel", "static_configs": [{"targets": [sentinel.removeprefix("http://")]}]}
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack = Stack(sentinel, f"http://127.0.0.1:{port}")
    try:

        def enough_samples() -> bool:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited with {process.returncode}")
            try:
                found = stack.query("count_over_time(gpu_sentinel_sampler_samples_total[1m])")
            except (httpx.TransportError, json.JSONDecodeError, AssertionError):
                return False
            return bool(found) and float(found[0]["value"][1]) >= 6

        wait_for(enough_samples, "six scrapes of gpu-sentinel")
        yield stack
    finally:
        process.terminate()
        process.wait(timeout=30)
