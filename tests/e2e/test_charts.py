"""The trend charts as a person reads them: one crosshair and one zoom for all four, the min-max band,
alert transitions marked where they happened, and legend choices that every chart and a reload keep.
Real Chromium against a real server with four simulated GPUs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.e2e.test_dashboard import CHARTS, open_dashboard, wait_for_chart_data
from tests.e2e.test_live_and_alerts import add_admin, admin_token
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.real_component

MIN_MAX = "Min\u2013max band"
NO_VALUE = "\u2013"  # what a legend shows where a series has no value
BANDS_JS = "() => document.querySelector('[data-testid=chart-utilization] .chart-host').dataset.bands"
WINDOW_JS = "(id) => document.querySelector(`[data-testid=${id}] .chart-host`).dataset.xWindow || ''"


@pytest.fixture(scope="module")
def charts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Anonymous reads plus an admin who adds alert rules; the browser and the test share one client
    address, so the per-address rate limit (tested on its own) is off."""
    data_dir = tmp_path_factory.mktemp("sentinel-charts")
    add_admin(data_dir)
    args = ["--simulate", "4", "--seed", "7", "--data-dir", str(data_dir), "--rate-limit", "0"]
    with running_server(args) as url:
        yield url


def window_of(page: Page, chart: str) -> str:
    return str(page.evaluate(WINDOW_JS, chart))


def wait_for_seconds_of_data(page: Page, seconds: float) -> None:
    page.wait_for_function(
        "(seconds) => { const [a, b] = (document.querySelector('[data-testid=chart-utilization] .chart-host')"
        ".dataset.xWindow || '..').split('..').map(Number); return b - a >= seconds; }",
        arg=seconds,
    )


def plot_area(page: Page, chart: str) -> dict[str, float]:
    box = page.get_by_test_id(chart).locator(".u-over").bounding_box()
    assert box is not None
    return box


CURSORS_JS = """(ids) => ids.map((id) => {
    const chart = document.querySelector(`[data-testid=${id}]`);
    const cursor = chart.querySelector('.u-cursor-x');
    const over = chart.querySelector('.u-over').getBoundingClientRect();
    return {
        legend: [...chart.querySelectorAll('.u-legend .u-series .u-value')].map((cell) => cell.innerText),
        left: cursor.getBoundingClientRect().left - over.left,
        shown: getComputedStyle(cursor).display !== 'none' && !cursor.classList.contains('u-off'),
    };
})"""


def test_hovering_one_chart_shows_the_crosshair_and_values_at_that_time_on_every_chart(
    page: Page, charts_server: str
) -> None:
    open_dashboard(page, charts_server)
    wait_for_chart_data(page)
    wait_for_seconds_of_data(page, 4)
    box = plot_area(page, "chart-utilization")
    offset = box["width"] * 0.5
    page.mouse.move(box["x"] + offset, box["y"] + box["height"] * 0.5)

    # Read in one go: a live update between two reads would move the moment under the cursor.
    cursors = page.evaluate(CURSORS_JS, CHARTS)
    hovered = cursors[0]["legend"][0]
    assert hovered not in ("", "--")
    for chart, cursor in zip(CHARTS, cursors, strict=True):
        assert cursor["legend"][0] == hovered, chart  # the same moment on every chart
        assert all(value != NO_VALUE for value in cursor["legend"][1:]), (chart, cursor)  # and the values
        # The crosshair at the same place in each plot: the charts share their time window.
        assert cursor["shown"] and abs(cursor["left"] - offset) < 3, (chart, cursor)

    page.mouse.move(box["x"] + offset, box["y"] - 40)  # leaving the chart leaves every chart
    for chart in CHARTS:
        page.get_by_test_id(chart).locator(".u-cursor-x").wait_for(state="hidden")


