"""MIG on the dashboard: real serve on the fake libnvidia-ml.so with GPU 0 in MIG mode (three MIG devices),
real Chromium. The instances sit inside GPU 0's card and in a panel of its single view; what NVML cannot
report under MIG reads N/A; the process table says which instance each process runs on."""

from __future__ import annotations

import os
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

PROFILES = ["3g.40gb", "2g.20gb", "1g.10gb"]


def test_mig_instances_show_in_the_card_and_the_single_view(
    page: Page, fake_nvml_path: Path, tmp_path: Path
) -> None:
    env = fake_nvml_env(
        fake_nvml_path, gpu_count="2", mig="0:" + "/".join(PROFILES), pids=f"{os.getpid()},{os.getppid()}"
    )
    with running_server(["--data-dir", str(tmp_path / "data")], env=env) as url:
        page.goto(f"{url}/?view=compare&range=1h")
        cards = page.get_by_test_id("gpu-card")
        cards.nth(1).wait_for()
        mig_card = cards.nth(0)
        mig_card.get_by_test_id("mig-instance").nth(2).wait_for()
        assert mig_card.get_by_test_id("mig-profile").all_inner_texts() == PROFILES
        assert cards.nth(1).get_by_test_id("mig-instance").count() == 0
        # SM activity arrives once each instance has a GPM interval: 30 + its GPU-instance id.
        sm = mig_card.get_by_test_id("mig-sm-active").nth(0)
        page.wait_for_function("(el) => el.textContent.includes('31')", arg=sm.element_handle())
        assert "N/A" in mig_card.inner_text()  # GPU utilization under MIG

        page.goto(f"{url}/?gpu=0&view=single&range=1h")
        panel = page.get_by_test_id("panel-mig")
        panel.get_by_test_id("mig-instance").nth(2).wait_for()
        assert panel.get_by_test_id("mig-profile").all_inner_texts() == PROFILES
        assert panel.get_by_test_id("mig-processes").all_inner_texts() == [
            "1 process",
            "1 process",
            "0 processes",
        ]
        page.get_by_test_id("process-mig").nth(1).wait_for()
        assert sorted(page.get_by_test_id("process-mig").all_inner_texts()) == ["GI 1 · CI 0", "GI 2 · CI 0"]

        page.goto(f"{url}/?gpu=1&view=single&range=1h")
        page.get_by_test_id("single-gpu-title").filter(has_text="GPU 1").wait_for()
        page.get_by_test_id("process-row").first.wait_for()
        assert page.get_by_test_id("panel-mig").count() == 0
        assert page.get_by_test_id("process-mig").count() == 0
