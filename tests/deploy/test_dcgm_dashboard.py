"""NVIDIA's own Grafana dashboard for dcgm-exporter (grafana.com 12239, vendored unchanged in
``deploy/grafana/``) against a real Prometheus scraping ``serve`` on the fake NVML driver: its variables
list the served host and GPUs, and every panel shows data, as it does for dcgm-exporter."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import DEPLOY
from tests.deploy.prometheus_server import Stack, scraping
from tests.fakenvml.build import fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml_path
from tests.server import running_server

__all__ = ["fake_nvml_path"]

pytestmark = pytest.mark.real_component

DASHBOARD = DEPLOY / "grafana" / "dcgm-exporter-dashboard.json"
GPU_COUNT = 3
# Panels that may show nothing yet, each with the reason. A panel listed here that shows data fails the
# test, so the entry goes as soon as the reading it waits for is exported.
EXPECTED_EMPTY: dict[str, str] = {}
LABEL_VALUES = re.compile(r"label_values\((?P<selector>.+), (?P<label>\w+)\)")


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield from panels(panel) if "panels" in panel else ()
        if panel.get("targets"):
            yield panel


def grafana_regex(values: list[str]) -> str:
    """A multi-value variable with "All" selected, as Grafana writes it into a `=~` matcher: each value
    regex-escaped, and the backslashes doubled for PromQL's string literal."""
    return "(" + "|".join(re.escape(value).replace("\\", "\\\\") for value in values) + ")"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, fake_nvml_path: Path) -> Iterator[Stack]:
    env = fake_nvml_env(fake_nvml_path, gpu_count=str(GPU_COUNT))
    work = tmp_path_factory.mktemp("prometheus")
    with running_server([], env=env) as sentinel, scraping(sentinel, work) as stack:
        yield stack


@pytest.fixture(scope="module")
def variables(stack: Stack, dashboard: dict[str, Any]) -> dict[str, list[str]]:
    """Each query variable's values, asked of Prometheus the way Grafana asks."""
    found = {}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = LABEL_VALUES.fullmatch(variable["query"])
        assert match is not None, variable["query"]
        found[variable["name"]] = stack.label_values(match["label"], match["selector"])
    return found


def test_the_vendored_file_is_nvidias_dashboard_12239(dashboard: dict[str, Any]) -> None:
    assert dashboard["gnetId"] == 12239
    assert dashboard["title"] == "NVIDIA DCGM Exporter Dashboard"
    titles = {panel["title"] for panel in panels(dashboard)}
    assert set(EXPECTED_EMPTY) <= titles, "an expected-empty panel the dashboard does not have"


def test_the_variables_list_the_served_host_and_every_gpu(
    stack: Stack, variables: dict[str, list[str]]
) -> None:
    assert variables["instance"] == [stack.sentinel.removeprefix("http://")]
    assert variables["gpu"] == [str(index) for index in range(GPU_COUNT)]


def test_every_panel_shows_data(
    stack: Stack, dashboard: dict[str, Any], variables: dict[str, list[str]]
) -> None:
    empty, waiting_but_filled = [], []
    for panel in panels(dashboard):
        for target in panel["targets"]:
            expr = target["expr"]
            for name, values in variables.items():
                expr = expr.replace(f"${name}", grafana_regex(values))
            assert "$" not in expr, f"{panel['title']}: a variable the test does not fill in: {expr}"
            result = stack.query(expr)
            if panel["title"] in EXPECTED_EMPTY:
                if result:
                    waiting_but_filled.append(panel["title"])
            elif not result:
                empty.append(f"{panel['title']}: {expr}")
            elif not expr.startswith(("avg(", "sum(")):
                gpus = sorted(series["metric"]["gpu"] for series in result)
                assert gpus == variables["gpu"], f"{panel['title']}: one series per GPU, got {gpus}"
    problems = [f"no data: {line}" for line in empty] + [
        f"shows data now, so take it out of EXPECTED_EMPTY: {title}" for title in waiting_but_filled
    ]
    assert not problems, "\n".join(problems)


# What each panel's axis assumes of the fake H100s: degrees C, watts up to the 700 W limit, MHz up to the
# 1980 MHz maximum, MiB up to 80 GiB, percent. A unit off by 1000 (mW, Hz, KiB) falls outside.
PANEL_UNITS = {
    "DCGM_FI_DEV_GPU_TEMP": (1, 120),
    "DCGM_FI_DEV_POWER_USAGE": (1, 700),
    "DCGM_FI_DEV_SM_CLOCK": (100, 1980),
    "DCGM_FI_DEV_FB_USED": (1, 80 * 1024),
    "DCGM_FI_DEV_GPU_UTIL": (0, 100),
}


@pytest.mark.parametrize(("name", "bounds"), PANEL_UNITS.items(), ids=list(PANEL_UNITS))
def test_the_panels_read_dcgm_exporters_units(stack: Stack, name: str, bounds: tuple[float, float]) -> None:
    values = [float(series["value"][1]) for series in stack.query(name)]
    low, high = bounds
    assert len(values) == GPU_COUNT
    assert all(low <= value <= high for value in values), values
