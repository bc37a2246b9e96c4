"""Runs the real ``gpu-sentinel`` command as a user would, without a terminal, for error-path tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.server import sentinel_command

# Settings a developer's shell might carry that would change what these commands see.
CLEARED = ("DATABASE_URL", "ALERT_RULES_FILE", "GPU_SENTINEL_PORT", "GPU_SENTINEL_DATA_DIR", "LOG_FILE")


def run_cli(
    args: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in CLEARED}
    environment.update(env or {})
    return subprocess.run(
        [*sentinel_command(), *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed with the usage status and exactly one line on stderr (no traceback)."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]
