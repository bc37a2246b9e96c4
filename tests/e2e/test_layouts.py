"""Customizable dashboard layouts as a person uses them: panels moved by keyboard and by mouse, hidden and
restored, per view, kept across reloads in the browser, and in a signed-in user's account on the server."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.e2e.conftest import fresh_page
from tests.server import running_server, sentinel_command

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.real_component
browser_page = contextmanager(fresh_page)

USER = "grace"
PASSWORD = "layout password 1"
SINGLE_DEFAULT = [
    "trends",
    "utilization",
    "temperature",
    "power",
    "fan",
    "hardware",
    "health",
    "system-resources",
    "storage",
    "processes",
    "system-info",
]
COMPARE_DEFAULT_SHOWN = ["trends", "gpu-cards"]


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Anonymous reads (loopback) and one viewer who may keep a layout in their account."""
    data_dir = tmp_path_factory.mktemp("sentinel-layouts")
    subprocess.run(
        [
            *sentinel_command(),
            "user",
            "add",
            USER,
            "--role",
            "viewer",
            "--password-stdin",
            "--data-dir",
            str(data_dir),
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )
    args = ["--simulate", "2", "--seed", "4", "--data-dir", str(data_dir), "--rate-limit", "0"]
    with running_server(args) as url:
        yield url


def shown(page: Page, view: str) -> list[str]:
    panels: list[str] = (
        page.get_by_test_id(f"{view}-panels")
        .locator(":scope > .layout-slot")
        .evaluate_all("slots => slots.map((slot) => slot.dataset.panel)")
    )
    return panels


def wait_shown(page: Page, view: str, expected: list[str]) -> None:
    page.wait_for_function(
        """([view, expected]) => {
            const slots = document.querySelectorAll(`[data-testid=${view}-panels] > .layout-slot`);
            return JSON.stringify([...slots].map((slot) => slot.dataset.panel)) === JSON.stringify(expected);
        }""",
        arg=[view, expected],
    )


def announced(page: Page, text: str) -> None:
    page.get_by_test_id("layout-announcement").filter(has_text=text).wait_for(state="attached")


def drag(page: Page, source_test_id: str, target_test_id: str) -> None:
    """A real mouse drag from one panel's handle onto another's, in small steps as a hand moves."""
    source = page.get_by_test_id(source_test_id)
    source.scroll_into_view_if_needed()
    start = source.bounding_box()
    end = page.get_by_test_id(target_test_id).bounding_box()
    assert start and end
    page.mouse.move(start["x"] + 10, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2, steps=4)
    page.mouse.move(end["x"] + 10, end["y"] + end["height"] / 2, steps=20)
    page.mouse.up()
    # dnd-kit swallows clicks for 50 ms after a drop (a timer its pointer-up handler starts) so the drop
    # is not also a click; a hand is never that quick. A longer timer started after that handler ran
    # fires after dnd-kit's, so the next click counts however slow the machine is.
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 100))")


def open_dashboard(page: Page, url: str, view: str = "single") -> None:
    page.goto(f"{url}/?view={view}&gpu=0")
    page.get_by_test_id(f"{view}-panels").locator(".layout-slot").first.wait_for()


def server_layout(url: str) -> dict[str, Any]:
    login = httpx.post(f"{url}/api/v1/auth/login", json={"username": USER, "password": PASSWORD}, timeout=10)
    login.raise_for_status()
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    response = httpx.get(f"{url}/api/v1/users/me/preferences", headers=headers, timeout=10)
    response.raise_for_status()
    layout: dict[str, Any] = response.json()["layout"]
    return layout


def sign_in(page: Page) -> None:
    page.get_by_test_id("sign-in").click()
    form = page.get_by_test_id("login-form")
    form.get_by_label("User name").fill(USER)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("session-user").wait_for()


