"""Prometheus finds the fleet by itself: three ``serve --simulate 2`` nodes and a hub on loopback, and
Debian's real Prometheus server with ``http_sd_configs`` pointing at the hub's /api/v1/fleet/targets."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import free_port, require_component
from tests.fleet.conftest import wait_until
from tests.fleet.processes import ServeProcess
from tests.store.helpers import fresh_schema, pg_available

pytestmark = pytest.mark.real_component
NODES = ("gpu-a", "gpu-b", "gpu-c")
Fleet = tuple[ServeProcess, list[ServeProcess]]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    work = tmp_path_factory.mktemp("fleet")
    with fresh_schema() as url:
        env = {"DATABASE_URL": url, "GPU_SENTINEL_ALERTS_ENABLED": "false"}
        hub = ServeProcess("hub", work / "hub", ["--hub", "--no-gpu"], env)
        nodes = [ServeProcess(name, work / name, ["--simulate", "2"], env) for name in NODES]
        try:
            for process in (hub, *nodes):
                process.start()
            yield hub, nodes
        finally:
            for process in (hub, *nodes):
                process.stop()


@pytest.fixture(scope="module")
def prometheus(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    require_component(binary is not None, "the Prometheus server (Debian package 'prometheus')")
    assert binary is not None
    hub, _ = fleet
    work = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": "gpu-sentinel-fleet",
                "http_sd_configs": [{"url": f"{hub.url}/api/v1/fleet/targets", "refresh_interval": "1s"}],
            }
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
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    try:
        body = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5).json()
    except (httpx.TransportError, ValueError):
        return []
    result: list[dict[str, Any]] = body.get("data", {}).get("result", [])
    return result


def test_the_hub_lists_every_live_node_in_http_sd_format(
    fleet: tuple[ServeProcess, list[ServeProcess]],
) -> None:
    hub, nodes = fleet

    def groups() -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = httpx.get(f"{hub.url}/api/v1/fleet/targets", timeout=5).json()
        return listed if {g["labels"]["node"] for g in listed} >= set(NODES) else []

    listed = {g["labels"]["node"]: g for g in wait_until(groups, "every node in the targets")}
    for node in nodes:
        group = listed[node.name]
        assert group["targets"] == [f"127.0.0.1:{node.port}"]
        assert group["labels"]["__metrics_path__"] == "/metrics" and group["labels"]["__scheme__"] == "http"


def test_prometheus_scrapes_every_node_it_discovered(prometheus: str) -> None:
    def up_nodes() -> set[str]:
        return {r["metric"].get("node", "") for r in query(prometheus, "up == 1")}

    wait_until(lambda: up_nodes() >= set(NODES), "Prometheus to scrape all three nodes", timeout_s=60)
    per_node = wait_until(
        lambda: (
            (found := query(prometheus, "count by (node) (DCGM_FI_DEV_GPU_UTIL)"))
            and {r["metric"]["node"] for r in found} >= set(NODES)
            and found
        ),
        "GPU utilisation from every node",
        timeout_s=60,
    )
    counts = {r["metric"]["node"]: int(r["value"][1]) for r in per_node}
    assert all(counts[name] == 2 for name in NODES), counts
