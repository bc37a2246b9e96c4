"""The dashboard's Fleet page in real Chromium: three ``serve --simulate`` nodes and a ``serve --hub`` on
loopback, sharing the real PostgreSQL. The page lists the nodes and their GPUs, finds free GPUs, opens a
node's full System Monitor view live from the hub, and shows a node killed with SIGKILL as offline until
it is started again."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.conftest import require_component
from tests.e2e.conftest import VIEWPORT, fresh_page
from tests.e2e.test_accessibility import AXE, serious_violations
from tests.e2e.test_phone import PHONE, assert_no_sideways_scroll
from tests.fleet.conftest import wait_until
from tests.fleet.processes import FAST_FLEET, ServeProcess
from tests.store.helpers import fresh_schema, pg_available

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.real_component

GPUS = {"gpu-a": 1, "gpu-b": 2, "gpu-c": 3}


class Fleet:
    def __init__(self, hub: ServeProcess, nodes: dict[str, ServeProcess]) -> None:
        self.hub = hub
        self.nodes = nodes

    @property
    def url(self) -> str:
        return self.hub.url

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.hub.url}/api/v1{path}", params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def statuses(self) -> dict[str, str]:
        return {node["name"]: node["status"] for node in self.api("/fleet/nodes")["nodes"]}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_component(pg_available(), "PostgreSQL on 127.0.0.1:5432")
    work = tmp_path_factory.mktemp("fleet-page")
    with fresh_schema() as url:
        env = {**FAST_FLEET, "DATABASE_URL": url, "GPU_SENTINEL_ALERTS_ENABLED": "false"}
        hub = ServeProcess("hub", work / "hub", ["--hub", "--no-gpu"], env)
        nodes = {
            name: ServeProcess(name, work / name, ["--simulate", str(count), "--seed", str(count)], env)
            for name, count in GPUS.items()
        }
        try:
            # Side by side, with time to spare on a busy machine: each start is mostly imports.
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda process: process.start(timeout_s=120), (hub, *nodes.values())))
            running = Fleet(hub, nodes)
            wait_until(
                lambda: all(running.statuses().get(name) == "online" for name in GPUS), "three nodes online"
            )
            yield running
        finally:
            for process in (hub, *nodes.values()):
                process.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from fresh_page(browser)


def open_fleet(page: Page, fleet: Fleet) -> None:
    page.goto(f"{fleet.url}/fleet")
    page.get_by_test_id("fleet-node-row").first.wait_for()


def node_row(page: Page, name: str, status: str = "online") -> Any:
    return page.locator(f"[data-testid=fleet-node-row][data-node='{name}'][data-status={status}]")


def test_the_nav_offers_the_fleet_and_it_lists_every_node_online_with_its_gpus(
    page: Page, fleet: Fleet
) -> None:
    page.goto(fleet.url)
    page.get_by_role("link", name="Fleet", exact=True).click()
    page.wait_for_url(re.compile(r"/fleet$"))
    for name, count in GPUS.items():
        row = node_row(page, name)
        row.wait_for()
        assert row.locator("td").nth(3).inner_text() == str(count)
        assert row.get_by_test_id("node-status").inner_text() == "Online"
    node_row(page, "hub").wait_for()  # the hub is a node too, without GPUs
    summary = page.get_by_test_id("fleet-summary")
    summary.filter(has_text="4 nodes: 4 online").wait_for()

    cells = page.get_by_test_id("heat-cell")
    assert cells.count() == sum(GPUS.values())
    # What a screen reader says of each cell: node, GPU, model and value.
    for name, count in GPUS.items():
        group = page.get_by_role("group", name=name, exact=True)
        for gpu_id in range(count):
            label = rf"^{name} GPU {gpu_id} \(NVIDIA H100[^)]*\): utilization \d+ %$"
            assert group.get_by_role("link", name=re.compile(label)).count() == 1, label
        assert group.get_by_test_id("heat-cell").count() == count
    assert page.locator("[data-testid=heat-group][data-node=hub]").count() == 0

    page.get_by_test_id("heat-metric").get_by_role("button", name="Temperature").click()
    temperatures = page.get_by_role("link", name=re.compile(r"^gpu-\w GPU \d \(.*\): temperature \d+ °C$"))
    assert temperatures.count() == sum(GPUS.values())

    # Sortable: by GPU count, most first.
    page.get_by_test_id("fleet-nodes").get_by_role("button", name="GPUs").click()
    first = page.get_by_test_id("fleet-node-row").first
    assert first.get_attribute("data-node") == "gpu-c"


def finder_rows(page: Page) -> set[tuple[str, int]]:
    rows = page.get_by_test_id("finder-row")
    return {
        (rows.nth(i).get_attribute("data-node") or "", int(rows.nth(i).get_attribute("data-gpu") or -1))
        for i in range(rows.count())
    }


def leading_number(text: str) -> float:
    match = re.match(r"\d+(\.\d+)?", text)
    assert match, text
    return float(match.group())


def test_the_finder_lists_the_gpus_with_enough_free_memory(page: Page, fleet: Fleet) -> None:
    free = sorted(gpu["memory_free_gib"] for gpu in fleet.api("/fleet/gpus")["gpus"])
    # A threshold in the widest gap between two GPUs' free memory, so drifting usage rarely crosses it.
    gap, threshold = max((b - a, (a + b) / 2) for a, b in itertools.pairwise(free))
    assert gap > 0, free
    open_fleet(page, fleet)
    page.get_by_test_id("finder-free").fill(f"{threshold:.2f}")
    page.get_by_test_id("finder-submit").click()
    page.get_by_test_id("finder-summary").wait_for()

    def agrees() -> bool:
        wanted = fleet.api("/fleet/gpus", min_free_gb=f"{threshold:.2f}", state="ok")["gpus"]
        return finder_rows(page) == {(gpu["node"], gpu["gpu_id"]) for gpu in wanted}

    wait_until(agrees, "the finder to list what the hub says has that much free")
    found = finder_rows(page)
    assert 0 < len(found) < sum(GPUS.values()), (threshold, free)
    texts = page.get_by_test_id("finder-free-gib").all_inner_texts()
    values = [leading_number(text) for text in texts]
    assert values == sorted(values, reverse=True), "most free first"

    page.get_by_test_id("finder-free").fill("0")
    page.get_by_test_id("finder-model").fill("h100")
    page.get_by_test_id("finder-submit").click()
    wait_until(lambda: len(finder_rows(page)) == sum(GPUS.values()), "every H100")
    page.get_by_test_id("finder-model").fill("A100")
    page.get_by_test_id("finder-submit").click()
    page.get_by_test_id("finder-summary").filter(has_text="No healthy GPU").wait_for()

    page.get_by_test_id("finder-free").fill("lots")
    page.get_by_test_id("finder-submit").click()
    assert page.get_by_role("alert").filter(has_text="enter a number of GiB").count() == 1


def shown(page: Page, testid: str) -> str:
    return page.get_by_test_id(testid).inner_text().replace("\n", "").replace(" ", "")


def gpu_options(page: Page, count: int) -> list[str]:
    """The GPU selector's choices once it lists ``count`` (the list follows the first frame)."""
    options = page.get_by_test_id("gpu-selector").locator("option")
    options.nth(count - 1).wait_for(state="attached")
    return [options.nth(i).get_attribute("value") or "" for i in range(options.count())]


