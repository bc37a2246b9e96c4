"""The pidfd handle on its own: a process that has exited, and one whose start time differs."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

from gpu_sentinel.process_actions.errors import ProcessChangedError, ProcessGoneError
from gpu_sentinel.process_actions.signals import ProcessHandle, start_time

Spawn = Callable[..., subprocess.Popen[bytes]]


def test_a_process_that_has_exited_is_gone(spawn: Spawn) -> None:
    child = spawn()
    started = start_time(child.pid)
    assert started is not None
    child.kill()
    child.wait(timeout=10)

    with pytest.raises(ProcessGoneError, match=f"PID {child.pid} has already exited"):
        ProcessHandle(child.pid, started)


def test_a_pid_whose_process_started_at_another_time_is_refused(spawn: Spawn) -> None:
    child = spawn()
    started = start_time(child.pid)
    assert started is not None

    with pytest.raises(ProcessChangedError, match="its PID was reused"):
        ProcessHandle(child.pid, started + 5)
    with ProcessHandle(child.pid, started) as handle:
        assert not handle.wait_exit(0.05)
        child.terminate()
        assert handle.wait_exit(10)
