"""The dashboard on a phone (390x844, real Chromium): nothing sideways to scroll, everything reachable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import fresh_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.real_component

PHONE = {"width": 390, "height": 844}
PHONE_WIDTHS = [360, 390, 430]
PAGES = ["/", "/processes", "/usage", "/alerts", "/login", "/no/such/page"]


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from fresh_page(browser, viewport=PHONE)


def assert_no_sideways_scroll(page: Page, where: str) -> None:
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " wide: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right >"
        " window.innerWidth + 0.5 && getComputedStyle(e).position !== 'fixed' && !e.closest('.table-scroll'))"
        ".slice(0, 5).map((e) => e.className || e.tagName)})"
    )
    wide = widths["wide"]
    assert widths["scroll"] <= widths["inner"], f"{where}: page is {widths['scroll']} px wide: {wide}"


def controls_outside_viewport(page: Page, selector: str) -> list[str]:
    return page.evaluate(
        """(selector) => {
          const vv = window.visualViewport;
          const width = vv ? vv.width : window.innerWidth;
          const height = vv ? vv.height : window.innerHeight;
          return [...document.querySelectorAll(selector)].filter((el) => {
            const r = el.getBoundingClientRect();
            return r.left < 0 || r.top < 0 || r.right > width || r.bottom > height;
          }).map((el) => el.outerHTML.slice(0, 80));
        }""",
        selector,
    )


def wait_for_page(page: Page, path: str) -> None:
    page.locator("main").wait_for()
    if path == "/":
        page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
    if path == "/processes":
        page.get_by_test_id("all-process-row").first.wait_for()
    page.wait_for_timeout(300)  # late layout: fonts, charts


def test_no_page_scrolls_sideways_on_a_phone(phone: Page, sentinel_url: str) -> None:
    for path in PAGES:
        phone.goto(f"{sentinel_url}{path}")
        wait_for_page(phone, path)
        for width in PHONE_WIDTHS:
            phone.set_viewport_size({"width": width, "height": PHONE["height"]})
            phone.wait_for_timeout(100)
            assert_no_sideways_scroll(phone, f"{path} at {width} px")
    phone.set_viewport_size(PHONE)
    phone.goto(sentinel_url)
    wait_for_page(phone, "/")
    phone.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
    phone.get_by_test_id("gpu-card").nth(3).wait_for()
    assert_no_sideways_scroll(phone, "compare view")


def test_settings_modal_fits_the_phone_screen(phone: Page, sentinel_url: str) -> None:
    phone.goto(sentinel_url)
    wait_for_page(phone, "/")
    phone.get_by_test_id("open-settings").click()
    modal = phone.get_by_test_id("settings-modal")
    modal.wait_for()
    outside = controls_outside_viewport(phone, "[data-testid=settings-modal] :is(input, button, label)")
    assert outside == [], f"Settings controls off-screen: {outside}"
    modal.get_by_label("5 s", exact=True).check()
    modal.get_by_role("button", name="Save").click()
    phone.get_by_test_id("live-indicator").filter(has_text="5 s").wait_for()


def test_navigation_takes_one_row_and_opens_as_a_menu(phone: Page, sentinel_url: str) -> None:
    phone.goto(sentinel_url)
    wait_for_page(phone, "/")
    nav = phone.get_by_role("navigation", name="Main")
    box = nav.bounding_box()
    assert box is not None and box["height"] <= 64, f"the navigation is {box} tall on a phone"
    usage = nav.get_by_role("link", name="Usage")
    assert not usage.is_visible()
    menu = nav.get_by_role("button", name="Menu")
    assert menu.get_attribute("aria-expanded") == "false"
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    usage.click()
    phone.get_by_test_id("usage-gpu-row").first.wait_for()
    assert not usage.is_visible(), "the menu stays open after choosing a page"
    assert_no_sideways_scroll(phone, "/usage after the menu")


def test_desktop_navigation_shows_its_links_without_a_menu(page: Page, sentinel_url: str) -> None:
    page.goto(sentinel_url)
    wait_for_page(page, "/")
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Usage").is_visible()
    assert not nav.get_by_role("button", name="Menu").is_visible()
