"""When process actions are on: by default only where the service is reachable from this host alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpu_sentinel.config import Settings
from gpu_sentinel.process_actions.control import actions_enabled


@pytest.mark.parametrize(
    ("host", "setting", "enabled"),
    [
        ("127.0.0.1", None, True),
        ("localhost", None, True),
        ("::1", None, True),
        ("0.0.0.0", None, False),
        ("10.1.2.3", None, False),
        ("0.0.0.0", True, True),
        ("127.0.0.1", False, False),
    ],
)
def test_actions_are_off_by_default_beyond_loopback(
    tmp_path: Path, host: str, setting: bool | None, enabled: bool
) -> None:
    settings = Settings(data_dir=tmp_path, host=host, process_actions=setting)
    assert actions_enabled(settings) is enabled


def test_the_setting_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GPU_SENTINEL_PROCESS_ACTIONS", "true")
    monkeypatch.setenv("GPU_SENTINEL_PROCESS_TERMINATE_GRACE_S", "12.5")
    settings = Settings(data_dir=tmp_path, host="0.0.0.0")
    assert actions_enabled(settings) and settings.process_terminate_grace_s == 12.5
