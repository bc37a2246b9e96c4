"""The monitoring files against the real thing: Debian's Prometheus server scrapes ``serve --simulate``
with our alerting rules loaded, every query of our Grafana dashboard returns data, and ``promtool check
metrics`` finds nothing in ``/metrics`` but dcgm-exporter's own camelCase label."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.conftest import require_component
from tests.deploy.helpers import DEPLOY
from tests.deploy.prometheus_server import Stack, scraping
from tests.server import running_server

pytestmark = pytest.mark.real_component

DASHBOARD = DEPLOY / "grafana" / "gpu-sentinel.json"
RULES = DEPLOY / "prometheus" / "gpu-sentinel-alerts.yaml"
# Grafana's variables as a query with every host and GPU selected would send them.
VARIABLES = {"$Hostname": ".*", "$gpu": ".*", "$__rate_interval": "10s"}
# dcgm-exporter's labels, kept so that its dashboards and alerts work unchanged. promtool's lint asks
# for snake_case label names; of these only modelName breaks that rule (UUID, Hostname and
# DCGM_FI_DRIVER_VERSION have no lower-to-upper case change).
DCGM_CAMEL_CASE_LABELS = {"modelName"}
METRIC_NAME = re.compile(r"\b(DCGM_FI_DEV_\w+|gpu_sentinel_\w+)")
PRE_AMPERE_ONLY = {"DCGM_FI_DEV_RETIRED_DBE"}
PROMTOOL_CAMEL_CASE = "label names should be written in 'snake_case' not 'camelCase'"
# dcgm-exporter types its cumulative fields as counters under names without `_total`, and one of those
# names ends in COUNTER; dashboards query those exact names, so promtool's naming advice cannot apply.
PROMTOOL_COUNTER_SUFFIX = 'counter metrics should have "_total" suffix'
PROMTOOL_COUNTER_IN_NAME = "metric name should not include type 'counter'"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("prometheus")
    data_dir = tmp_path_factory.mktemp("sentinel")
    with (
        running_server(["--simulate", "2", "--seed", "5", "--data-dir", str(data_dir)]) as sentinel,
        scraping(sentinel, work, [RULES]) as stack,
    ):
        yield stack


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in VARIABLES.items():
                expr = expr.replace(name, value)
            queries.append((panel["title"], expr))
    return queries


def test_the_dashboard_covers_health_throttling_processes_and_the_service_cost() -> None:
    exprs = " ".join(expr for _, expr in dashboard_queries())
    for name in (
        "gpu_sentinel_gpu_lost",
        "gpu_sentinel_gpu_xid_errors_total",
        "DCGM_FI_DEV_CLOCKS_EVENT_REASONS",
        "gpu_sentinel_gpu_process_memory_bytes",
        "gpu_sentinel_nvml_call_seconds_total",
        "gpu_sentinel_collection_duration_seconds",
    ):
        assert name in exprs
    assert "$" not in exprs, "a variable the test does not substitute"


def test_the_dashboard_lays_out_without_overlaps_on_any_prometheus() -> None:
    """Grafana draws overlapping panels on top of each other; a fixed data source uid breaks imports."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    taken: dict[tuple[int, int], str] = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for cell in (
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        ):
            assert cell not in taken, f"{panel['title']} overlaps {taken[cell]}"
            taken[cell] = panel["title"]
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_every_dashboard_query_returns_data(stack: Stack) -> None:
    empty = [f"{title}: {expr}" for title, expr in dashboard_queries() if not stack.query(expr)]
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_every_metric_the_dashboard_reads_is_exported(stack: Stack) -> None:
    """Also behind ``or vector(0)`` fallbacks; retired pages exist only on GPUs before Ampere, and the
    simulated GPUs are H100s."""
    names = {name for _, expr in dashboard_queries() for name in METRIC_NAME.findall(expr)}
    missing = [name for name in sorted(names - PRE_AMPERE_ONLY) if not stack.query(f"count({name})")]
    assert not missing, f"the dashboard reads metrics /metrics does not have: {missing}"


def test_the_dashboard_variables_list_the_served_host_and_gpus(stack: Stack) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"] if v["type"] == "query"}
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", variables["gpu"]["definition"])
    assert match is not None
    selector = match.group(1).replace("$Hostname", ".*")
    gpus = {series["metric"][match.group(2)] for series in stack.query(selector)}
    assert gpus == {"0", "1"}


def test_the_alert_rules_load_and_read_only_exported_metrics(stack: Stack) -> None:
    groups = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == len(yaml.safe_load(RULES.read_text())["groups"][0]["rules"])
    assert all(rule["health"] == "ok" for rule in rules), rules
    names = {name for rule in rules for name in METRIC_NAME.findall(rule["query"])}
    missing = [name for name in sorted(names) if not stack.query(f"count({name})")]
    assert not missing, f"rules read metrics /metrics does not have: {missing}"


def test_promtool_finds_only_dcgm_exporters_own_label_names(stack: Stack) -> None:
    promtool = shutil.which("promtool")
    require_component(promtool is not None, "promtool (Debian package 'prometheus')")
    assert promtool is not None
    text = httpx.get(f"{stack.sentinel}/metrics", timeout=10).text
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60, check=False
    )
    label_names = set(re.findall(r"[{,]([A-Za-z_][A-Za-z0-9_]*)=", text))
    camel_case = {name for name in label_names if re.search(r"[a-z][A-Z]", name)}
    assert camel_case == DCGM_CAMEL_CASE_LABELS
    series = [line for line in text.splitlines() if not line.startswith("#")]
    with_dcgm_label = {line.split("{", 1)[0] for line in series if "modelName=" in line}
    dcgm_counters = set(re.findall(r"^# TYPE (DCGM_FI_\w+) counter$", text, re.MULTILINE))
    allowed = {
        PROMTOOL_CAMEL_CASE: with_dcgm_label,
        PROMTOOL_COUNTER_SUFFIX: dcgm_counters,
        PROMTOOL_COUNTER_IN_NAME: dcgm_counters,
    }
    problems = [line.partition(" ") for line in result.stderr.splitlines() if line.strip()]
    unexpected = [
        f"{metric} {message}" for metric, _, message in problems if metric not in allowed.get(message, set())
    ]
    assert result.returncode in (0, 3), result.stderr
    assert not unexpected, "\n".join(unexpected)
    assert problems, "promtool is expected to point at modelName"
