"""Process management as an admin meets it: real Chromium, a real server on the fake NVML driver that
lists two real ``sleep`` processes as GPU processes on both GPUs."""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.e2e.conftest import fresh_page
from tests.e2e.test_accessibility import AXE, serious_violations
from tests.e2e.test_live_and_alerts import ADMIN, add_admin, sign_in
from tests.fakenvml.build import fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml_path  # noqa: F401 (a fixture)
from tests.process_actions.conftest import alive
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.real_component


class Workloads:
    """Two ``sleep`` children, each reaped the moment it exits (as its real parent would), so an exited
    one leaves no zombie for the driver's process list."""

    def __init__(self) -> None:
        self.children = [subprocess.Popen(["sleep", "600"]) for _ in range(2)]
        for child in self.children:
            threading.Thread(target=child.wait, daemon=True).start()

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)


@pytest.fixture(scope="module")
def workloads() -> Iterator[Workloads]:
    running = Workloads()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    fake_nvml_path: Path,  # noqa: F811
    workloads: Workloads,
) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("sentinel-processes")
    add_admin(data_dir)
    pids = ",".join(str(child.pid) for child in workloads.children)
    env = fake_nvml_env(fake_nvml_path, gpu_count="2", pids=pids)
    args = ["--data-dir", str(data_dir), "--rate-limit", "0", "--slow-poll-interval", "0.5"]
    with running_server(args, env=env) as url:
        yield url


def wait_for_history(url: str, pid: int) -> None:
    """The process's first minute reaches the history database about a second after it is sampled."""
    deadline = time.monotonic() + 30
    while not httpx.get(f"{url}/api/v1/history/processes/{pid}", params={"range": "1h"}).json()["series"]:
        assert time.monotonic() < deadline, f"PID {pid} never reached the history"
        time.sleep(0.2)


def test_an_admin_terminates_a_gpu_process_after_confirming_and_the_audit_trail_shows_it(
    page: Page, server: str, workloads: Workloads
) -> None:
    victim, survivor = (child.pid for child in workloads.children)
    page.goto(server + "/processes")
    rows = page.get_by_test_id("all-process-row")
    page.locator(f"[data-testid=all-process-row][data-pid='{victim}']").first.wait_for()
    assert rows.count() == 4  # two processes on each of two GPUs
    assert page.get_by_test_id("terminate-process").count() == 0  # anonymous readers cannot act

    page.get_by_test_id("sign-in").click()
    sign_in(page)
    page.get_by_test_id("alerts-page").wait_for()
    page.get_by_role("link", name="Processes").click()
    page.get_by_test_id("process-search").fill(str(victim))
    assert rows.count() == 2
    victim_row = page.locator(f"[data-testid=all-process-row][data-pid='{victim}']").first
    victim_row.get_by_test_id("terminate-process").click()

    dialog = page.get_by_test_id("process-action-dialog")
    assert re.search(rf"Terminate sleep \(PID {victim}\)\?", dialog.inner_text())
    assert dialog.get_by_test_id("confirm-user").inner_text() == "root"
    assert dialog.get_by_test_id("confirm-gpu").inner_text() in ("0", "1")
    assert alive(workloads.children[0])  # nothing is signalled before the confirmation
    dialog.get_by_test_id("confirm-process-action").click()

    page.locator(f"[data-testid=all-process-row][data-pid='{victim}']").first.wait_for(state="detached")
    assert workloads.children[0].wait(timeout=10) == -signal.SIGTERM
    result = page.get_by_test_id("process-action-result")
    result.filter(has_text=f"sleep (PID {victim}) terminated").wait_for()
    entry = page.get_by_test_id("process-action-entry").first
    entry.wait_for()
    text = entry.inner_text()
    assert all(part in text for part in (ADMIN, "terminate", "sleep", str(victim), "terminated"))

    page.get_by_test_id("process-search").fill("")
    assert page.locator(f"[data-testid=all-process-row][data-pid='{survivor}']").count() == 2
    assert alive(workloads.children[1])


def test_selecting_a_process_shows_its_memory_and_utilization_over_time(
    page: Page, server: str, workloads: Workloads
) -> None:
    pid = workloads.children[1].pid
    wait_for_history(server, pid)
    page.goto(server)
    page.get_by_test_id("single-view").wait_for()
    page.keyboard.press("p")  # the shortcut to this page
    page.get_by_test_id("processes-page").wait_for()
    row = page.locator(f"[data-testid=all-process-row][data-pid='{pid}']").first
    row.get_by_test_id("select-process").click()

    detail = page.get_by_test_id("process-detail")
    assert f"PID {pid}" in detail.get_by_role("heading").first.inner_text()
    detail.get_by_test_id("process-live-memory").locator("canvas").first.wait_for()
    detail.get_by_test_id("process-live-utilization").locator("canvas").first.wait_for()
    history = detail.locator("[data-testid=process-history]:not([data-points='0'])")
    history.wait_for()
    if history.get_attribute("data-points") == "1":  # a server started this minute has one point so far
        first = detail.get_by_test_id("process-history-first-minute").inner_text()
        assert re.search(r"peak GPU memory \d+\.\d\d GiB, SM share \d+\.\d %", first)
    else:
        detail.get_by_test_id("process-chart-memory").locator("canvas").first.wait_for()
        detail.get_by_test_id("process-chart-utilization").locator("canvas").first.wait_for()


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    """axe is injected as an inline script, which the service's CSP forbids: this context lifts it."""
    yield from fresh_page(browser, bypass_csp=True, reduced_motion="reduce")


def test_the_admin_view_of_a_process_and_its_confirmation_pass_axe(
    axe_page: Page, server: str, workloads: Workloads
) -> None:
    page, pid = axe_page, workloads.children[1].pid
    page.goto(server + "/login")
    sign_in(page)
    page.get_by_test_id("alerts-page").wait_for()
    page.get_by_role("link", name="Processes").click()
    row = page.locator(f"[data-testid=all-process-row][data-pid='{pid}']").first
    row.get_by_test_id("select-process").click()
    page.get_by_test_id("process-live-memory").locator("canvas").first.wait_for()
    assert serious_violations(page, AXE) == []

    row.get_by_test_id("pause-process").click()
    dialog = page.get_by_role("alertdialog", name=f"Pause sleep (PID {pid})?")
    dialog.wait_for()
    assert serious_violations(page, AXE) == []
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")
    assert alive(workloads.children[1])
