"""The dashboard's service worker in real Chromium against a real server: it installs and controls the
page, opens the cached app shell while the server is down, never answers API requests from a cache,
says the server is unreachable when it has nothing cached, and shows alert notifications."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from gpu_sentinel.api.spa import DEFAULT_WEB_DIR
from tests.e2e.conftest import fresh_page
from tests.e2e.test_live_and_alerts import add_admin, admin_token, expect_stream
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
CACHED_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""


NOTIFICATION_TITLES = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return (await registration.getNotifications()).map((notification) => notification.title);
}"""


def evaluate_until(page: Page, script: str, done: Callable[[Any], bool], timeout_s: float = 15) -> Any:
    """``script``'s answer once ``done`` accepts it (or the last one after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = page.evaluate(script)
        if done(answer) or time.monotonic() > deadline:
            return answer
        page.wait_for_timeout(200)


def controlled_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_function(CONTROLLED)
    expect_stream(page)


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("sentinel-sw")
    add_admin(data_dir)
    args = ["--simulate", "2", "--seed", "4", "--data-dir", str(data_dir), "--rate-limit", "0"]
    with running_server(args) as url:
        yield url


def test_the_worker_controls_the_page_and_serves_the_shell_but_never_the_api(
    page: Page, admin_server: str
) -> None:
    controlled_page(page, admin_server)
    cached = page.evaluate(CACHED_URLS)
    assert "/" in cached and any(path.startswith("/assets/index-") for path in cached)
    responses: list[Response] = []

    def record(response: Response) -> None:  # Playwright needs a Python function, not a bound builtin
        responses.append(response)

    page.on("response", record)
    page.reload()
    expect_stream(page)
    page.get_by_test_id("gpu-power").wait_for()
    by_kind = {
        "api": [r for r in responses if "/api/" in r.url],
        "asset": [r for r in responses if "/assets/" in r.url],
    }
    assert by_kind["api"] and not [r.url for r in by_kind["api"] if r.from_service_worker]
    assert by_kind["asset"] and all(r.from_service_worker for r in by_kind["asset"])
    assert not [path for path in page.evaluate(CACHED_URLS) if path.startswith("/api/")]
    worker = httpx.get(f"{admin_server}/sw.js")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["content-type"].startswith("text/javascript")


def test_a_new_version_takes_over_and_offers_a_reload(page: Page, admin_server: str) -> None:
    controlled_page(page, admin_server)
    worker = DEFAULT_WEB_DIR / "sw.js"
    original = worker.read_text()
    version = re.search(r'^const VERSION = "(\w+)";$', original, re.MULTILINE)
    assert version is not None
    deployed = original.replace(version.group(0), 'const VERSION = "0123456789abcdef";', 1)
    try:
        worker.write_text(deployed)  # what an upgrade does: a new build, a new worker script
        page.evaluate("async () => { await (await navigator.serviceWorker.ready).update(); }")
        page.get_by_test_id("update-prompt").wait_for()
        # The new worker cached its own shell and drops the old one as it activates.
        new_cache = ["gpu-sentinel-shell-0123456789abcdef"]
        assert evaluate_until(page, "() => caches.keys()", new_cache.__eq__) == new_cache
        page.get_by_test_id("update-prompt").get_by_role("button", name="Reload").click()
        expect_stream(page)
        assert page.get_by_test_id("update-prompt").count() == 0
    finally:
        worker.write_text(original)


def test_alert_notifications_go_through_the_worker(browser: Browser, admin_server: str) -> None:
    for page in fresh_page(browser, permissions=["notifications"]):
        controlled_page(page, admin_server)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
        page.get_by_test_id("notifications-toggle").check()
        response = httpx.post(
            f"{admin_server}/api/v1/alerts/rules",
            headers={"Authorization": f"Bearer {admin_token(admin_server)}"},
            json={
                "id": "sw-warm",
                "name": "Worker warm",
                "metric": "gpu.temperature_c",
                "condition": ">",
                "threshold": 0,
                "for": 0,
                "severity": "warning",
            },
        )
        assert response.status_code == 201, response.text
        # Shown by registration.showNotification: the worker's registration lists it.
        titles = evaluate_until(
            page, NOTIFICATION_TITLES, lambda titles: any("Worker warm" in t for t in titles)
        )
        assert any(title.startswith("Firing: Worker warm on GPU") for title in titles)


def test_with_the_server_stopped_the_cached_shell_opens_and_says_so(browser: Browser, tmp_path: Path) -> None:
    for page in fresh_page(browser):
        with running_server(["--simulate", "1", "--data-dir", str(tmp_path)]) as url:
            controlled_page(page, url)
        # The server is gone. Chromium's own error page would say ERR_CONNECTION_REFUSED; the worker
        # opens the dashboard instead, which says what is wrong and keeps trying.
        page.reload()
        page.locator("[data-testid=error-banner][data-error-type=unreachable]").wait_for()
        assert page.get_by_role("navigation", name="Main").is_visible()
        api_answer = page.evaluate(
            "() => fetch('/api/v1/health').then((r) => 'answered ' + r.status, () => 'failed')"
        )
        assert api_answer == "failed", "an API request must never come from a cache"
        # With no cached shell either, the worker's own page says the server is unreachable.
        page.evaluate("async () => { for (const name of await caches.keys()) await caches.delete(name); }")
        page.goto(url + "/alerts")
        assert page.get_by_test_id("offline-message").is_visible()
        assert "server unreachable" in page.title()