def test_a_node_opens_in_its_full_view_live_from_the_hub_and_back_returns(page: Page, fleet: Fleet) -> None:
    open_fleet(page, fleet)
    node_row(page, "gpu-c").get_by_role("link", name="gpu-c").click()
    page.wait_for_url(re.compile(r"/fleet/gpu-c\?gpu=\d+&view=single&range=1h$"))
    assert page.get_by_test_id("node-title").inner_text() == "gpu-c"
    page.locator("[data-testid=live-indicator][data-state=live][data-transport=stream]").wait_for()
    assert gpu_options(page, 3) == ["0", "1", "2"]
    info = page.get_by_test_id("panel-system-info")  # the node's simulated driver, not N/A
    info.filter(has_text="550.54.15").wait_for()
    assert "12.4" in info.inner_text()

    def matches_hub() -> bool:
        utilization = shown(page, "gpu-utilization")
        gpu = fleet.api("/fleet/nodes/gpu-c/snapshot")["gpus"][2]
        return utilization == f"{gpu['utilization']['gpu']:.1f}%"

    page.get_by_test_id("gpu-selector").select_option("2")
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 2").wait_for()
    wait_until(matches_hub, "GPU 2 of gpu-c as the hub has it")
    first = (shown(page, "gpu-utilization"), shown(page, "gpu-power"))
    wait_until(lambda: (shown(page, "gpu-utilization"), shown(page, "gpu-power")) != first, "a live update")
    wait_until(matches_hub, "GPU 2 of gpu-c as the hub has it, again")

    page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
    page.get_by_test_id("gpu-card").nth(2).wait_for()
    assert page.get_by_test_id("gpu-card").count() == 3
    page.get_by_test_id("chart-utilization").locator("canvas").wait_for()

    page.go_back()  # to the single view
    page.go_back()  # to GPU 0
    page.go_back()  # to the fleet
    page.wait_for_url(re.compile(r"/fleet$"))
    page.get_by_test_id("heat-cell").first.wait_for()

    page.locator("[data-testid=heat-cell][data-node=gpu-b][data-gpu='1']").click()
    page.wait_for_url(re.compile(r"/fleet/gpu-b\?gpu=1&"))
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 1").wait_for()
    page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
    assert gpu_options(page, 2) == ["0", "1"]
    page.get_by_test_id("back-to-fleet").click()
    page.wait_for_url(re.compile(r"/fleet$"))

    # A shared link opens the node directly; it has no GPU 1, so its one GPU shows.
    page.goto(f"{fleet.url}/fleet/gpu-a")
    page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 0").wait_for()
    assert page.get_by_test_id("node-title").inner_text() == "gpu-a"


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_fleet_pages_fit_a_phone_and_pass_axe(browser: Browser, fleet: Fleet, theme: str) -> None:
    require_component(AXE.is_file(), f"axe-core ({AXE}; npm ci in web/)")
    found: dict[str, Any] = {}
    for name, viewport in (("desktop", VIEWPORT), ("phone", PHONE)):
        # The service's CSP forbids inline scripts, which is how axe is injected: this context alone lifts it.
        context = browser.new_context(
            viewport=viewport, color_scheme=theme, reduced_motion="reduce", bypass_csp=True
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            for path in ("/fleet", "/fleet/gpu-b"):
                page.goto(f"{fleet.url}{path}")
                if path == "/fleet":
                    page.get_by_test_id("heat-cell").first.wait_for()
                    page.get_by_test_id("finder-submit").click()
                    page.get_by_test_id("finder-summary").wait_for()
                else:
                    page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
                if page.evaluate("document.documentElement.dataset.theme") != theme:
                    page.get_by_test_id("theme-toggle").dispatch_event("click")
                page.wait_for_timeout(300)  # late layout: fonts, charts
                if name == "phone":
                    assert_no_sideways_scroll(page, f"{path} at {PHONE['width']} px")
                violations = serious_violations(page, Path(AXE))
                if violations:
                    found[f"{name} {path}"] = violations
        finally:
            context.close()
    assert found == {}, json.dumps(found, indent=1)


def test_a_node_killed_with_sigkill_shows_offline_and_online_again_once_restarted(
    page: Page, fleet: Fleet
) -> None:
    open_fleet(page, fleet)
    node_row(page, "gpu-a").wait_for()
    fleet.nodes["gpu-a"].kill()
    row = node_row(page, "gpu-a", "offline")
    row.wait_for(timeout=30_000)
    assert row.get_by_test_id("node-status").inner_text() == "Offline"
    cell = page.locator("[data-testid=heat-cell][data-node=gpu-a]")
    assert cell.get_attribute("data-trouble") == "offline"
    cell.and_(page.get_by_role("link", name=re.compile(r"^gpu-a GPU 0 .*; node offline$"))).wait_for()
    for name in ("gpu-b", "gpu-c"):
        node_row(page, name).wait_for()
    page.get_by_test_id("fleet-summary").filter(has_text="1 offline").wait_for()

    page.get_by_test_id("finder-free").fill("0")
    page.get_by_test_id("finder-submit").click()
    wait_until(lambda: len(finder_rows(page)) == GPUS["gpu-b"] + GPUS["gpu-c"], "free GPUs of live nodes")
    assert all(node != "gpu-a" for node, _ in finder_rows(page))

    page.locator("[data-testid=heat-group][data-node=gpu-a]").get_by_role(
        "link", name="gpu-a", exact=True
    ).click()
    page.get_by_test_id("node-offline").filter(has_text="gpu-a is offline").wait_for()
    # The hub still answers, but the node's view is not live: its last values stay, said to be so.
    page.locator("[data-testid=live-indicator][data-state=error]").filter(
        has_text="Node offline · last values"
    ).wait_for()

    # Started again with the same data directory (the same node id): its view comes back to life.
    fleet.nodes["gpu-a"].start(timeout_s=120)
    page.get_by_test_id("node-offline").wait_for(state="detached", timeout=30_000)
    page.get_by_test_id("node-status").filter(has_text="Online").wait_for()
    page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
    page.get_by_test_id("back-to-fleet").click()
    node_row(page, "gpu-a").wait_for()
