"""Signals sent through a pidfd, so that once the target's start time is checked, no later process that
reuses its PID can receive them; exit is awaited by polling the pidfd, never by sleeping."""

from __future__ import annotations

import os
import select
import signal
import time
from types import TracebackType

import psutil

from gpu_sentinel.process_actions.errors import ProcessChangedError, ProcessGoneError, SignalRefusedError

START_TIME_TOLERANCE_S = 0.01
"""Start times come from /proc/<pid>/stat in clock ticks (10 ms); the same process reads the same."""


def start_time(pid: int) -> float | None:
    """When ``pid`` started, Unix seconds (psutil reads /proc/<pid>/stat), or None if it is gone."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return None


class ProcessHandle:
    """One process, pinned by a pidfd opened before its identity is checked."""

    def __init__(self, pid: int, started_at: float) -> None:
        self.pid = pid
        try:
            self._fd = os.pidfd_open(pid)
        except ProcessLookupError as error:
            raise ProcessGoneError(f"PID {pid} has already exited") from error
        now_started = start_time(pid)
        if now_started is None:
            os.close(self._fd)
            raise ProcessGoneError(f"PID {pid} has already exited")
        if abs(now_started - started_at) > START_TIME_TOLERANCE_S:
            os.close(self._fd)
            raise ProcessChangedError(
                f"PID {pid} now belongs to another process (started {_iso(now_started)}, the GPU process "
                f"started {_iso(started_at)}): the GPU process has exited and its PID was reused"
            )

    def __enter__(self) -> ProcessHandle:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        os.close(self._fd)

    def send(self, sig: signal.Signals) -> None:
        """Raise ``ProcessGoneError`` (ESRCH) or ``SignalRefusedError`` (EPERM) when the OS refuses."""
        try:
            signal.pidfd_send_signal(self._fd, sig)
        except ProcessLookupError as error:
            raise ProcessGoneError(f"PID {self.pid} has already exited") from error
        except PermissionError as error:
            raise SignalRefusedError(
                f"The operating system refused to send {sig.name} to PID {self.pid} (EPERM): this service "
                f"runs as {_account()} and may not signal another user's process; run it as that user or "
                "with CAP_KILL"
            ) from error

    def wait_exit(self, timeout_s: float) -> bool:
        """True once the process has exited (a zombie counts), False if it still runs after ``timeout_s``."""
        poller = select.poll()
        poller.register(self._fd, select.POLLIN)
        deadline = time.monotonic() + timeout_s
        while True:
            remaining_ms = max(0, int((deadline - time.monotonic()) * 1000))
            try:
                if poller.poll(remaining_ms):
                    return True
            except InterruptedError:
                pass
            if time.monotonic() >= deadline:
                return False


def _account() -> str:
    uid = os.geteuid()
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))
