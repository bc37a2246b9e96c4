"""Real headless Chromium (Debian's package, driven by Playwright) against a real ``gpu-sentinel serve``.

Skips on a developer machine without Chromium, Playwright or a built dashboard; fails under CI=true.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from gpu_sentinel.api.spa import DEFAULT_WEB_DIR
from tests.conftest import require_component
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1440, "height": 900}


def launch_chromium() -> Iterator[Browser]:
    """Chromium as every browser test and benchmark launches it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def require_browser() -> None:
    """Skip without Chromium, Playwright or a built dashboard (fail under CI=true)."""
    require_component(CHROMIUM.is_file(), f"Chromium ({CHROMIUM}; apt-get install chromium)")
    require_component(importlib.util.find_spec("playwright") is not None, "the playwright Python package")
    require_component(
        (DEFAULT_WEB_DIR / "index.html").is_file(),
        f"the built dashboard ({DEFAULT_WEB_DIR}; pip install -e . or npm run build in web/)",
    )


def fresh_page(browser: Browser, **context_options: Any) -> Iterator[Page]:
    """A page in a fresh browser context (empty localStorage) that fails the test on any uncaught page
    error; ``context_options`` go to ``new_context`` (viewport, colour scheme, ...)."""
    context = browser.new_context(**{"viewport": VIEWPORT, "color_scheme": "dark", **context_options})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def wait_for_usage(url: str) -> None:
    """The usage page lists GPUs once history holds a first minute; a server just started may not yet."""
    deadline = time.monotonic() + 30
    while not httpx.get(f"{url}/api/v1/history/usage", params={"range": "1h"}, timeout=10).json()["gpus"]:
        assert time.monotonic() < deadline, "history never recorded any usage"
        time.sleep(0.2)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from fresh_page(browser)


@pytest.fixture(scope="module")
def sentinel_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One ``gpu-sentinel serve --simulate 4`` for the module's read-only tests."""
    data_dir = tmp_path_factory.mktemp("sentinel-data")
    with running_server(["--simulate", "4", "--seed", "3", "--data-dir", str(data_dir)]) as url:
        yield url


E2E_DIR = Path(__file__).parent
BROWSER_RERUNS = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test that fails runs once more before it counts, as Playwright advises for CI: a real
    browser on a loaded machine can miss a frame. A rerun shows as R in the report and its summary."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.flaky(reruns=BROWSER_RERUNS))
