"""Watching the dashboard stays cheap: only compositor-friendly animations, none endless, none when the
user asks for reduced motion."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import VIEWPORT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.real_component

# Every running animation or transition on the page: what it animates and whether it never ends.
ANIMATIONS = """() => document.getAnimations().map((a) => ({
  property: a.transitionProperty ?? a.animationName ?? 'script',
  endless: a.effect?.getComputedTiming().iterations === Infinity,
}))"""


def watch_animations(page: Page, updates: int) -> list[dict[str, object]]:
    """Samples the running animations across several live updates (each changes bars and numbers)."""
    seen: list[dict[str, object]] = []
    for _ in range(updates):
        page.wait_for_timeout(120)
        seen.extend(page.evaluate(ANIMATIONS))
    return seen


def open_compare_view(browser: Browser, url: str, reduced_motion: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark", reduced_motion=reduced_motion)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(url)
    page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
    page.get_by_test_id("view-mode-toggle").get_by_role("button", name="Compare").click()
    page.get_by_test_id("gpu-card").nth(3).wait_for()
    return page


def test_live_view_animates_only_transforms_never_endlessly(browser: Browser, sentinel_url: str) -> None:
    page = open_compare_view(browser, sentinel_url, "no-preference")
    try:
        seen = watch_animations(page, 25)
    finally:
        page.context.close()
    assert any(item["property"] == "transform" for item in seen), "the bars no longer move smoothly"
    assert [item for item in seen if item["endless"]] == []
    assert {str(item["property"]) for item in seen} <= {"transform", "opacity"}


def test_reduced_motion_stops_every_animation(browser: Browser, sentinel_url: str) -> None:
    page = open_compare_view(browser, sentinel_url, "reduce")
    try:
        assert watch_animations(page, 25) == []
    finally:
        page.context.close()
