"""Deep links, Back, and keyboard shortcuts, in real Chromium against a real server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import wait_for_usage

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.real_component


def wait_pressed(page: Page, group: str, name: str) -> None:
    """Waits until the button of that group is the chosen one (React renders after the key or click)."""
    page.get_by_test_id(group).locator("button[aria-pressed=true]").filter(has_text=name).wait_for()


def test_a_shared_link_opens_that_gpu_view_and_range_and_back_steps_through_choices(
    page: Page, sentinel_url: str
) -> None:
    page.goto(f"{sentinel_url}/?gpu=2&view=compare&range=24h")
    page.get_by_test_id("compare-view").wait_for()
    wait_pressed(page, "time-range", "24h")
    assert page.locator("[data-testid=gpu-card][data-gpu-id='2'][aria-current=true]").count() == 1

    page.locator("[data-testid=gpu-card][data-gpu-id='3']").click()
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 3").wait_for()
    assert "gpu=3" in page.url and "view=single" in page.url
    page.get_by_test_id("time-range").get_by_role("button", name="6h", exact=True).click()
    assert "range=6h" in page.url

    page.go_back()
    page.wait_for_function("() => new URLSearchParams(location.search).get('range') === '24h'")
    wait_pressed(page, "time-range", "24h")
    page.go_back()
    page.get_by_test_id("compare-view").wait_for()
    assert "gpu=2" in page.url

    # A malformed link is ignored, not half-applied: the page still opens.
    page.goto(f"{sentinel_url}/?gpu=x&view=sideways&range=1y")
    page.get_by_test_id("single-view").or_(page.get_by_test_id("compare-view")).first.wait_for()


def test_keyboard_shortcuts_and_their_help(page: Page, sentinel_url: str) -> None:
    page.goto(f"{sentinel_url}/?gpu=0&view=single&range=1h")
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 0").wait_for()
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    help_dialog.wait_for()
    assert "Next / previous GPU" in help_dialog.inner_text()
    page.keyboard.press("Escape")
    help_dialog.wait_for(state="detached")

    page.keyboard.press("j")
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 1").wait_for()
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 3").wait_for()
    page.keyboard.press("3")
    wait_pressed(page, "time-range", "24h")
    page.keyboard.press("v")
    page.get_by_test_id("compare-view").wait_for()

    # A key typed into a field belongs to the field, not to the shortcuts.
    page.get_by_test_id("gpu-selector").focus()
    page.keyboard.press("u")
    page.wait_for_timeout(200)
    assert page.evaluate("location.pathname") == "/"
    page.evaluate("document.activeElement.blur()")
    wait_for_usage(sentinel_url)
    page.keyboard.press("u")
    page.get_by_test_id("usage-gpu-row").first.wait_for()
    page.keyboard.press("d")
    page.get_by_test_id("compare-view").wait_for()


def test_usage_and_rule_tables_sort_by_any_column(page: Page, sentinel_url: str) -> None:
    wait_for_usage(sentinel_url)
    page.goto(f"{sentinel_url}/usage")
    rows = page.get_by_test_id("usage-gpu-row")
    rows.nth(3).wait_for()
    assert rows.first.inner_text().startswith("0 ·")
    header = page.get_by_test_id("usage-gpus").get_by_role("columnheader", name="GPU", exact=True)
    header.get_by_role("button").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=usage-gpu-row]').innerText.startsWith('3 ·')"
    )
    assert header.get_attribute("aria-sort") == "descending"

    page.goto(f"{sentinel_url}/alerts")
    rule_rows = page.get_by_test_id("rule-row")
    rule_rows.first.wait_for()
    severity = page.get_by_test_id("alert-rules").get_by_role("columnheader", name="Severity")
    severity.get_by_role("button").click()  # most severe first
    assert severity.get_attribute("aria-sort") == "descending"
    order = {"critical": 2, "warning": 1, "info": 0}
    seen = [
        order[next(word for word in order if word in text.lower())] for text in rule_rows.all_inner_texts()
    ]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) > 1


def test_the_usage_page_refreshes_itself_keeping_its_sort(page: Page, sentinel_url: str) -> None:
    wait_for_usage(sentinel_url)
    page.clock.install()  # the page's timers run when the test says, not after half a minute
    page.goto(f"{sentinel_url}/usage")
    rows = page.get_by_test_id("usage-gpu-row")
    rows.nth(3).wait_for()
    updated = page.get_by_test_id("usage-updated")
    first_read = updated.inner_text()
    assert first_read.startswith("Updated ")
    header = page.get_by_test_id("usage-gpus").get_by_role("columnheader", name="GPU", exact=True)
    header.get_by_role("button").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=usage-gpu-row]').innerText.startsWith('3 ·')"
    )
    top_row = rows.first.element_handle()

    with page.expect_response(lambda response: "/api/v1/history/usage" in response.url):
        page.clock.run_for(31_000)
    page.wait_for_function(
        "(before) => document.querySelector('[data-testid=usage-updated]').innerText !== before",
        arg=first_read,
    )
    # Refreshed in place: the same rows, still sorted as the user chose.
    assert rows.first.inner_text().startswith("3 ·")
    assert header.get_attribute("aria-sort") == "descending"
    assert page.evaluate("(row) => row.isConnected", top_row)