def test_panels_move_by_keyboard_and_mouse_hide_restore_and_survive_a_reload(
    page: Page, layout_server: str
) -> None:
    open_dashboard(page, layout_server)
    assert shown(page, "single") == SINGLE_DEFAULT
    page.get_by_test_id("edit-layout").click()
    page.get_by_test_id("layout-toolbar").wait_for()
    assert page.get_by_test_id("layout-sync").get_attribute("data-state") == "browser"

    # Keyboard, the dnd-kit way: Space picks the panel up, an arrow moves it, Space drops it.
    handle = page.get_by_test_id("drag-utilization")
    handle.focus()
    page.keyboard.press("Space")
    page.locator("[data-testid=layout-slot-utilization][data-dragging]").wait_for()
    page.keyboard.press("ArrowRight")
    page.get_by_text("Utilization is over Temperature.").wait_for(state="attached")
    page.keyboard.press("Space")
    order = ["trends", "temperature", "utilization", *SINGLE_DEFAULT[3:]]
    wait_shown(page, "single", order)
    announced(page, "Utilization moved to position 3 of 11.")
    assert page.evaluate("document.activeElement.dataset.testid") == "drag-utilization"

    # Keyboard, with the buttons: Enter on "Move down" swaps it with the next panel, and says so.
    page.get_by_role("button", name="Move GPU processes down").focus()
    page.keyboard.press("Enter")
    order = [*order[:-2], "system-info", "processes"]
    wait_shown(page, "single", order)
    announced(page, "GPU processes moved to position 11 of 11.")
    page.keyboard.press("Enter")
    announced(page, "GPU processes is already last.")

    # The mouse: fan speed dragged onto the first small panel takes its place.
    drag(page, "drag-fan", "drag-temperature")
    order = ["trends", "fan", "temperature", "utilization", "power", *order[5:]]
    wait_shown(page, "single", order)

    # Hidden, it leaves the grid for the hidden panels list, which gets the focus.
    page.get_by_test_id("hide-health").click()
    order_without_health = [panel for panel in order if panel != "health"]
    wait_shown(page, "single", order_without_health)
    show_health = page.get_by_test_id("show-panel-health")
    assert page.evaluate("document.activeElement.dataset.testid") == "show-panel-health"
    assert page.get_by_test_id("hidden-panels").get_by_role("button").all_text_contents() == ["+ Show Health"]

    page.reload()
    page.get_by_test_id("single-panels").locator(".layout-slot").first.wait_for()
    wait_shown(page, "single", order_without_health)
    assert page.get_by_test_id("panel-health").count() == 0
    assert page.get_by_test_id("layout-toolbar").count() == 0  # editing ends with the page

    # The compare view has a layout of its own: untouched by all this, and its host panels are offered.
    page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
    wait_shown(page, "compare", COMPARE_DEFAULT_SHOWN)
    page.get_by_test_id("edit-layout").click()
    page.get_by_test_id("show-panel-storage").click()
    wait_shown(page, "compare", [*COMPARE_DEFAULT_SHOWN, "storage"])
    page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Single").click()
    wait_shown(page, "single", order_without_health)

    show_health = page.get_by_test_id("show-panel-health")
    show_health.click()
    wait_shown(page, "single", order)  # back where it was
    announced(page, "Health shown, at position 7 of 11.")

    page.get_by_test_id("reset-layout").click()
    wait_shown(page, "single", SINGLE_DEFAULT)
    page.get_by_test_id("done-editing").click()
    page.reload()
    wait_shown(page, "single", SINGLE_DEFAULT)
    page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
    wait_shown(page, "compare", [*COMPARE_DEFAULT_SHOWN, "storage"])  # the reset was the single view's


def test_a_signed_in_users_layout_follows_them_to_a_fresh_browser(
    browser: Browser, layout_server: str
) -> None:
    expected = ["trends", "utilization", "temperature", "power", "hardware", "health"]
    expected += ["system-resources", "processes", "storage", "system-info"]
    with browser_page(browser) as first:
        open_dashboard(first, layout_server)
        sign_in(first)
        open_dashboard(first, layout_server)
        first.get_by_test_id("edit-layout").click()
        first.get_by_test_id("hide-fan").click()
        first.get_by_role("button", name="Move GPU processes up").click()
        wait_shown(first, "single", expected)
        first.locator("[data-testid=layout-sync][data-state=saved]").wait_for()
    saved = server_layout(layout_server)
    assert saved["single"]["hidden"] == ["fan"]
    assert [panel for panel in saved["single"]["order"] if panel != "fan"] == expected

    # A fresh browser, whose own (anonymous) layout differs, takes the account's on sign-in.
    with browser_page(browser) as second:
        open_dashboard(second, layout_server)
        second.get_by_test_id("edit-layout").click()
        second.get_by_test_id("hide-trends").click()
        wait_shown(second, "single", SINGLE_DEFAULT[1:])
        sign_in(second)
        open_dashboard(second, layout_server)
        wait_shown(second, "single", expected)

        # Reset there returns the default, in the browser and in the account.
        second.get_by_test_id("edit-layout").click()
        second.get_by_test_id("reset-layout").click()
        wait_shown(second, "single", SINGLE_DEFAULT)
        second.locator("[data-testid=layout-sync][data-state=saved]").wait_for()
    assert server_layout(layout_server)["single"] == {"order": SINGLE_DEFAULT, "hidden": []}
