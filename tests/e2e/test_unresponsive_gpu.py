"""A GPU whose driver calls hang, as the dashboard shows it: real serve on the fake libnvidia-ml.so, real
Chromium. The other GPUs keep updating; the hung one is marked unresponsive and comes back by itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fakenvml.build import fake_nvml_env
from tests.fakenvml.fixtures import fake_nvml_path
from tests.server import running_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

__all__ = ["fake_nvml_path"]

pytestmark = pytest.mark.real_component


def test_hung_gpu_is_shown_unresponsive_and_recovers(
    page: Page, fake_nvml_path: Path, tmp_path: Path
) -> None:
    hang_file = tmp_path / "hang"  # the fake hangs GPU 1's ECC, page and row queries while it exists
    env = fake_nvml_env(fake_nvml_path, gpu_count="3", hang_gpu="1", hang_file=str(hang_file))
    env["GPU_SLOW_POLL_INTERVAL"] = "0.5"
    with running_server(["--data-dir", str(tmp_path / "data")], env=env) as url:
        page.goto(f"{url}/?gpu=1&view=single&range=1h")
        page.locator("[data-testid=live-indicator][data-state=live]").wait_for()
        page.get_by_test_id("single-gpu-title").filter(has_text="GPU 1").wait_for()
        assert page.get_by_test_id("unresponsive").count() == 0

        hang_file.touch()
        notice = page.get_by_test_id("unresponsive")
        notice.wait_for(timeout=60_000)
        assert re.search(r"since \d{1,2}:\d{2}:\d{2}", notice.inner_text())
        assert page.get_by_test_id("health-status").inner_text() == "Unresponsive"
        chips = page.get_by_test_id("compact-gpu")
        assert "unresponsive" in chips.nth(1).inner_text()
        assert "unresponsive" not in chips.nth(0).inner_text()

        hang_file.unlink()
        notice.wait_for(state="detached", timeout=60_000)
        assert page.get_by_test_id("health-status").inner_text() != "Unresponsive"
