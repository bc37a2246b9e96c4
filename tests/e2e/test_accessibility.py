"""axe-core (the npm package the dashboard's build installs) finds no serious or critical violation on any
page, in either theme, at desktop and phone sizes."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import VIEWPORT, wait_for_usage

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.real_component

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
PAGES = ["/", "/?compare", "/processes", "/usage", "/alerts", "/login", "/no/such/page"]


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run npm ci in web/")
    return AXE


@pytest.fixture(params=["dark", "light"])
def theme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["desktop", "phone"])
def themed_page(request: pytest.FixtureRequest, browser: Browser, theme: str) -> Iterator[Page]:
    viewport = VIEWPORT if request.param == "desktop" else PHONE
    # The service's CSP forbids inline scripts, which is how axe is injected: this context alone lifts it.
    context = browser.new_context(
        viewport=viewport, color_scheme=theme, reduced_motion="reduce", bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def open_page(page: Page, url: str, path: str) -> None:
    if path == "/usage":
        wait_for_usage(url)
    page.goto(url + ("/" if path == "/?compare" else path))
    page.locator("main").wait_for()
    if path in ("/", "/?compare"):
        page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
        if path == "/?compare":
            page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
            page.get_by_test_id("gpu-card").first.wait_for()
        else:
            page.get_by_test_id("single-view").wait_for()
    elif path == "/usage":
        page.get_by_test_id("usage-gpu-row").first.wait_for()
    elif path == "/processes":
        page.get_by_test_id("all-process-row").first.wait_for()
    page.wait_for_timeout(300)


def serious_violations(page: Page, axe_script: Path) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(axe_script))
    result = page.evaluate("() => axe.run(document, { resultTypes: ['violations'] })")
    return [
        {
            "rule": violation["id"],
            "impact": violation["impact"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
            "summary": violation["nodes"][0]["failureSummary"][:300],
        }
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_no_serious_accessibility_violations(
    themed_page: Page, theme: str, sentinel_url: str, axe_script: Path
) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in PAGES:
        open_page(themed_page, sentinel_url, path)
        if themed_page.evaluate("document.documentElement.dataset.theme") != theme:
            themed_page.get_by_test_id("theme-toggle").dispatch_event("click")
        violations = serious_violations(themed_page, axe_script)
        if violations:
            found[path] = violations
    assert found == {}, json.dumps(found, indent=1)


def test_compare_cards_expose_their_values_and_open_from_the_keyboard(page: Page, sentinel_url: str) -> None:
    open_page(page, sentinel_url, "/?compare")
    card = page.get_by_role("article", name=re.compile(r"^GPU 0 · "))
    # What assistive technology gets for the card: its values, not only a name.
    tree = card.aria_snapshot()
    assert re.search(r"\d+(\.\d)?\s*%", tree), tree
    assert re.search(r"\d+\s*°C", tree), tree
    assert re.search(r"\d+\s*W", tree), tree
    card.get_by_role("button", name=re.compile(r"^GPU 0 · ")).press("Enter")
    page.get_by_test_id("single-gpu-title").filter(has_text="GPU 0").wait_for()


def test_heading_levels_never_skip(page: Page, sentinel_url: str) -> None:
    for path in PAGES:
        open_page(page, sentinel_url, path)
        levels = page.evaluate(
            "[...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].filter((h) => h.offsetParent !== null)"
            ".map((h) => Number(h.tagName[1]))"
        )
        assert levels and levels[0] == 1, f"{path}: headings start at h{levels[:1]}"
        skips = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
        assert skips == [], f"{path}: heading levels skip {skips} in {levels}"
        assert page.locator("main").count() == 1, f"{path}: no main landmark"


def test_the_layout_editor_has_no_serious_violations_and_fits_a_phone(
    themed_page: Page, theme: str, sentinel_url: str, axe_script: Path
) -> None:
    open_page(themed_page, sentinel_url, "/")
    if themed_page.evaluate("document.documentElement.dataset.theme") != theme:
        themed_page.get_by_test_id("theme-toggle").dispatch_event("click")
    themed_page.get_by_test_id("edit-layout").click()
    themed_page.get_by_test_id("hide-fan").click()
    themed_page.get_by_test_id("show-panel-fan").wait_for()
    violations = serious_violations(themed_page, axe_script)
    assert violations == [], json.dumps(violations, indent=1)
    assert themed_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
