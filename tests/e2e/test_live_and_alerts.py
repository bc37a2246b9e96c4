"""Live stream, sign-in and the alerts page, as a person uses them: real Chromium, real server."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.server import running_server, sentinel_command

if TYPE_CHECKING:
    from playwright.sync_api import Page, WebSocket

pytestmark = pytest.mark.real_component

NUMBER = re.compile(r"\d")
ADMIN = "admin"
ADMIN_PASSWORD = "correct horse battery"


def add_admin(data_dir: Path) -> None:
    """The documented way to create a user: ``gpu-sentinel user add ... --password-stdin``."""
    subprocess.run(
        [
            *sentinel_command(),
            "user",
            "add",
            ADMIN,
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(data_dir),
        ],
        input=ADMIN_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


def admin_token(url: str) -> str:
    response = httpx.post(f"{url}/api/v1/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


def sign_in(page: Page, password: str = ADMIN_PASSWORD) -> None:
    form = page.get_by_test_id("login-form")
    form.get_by_label("User name").fill(ADMIN)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def expect_stream(page: Page) -> None:
    page.locator("[data-testid=live-indicator][data-state=live][data-transport=stream]").wait_for()


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Anonymous reads (loopback) plus an admin who may change alerting. The browser and the test's own
    requests share one client address here, so the per-address rate limit (tested on its own) is off."""
    data_dir = tmp_path_factory.mktemp("sentinel-admin")
    add_admin(data_dir)
    args = ["--simulate", "4", "--seed", "5", "--data-dir", str(data_dir), "--rate-limit", "0"]
    with running_server(args) as url:
        yield url


def test_dashboard_receives_live_data_over_the_stream(page: Page, sentinel_url: str) -> None:
    frames: list[str] = []
    urls: list[str] = []

    def watch(socket: WebSocket) -> None:
        if "/api/v1/stream" in socket.url:
            urls.append(socket.url)
            socket.on("framereceived", lambda payload: frames.append(str(payload)[:20]))

    page.on("websocket", watch)
    page.goto(sentinel_url)
    expect_stream(page)
    assert page.get_by_test_id("live-indicator").inner_text().startswith("Live · stream")

    # Values change while only the stream (plus its slow side poll) feeds the page, in incremental
    # mode: one full frame, then deltas only, each applied to the last (no resync needed). The value is
    # read once a delta has arrived, so the change seen next is a delta's, not the first full frame's.
    def kinds() -> list[str]:
        return [frame.removeprefix('{"type":"').split('"')[0] for frame in frames]

    deadline = time.monotonic() + 30
    while "delta" not in kinds():
        assert time.monotonic() < deadline, f"no delta frame arrived, only {kinds()}"
        page.wait_for_timeout(100)  # lets Playwright deliver the socket's frame events
    power = page.get_by_test_id("gpu-power")
    first = power.inner_text()
    page.wait_for_function(
        "(first) => document.querySelector('[data-testid=gpu-power]').innerText !== first", arg=first
    )
    assert len(urls) == 1 and "mode=delta" in urls[0]
    assert kinds()[0] == "snapshot" and kinds().count("snapshot") == 1
    assert NUMBER.search(page.get_by_test_id("gpu-utilization").inner_text())


def test_without_anonymous_reads_the_login_page_guards_the_dashboard(page: Page, tmp_path: Path) -> None:
    add_admin(tmp_path)
    args = ["--simulate", "4", "--seed", "3", "--data-dir", str(tmp_path), "--no-anonymous-read"]
    with running_server(args) as url:
        page.goto(url)
        page.get_by_test_id("login-page").wait_for()
        sign_in(page, password="wrong password")
        page.get_by_test_id("login-error").wait_for()

        sign_in(page)
        page.get_by_test_id("single-view").wait_for()
        expect_stream(page)  # the socket carries the token too
        assert NUMBER.search(page.get_by_test_id("gpu-utilization").inner_text())
        assert page.get_by_test_id("session-user").inner_text().startswith(ADMIN)

        page.reload()  # the session survives a reload
        page.get_by_test_id("single-view").wait_for()
        page.get_by_test_id("sign-out").click()
        page.get_by_test_id("login-page").wait_for()


def test_an_admin_creates_an_alert_rule_from_the_ui(page: Page, admin_server: str) -> None:
    page.goto(admin_server + "/alerts")
    page.get_by_test_id("rule-row").first.wait_for()
    assert page.get_by_test_id("new-rule").count() == 0  # anonymous readers cannot edit

    page.get_by_test_id("sign-in").click()
    sign_in(page)
    page.get_by_test_id("alerts-page").wait_for()
    page.get_by_test_id("new-rule").click()
    editor = page.get_by_test_id("rule-editor")
    editor.get_by_label("Name").fill("GPU melting")
    editor.get_by_label("Threshold", exact=True).fill("")
    editor.get_by_test_id("save-rule").click()
    editor.get_by_test_id("rule-error-threshold").wait_for()  # checked before it is sent

    editor.get_by_label("Metric").select_option("gpu.temperature_c")
    editor.get_by_label("Condition").select_option(">=")
    editor.get_by_label("Threshold", exact=True).fill("150")
    editor.get_by_label("For", exact=True).fill("2m")
    editor.get_by_label("Severity").select_option("critical")
    editor.get_by_test_id("save-rule").click()
    page.locator("[data-testid=rule-row][data-rule-id=gpu-melting]").wait_for()

    rules = {rule["id"]: rule for rule in httpx.get(f"{admin_server}/api/v1/alerts/rules").json()}
    rule = rules["gpu-melting"]
    assert (rule["metric"], rule["condition"], rule["threshold"]) == ("gpu.temperature_c", ">=", 150.0)
    assert (rule["for_s"], rule["severity"], rule["scope"]) == (120.0, "critical", "all_gpus")


def test_a_firing_rule_shows_as_an_active_alert_with_a_toast_and_badge(page: Page, admin_server: str) -> None:
    page.goto(admin_server)
    expect_stream(page)
    # The stream stays open across pages: alert events reach the alerts page too.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    page.get_by_test_id("alerts-page").wait_for()
    token = admin_token(admin_server)
    response = httpx.post(
        f"{admin_server}/api/v1/alerts/rules",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "id": "always-warm",
            "name": "Always warm",
            "metric": "gpu.temperature_c",
            "condition": ">",
            "threshold": 0,
            "for": 0,
            "severity": "warning",
        },
    )
    assert response.status_code == 201, response.text
    # The stream's alert event raises a toast; the active list and the badge follow.
    page.locator("[data-testid=alert-toast][data-status=firing]").first.wait_for()
    page.locator("[data-testid=active-alert][data-alert-id='always-warm:gpu0'][data-state=firing]").wait_for()
    badge = page.get_by_role("navigation", name="Main").get_by_test_id("nav-badge")
    badge.wait_for()
    assert int(badge.inner_text()) >= 4