def test_zooming_one_chart_zooms_all_and_back_to_live_on_any_returns_all(
    page: Page, charts_server: str
) -> None:
    open_dashboard(page, charts_server)
    wait_for_chart_data(page)
    wait_for_seconds_of_data(page, 4)
    box = plot_area(page, "chart-utilization")
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()

    for chart in CHARTS:
        page.get_by_test_id(chart).get_by_test_id("back-to-live").wait_for()
    zoomed = window_of(page, "chart-utilization")
    assert [window_of(page, chart) for chart in CHARTS] == [zoomed] * len(CHARTS)
    start, end = (float(edge) for edge in zoomed.split(".."))
    assert end > start

    page.get_by_test_id("chart-power").get_by_test_id("back-to-live").click()
    page.get_by_test_id("back-to-live").first.wait_for(state="detached")
    for chart in CHARTS:
        page.wait_for_function(f"(zoomed) => ({WINDOW_JS})('{chart}') !== zoomed", arg=zoomed)
        assert float(window_of(page, chart).split("..")[1]) > end


def test_the_min_max_band_shows_the_spread_behind_each_line_when_asked(
    page: Page, charts_server: str
) -> None:
    # 6 h points are 5 s buckets: several samples each, so lowest and highest differ from the mean.
    page.goto(f"{charts_server}/?range=6h")
    wait_for_chart_data(page)
    host = page.get_by_test_id("chart-utilization").locator(".chart-host")
    assert host.get_attribute("data-bands") is None  # off unless asked

    toggle = page.get_by_label(MIN_MAX)
    toggle.check()
    page.wait_for_function(f"() => Number(({BANDS_JS})()) > 0")
    page.reload()  # the choice is remembered
    page.get_by_label(MIN_MAX).wait_for()
    assert page.get_by_label(MIN_MAX).is_checked()
    page.wait_for_function(f"() => Number(({BANDS_JS})()) > 0")
    page.get_by_label(MIN_MAX).uncheck()
    page.wait_for_function(f"() => ({BANDS_JS})() === undefined")


def test_an_alert_that_fires_is_marked_on_its_chart_with_the_rule_named(
    page: Page, charts_server: str
) -> None:
    open_dashboard(page, charts_server)
    wait_for_chart_data(page)
    temperature = page.get_by_test_id("chart-temperature")
    assert temperature.get_by_test_id("alert-marker").count() == 0

    response = httpx.post(
        f"{charts_server}/api/v1/alerts/rules",
        headers={"Authorization": f"Bearer {admin_token(charts_server)}"},
        json={
            "id": "gpu0-warm",
            "name": "GPU 0 warm",
            "metric": "gpu.temperature_c",
            "condition": ">",
            "threshold": 1,
            "for": 0,
            "gpu_id": 0,
            "severity": "critical",
        },
    )
    assert response.status_code == 201, response.text

    marker = temperature.locator("[data-testid=alert-marker][data-state=firing]")
    marker.wait_for()
    assert marker.get_attribute("data-severity") == "critical"
    title = marker.get_attribute("title") or ""
    assert title.startswith("Firing: GPU 0 warm on GPU 0")
    assert "GPU 0 warm" in (temperature.locator(".chart-host").get_attribute("aria-label") or "")
    # Only the chart of the rule's metric is marked.
    assert page.get_by_test_id("chart-utilization").get_by_test_id("alert-marker").count() == 0

    # With every GPU drawn the marker stays on; it hides with its GPU's line.
    page.goto(f"{charts_server}/?view=compare")
    wait_for_chart_data(page)
    temperature.locator("[data-testid=alert-marker][data-state=firing]").first.wait_for()
    temperature.locator(".u-legend .u-series").filter(has_text="GPU 0").locator(".u-label").click()
    temperature.get_by_test_id("alert-marker").first.wait_for(state="detached")


def test_hiding_a_gpu_in_one_legend_hides_it_on_every_chart_and_after_reload(
    page: Page, charts_server: str
) -> None:
    page.goto(f"{charts_server}/?view=compare")
    wait_for_chart_data(page)

    def gpu1_rows() -> list[Locator]:
        rows = []
        for chart in CHARTS:
            legend = page.get_by_test_id(chart).locator(".u-legend .u-series")
            rows.append(legend.filter(has_text="GPU 1").first)
        return rows

    page.get_by_test_id("chart-utilization").locator(".u-legend .u-series").filter(has_text="GPU 1").locator(
        ".u-label"
    ).click()
    for row in gpu1_rows():
        page.wait_for_function("(row) => row.classList.contains('u-off')", arg=row.element_handle())
    # Only GPU 1: the others and the host stay drawn.
    utilization = page.get_by_test_id("chart-utilization").locator(".u-legend .u-series")
    assert "u-off" not in (utilization.filter(has_text="GPU 0").first.get_attribute("class") or "")
    assert "u-off" not in (utilization.filter(has_text="CPU").get_attribute("class") or "")

    page.reload()
    wait_for_chart_data(page)
    for row in gpu1_rows():
        assert "u-off" in (row.get_attribute("class") or "")

    # Shown again from another chart's legend: back on every chart.
    page.get_by_test_id("chart-power").locator(".u-legend .u-series").filter(has_text="GPU 1").locator(
        ".u-label"
    ).click()
    for row in gpu1_rows():
        page.wait_for_function("(row) => !row.classList.contains('u-off')", arg=row.element_handle())


