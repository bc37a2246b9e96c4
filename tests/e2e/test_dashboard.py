"""The dashboard as a person uses it: real Chromium, real server with four simulated GPUs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.conftest import free_port
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.real_component

NUMBER = re.compile(r"\d")
SINGLE_VIEW_PANELS = [
    "panel-utilization",
    "panel-temperature",
    "panel-power",
    "panel-fan",
    "panel-hardware",
    "panel-health",
    "panel-system-resources",
    "panel-storage",
    "panel-processes",
    "panel-system-info",
]
CHARTS = ["chart-utilization", "chart-memory", "chart-temperature", "chart-power"]


def open_dashboard(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("single-view").or_(page.get_by_test_id("compare-view")).first.wait_for()


def wait_for_chart_data(page: Page) -> None:
    """Charts draw once they hold two points; until then they say they are collecting."""
    for chart in CHARTS:
        page.get_by_test_id(chart).locator(".chart-empty").wait_for(state="detached")


def test_every_panel_shows_numbers(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    expect_live(page)
    for panel in SINGLE_VIEW_PANELS:
        text = page.get_by_test_id(panel).inner_text()
        assert NUMBER.search(text), f"{panel} shows no number: {text!r}"
    assert re.search(r"\d+(\.\d)?\s*%", page.get_by_test_id("gpu-utilization").inner_text())
    assert re.search(r"\d+\s*°C", page.get_by_test_id("gpu-temperature").inner_text())
    assert re.search(r"\d+(\.\d)?\s*W", page.get_by_test_id("gpu-power").inner_text())
    assert page.get_by_test_id("process-row").count() > 0
    assert page.get_by_test_id("storage-mount").count() > 0
    # The navigation bar's own status: one chip per GPU.
    assert page.get_by_test_id("compact-gpu").count() == 4
    wait_for_chart_data(page)
    for chart in CHARTS:
        assert page.get_by_test_id(chart).locator("canvas").count() == 1


def expect_live(page: Page) -> None:
    page.locator("[data-testid=live-indicator][data-state=live]").wait_for()


def test_switching_gpu_shows_that_gpu_and_is_remembered(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    page.get_by_test_id("gpu-selector").select_option("2")
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 2").wait_for()
    page.get_by_test_id("panel-system-info").filter(has_text="00000000:38:00.0").wait_for()
    page.reload()
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 2").wait_for()
    assert page.get_by_test_id("gpu-selector").input_value() == "2"


def test_compare_view_has_a_card_per_gpu_and_opens_one(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
    cards = page.get_by_test_id("gpu-card")
    cards.nth(3).wait_for()
    assert cards.count() == 4
    for index in range(4):
        assert NUMBER.search(cards.nth(index).inner_text())
    # Compare charts draw one line per GPU, plus the host CPU on the utilization chart.
    legend = page.get_by_test_id("chart-utilization").locator(".u-legend")
    legend.filter(has_text="GPU 3").wait_for()
    assert "CPU" in legend.inner_text()

    page.locator("[data-testid=gpu-card][data-gpu-id='3']").click()
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 3").wait_for()
    assert (
        page.get_by_test_id("view-mode-toggle")
        .get_by_role("button", name="Single")
        .get_attribute("aria-pressed")
        == "true"
    )


def test_time_range_switches_and_is_remembered(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    ranges = page.get_by_test_id("time-range")
    for label in ("6h", "24h", "1h", "6h"):
        ranges.get_by_role("button", name=label, exact=True).click()
        assert ranges.get_by_role("button", name=label, exact=True).get_attribute("aria-pressed") == "true"
    wait_for_chart_data(page)
    page.reload()
    assert ranges.get_by_role("button", name="6h", exact=True).get_attribute("aria-pressed") == "true"


def test_settings_change_the_update_interval_from_the_keyboard(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    settings = page.get_by_test_id("open-settings")
    settings.focus()
    page.keyboard.press("Enter")
    modal = page.get_by_test_id("settings-modal")
    modal.wait_for()
    page.keyboard.press("Escape")
    modal.wait_for(state="detached")
    assert page.evaluate("document.activeElement?.dataset.testid") == "open-settings"

    settings.click()
    modal.get_by_label("0.5 s").check()
    modal.get_by_role("button", name="Save").click()
    page.get_by_test_id("live-indicator").filter(has_text="0.5 s").wait_for()


def test_theme_toggle_switches_between_dark_and_light(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"


def test_client_side_routes_load_the_dashboard_shell(page: Page, sentinel_url: str) -> None:
    page.goto(f"{sentinel_url}/no/such/page")
    page.get_by_text("Page not found").wait_for()
    page.get_by_role("link", name="Back to the dashboard").click()
    page.get_by_test_id("single-view").wait_for()


def test_dashboard_survives_a_server_restart_by_itself(page: Page, tmp_path: Path) -> None:
    port = free_port()
    args = ["--simulate", "4", "--seed", "3", "--data-dir", str(tmp_path)]
    with running_server(args, port=port) as url:
        open_dashboard(page, url)
        expect_live(page)
    # The server is gone: the banner names the cause once, the navigation stops showing numbers.
    banner = page.locator("[data-testid=error-banner][data-error-type=unreachable]")
    banner.wait_for()
    assert banner.locator(".banner-title").inner_text() == "Server unreachable"
    assert banner.inner_text().count("does not answer") == 1
    page.locator("[data-testid=compact-status][data-state=offline]").wait_for()
    assert page.get_by_test_id("compact-gpu").count() == 0
    banner.filter(has_text="stopped after 5").wait_for(timeout=40_000)
    assert page.get_by_test_id("live-indicator").get_attribute("data-state") == "error"

    # Back on the same port: the page notices by itself, nobody clicks Retry.
    with running_server(args, port=port):
        banner.wait_for(state="detached", timeout=20_000)
        expect_live(page)
        assert NUMBER.search(page.get_by_test_id("gpu-utilization").inner_text())
        page.locator("[data-testid=compact-status][data-state=ok]").wait_for()


def test_without_a_gpu_the_host_metrics_still_show(page: Page, tmp_path: Path) -> None:
    with running_server(["--no-gpu", "--data-dir", str(tmp_path)]) as url:
        page.goto(url)
        page.get_by_test_id("no-gpu").wait_for()
        assert "No GPU Detected" in page.get_by_test_id("no-gpu").inner_text()
        assert NUMBER.search(page.get_by_test_id("panel-system-resources").inner_text())
        page.locator("[data-testid=compact-status][data-state=no-gpu]").wait_for()
        assert page.get_by_test_id("error-banner").count() == 0


def test_long_ranges_and_export_come_from_server_history(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    ranges = page.get_by_test_id("time-range")
    ranges.get_by_role("button", name="7d", exact=True).click()
    page.get_by_test_id("trend-source").filter(has_text="Server history").wait_for()
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    path = download_info.value.path()
    header = Path(path).read_text().splitlines()[0]
    assert header.startswith("timestamp,time,gpu_id,metric,unit,avg,min,max")


def test_usage_page_lists_every_gpu(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    rows = page.get_by_test_id("usage-gpu-row")
    rows.nth(3).wait_for()
    assert rows.count() == 4
    assert NUMBER.search(rows.first.inner_text())


def test_panel_labels_come_from_the_metric_catalogue(page: Page, sentinel_url: str) -> None:
    catalogue = httpx.get(f"{sentinel_url}/api/v1/metrics", timeout=10).json()["metrics"]
    labels = {entry["api_field"]: entry["label"] for entry in catalogue if entry["scope"] == "gpu"}
    open_dashboard(page, sentinel_url)
    for field in ("pcie.replay_count", "nvlink.tx_mb_per_s", "memory.reserved_gb", "violations.thermal_s"):
        row = page.get_by_test_id(f"metric-{field}")
        row.filter(has_text=labels[field]).wait_for()
        assert NUMBER.search(row.inner_text()) or "N/A" in row.inner_text()


def test_zoom_survives_live_updates_until_back_to_live(page: Page, sentinel_url: str) -> None:
    open_dashboard(page, sentinel_url)
    wait_for_chart_data(page)
    chart = page.get_by_test_id("chart-utilization")
    host = chart.locator(".chart-host")
    page.wait_for_function(  # a few seconds of points, so there is something to zoom into
        "() => { const [a, b] = (document.querySelector('[data-testid=chart-utilization] .chart-host')"
        ".dataset.xWindow || '..').split('..').map(Number); return b - a >= 4; }"
    )
    box = chart.locator(".u-over").bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    chart.get_by_test_id("back-to-live").wait_for()
    zoomed = host.get_attribute("data-x-window")

    # Live points keep arriving (the value changes), the window stays.
    value = page.get_by_test_id("gpu-utilization")
    for _ in range(3):
        before = value.inner_text()
        page.wait_for_function(
            "(before) => document.querySelector('[data-testid=gpu-utilization]').innerText !== before",
            arg=before,
        )
    assert host.get_attribute("data-x-window") == zoomed

    chart.get_by_test_id("back-to-live").click()
    chart.get_by_test_id("back-to-live").wait_for(state="detached")
    page.wait_for_function(
        "(zoomed) => document.querySelector('[data-testid=chart-utilization] .chart-host').dataset.xWindow"
        " !== zoomed",
        arg=zoomed,
    )
    live = host.get_attribute("data-x-window") or ""
    assert float(live.split("..")[1]) > float((zoomed or "0..0").split("..")[1])