def test_a_legend_entry_is_reached_with_tab_and_toggled_with_space(page: Page, charts_server: str) -> None:
    page.goto(f"{charts_server}/?view=compare")
    wait_for_chart_data(page)
    entry = page.get_by_test_id("chart-utilization").get_by_role("button", name="GPU 1", exact=True)
    assert entry.get_attribute("aria-pressed") == "true"

    # Tab through the page, as a keyboard user does, until the entry has the focus.
    for _ in range(100):
        page.keyboard.press("Tab")
        if entry.evaluate("(element) => element === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the utilization chart's GPU 1 legend entry")

    page.keyboard.press("Space")
    page.wait_for_function(
        "(entry) => entry.getAttribute('aria-pressed') === 'false'", arg=entry.element_handle()
    )
    # Hidden on every chart, the way a click hides it.
    for chart in CHARTS:
        other = (
            page.get_by_test_id(chart)
            .locator(".u-legend .u-series")
            .filter(has_text="GPU 1")
            .first.locator("th")
        )
        page.wait_for_function(
            "(entry) => entry.getAttribute('aria-pressed') === 'false'"
            " && entry.closest('tr').classList.contains('u-off')",
            arg=other.element_handle(),
        )

    page.keyboard.press("Space")
    page.wait_for_function(
        "(entry) => entry.getAttribute('aria-pressed') === 'true'", arg=entry.element_handle()
    )
    assert "u-off" not in (
        page.get_by_test_id("chart-power")
        .locator(".u-legend .u-series")
        .filter(has_text="GPU 1")
        .first.get_attribute("class")
        or ""
    )


def test_colours_and_threshold_lines_follow_the_levels_the_built_in_alert_fires_at(
    page: Page, charts_server: str
) -> None:
    """Last in the module: it makes the built-in temperature rule fire on every GPU."""
    rule_url = f"{charts_server}/api/v1/alerts/rules/gpu-temperature-critical"
    headers = {"Authorization": f"Bearer {admin_token(charts_server)}"}
    builtin = httpx.get(rule_url).json()
    open_dashboard(page, charts_server)
    levels = page.get_by_test_id("temperature-levels")
    levels.wait_for()
    assert levels.inner_text() == f"{builtin['clear_threshold']:g}°C / {builtin['threshold']:g}°C"
    assert "text-ok" in (page.get_by_test_id("gpu-temperature").get_attribute("class") or "")

    # An admin lowers the built-in rule under the simulated GPUs' temperature: it fires, and the
    # dashboard calls the same temperature critical.
    edited = {"threshold": 30, "clear_threshold": 25, "for": 0}
    try:
        assert httpx.patch(rule_url, json=edited, headers=headers).status_code == 200
        page.reload()
        page.get_by_test_id("temperature-levels").filter(has_text="25°C / 30°C").wait_for()
        page.locator("[data-testid=gpu-temperature].text-critical").wait_for()
        page.get_by_test_id("panel-temperature").get_by_text("Critical temperature").wait_for()
        page.get_by_test_id("chart-temperature").locator(
            "[data-testid=alert-marker][data-severity=critical]"
        ).first.wait_for()
        active = httpx.get(f"{charts_server}/api/v1/alerts").json()["alerts"]
        assert any(alert["id"] == "gpu-temperature-critical:gpu0" for alert in active)
    finally:
        restore = {key: builtin[key] for key in ("threshold", "clear_threshold", "for_s")}
        httpx.patch(rule_url, json=restore, headers=headers).raise_for_status()
