"""Which GPU processes an admin may signal, and how: the policy checks, the signals and the audit record.

Requests hand work to ``ProcessControl.perform`` from the API's thread pool; it holds no mutable state
besides the audit file, which ``ActionLog`` serialises.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

import psutil

from gpu_sentinel.auth.policy import is_loopback
from gpu_sentinel.config import Settings
from gpu_sentinel.process_actions.audit import AUDIT_FILE, ActionLog, ActionRecord
from gpu_sentinel.process_actions.errors import (
    NotAGPUProcessError,
    ProcessActionError,
    ProcessActionsDisabledError,
    ProcessChangedError,
    ProcessGoneError,
    ProtectedProcessError,
)
from gpu_sentinel.process_actions.signals import ProcessHandle
from gpu_sentinel.snapshot import GPUProcess, Snapshot

ProcessAction = Literal["terminate", "pause", "resume"]
ACTIONS: tuple[ProcessAction, ...] = get_args(ProcessAction)
KILL_WAIT_S = 2.0
"""How long to wait for the process to vanish after SIGKILL (it cannot refuse, but exit takes a moment)."""


@dataclass(frozen=True, slots=True)
class Target:
    """A process as the latest snapshot saw it, on every GPU where it holds a context."""

    pid: int
    name: str
    user: str | None
    started_at: float | None
    gpu_ids: list[int]


def actions_enabled(settings: Settings) -> bool:
    """Off unless asked for where the service is reachable from the network; on by default on loopback."""
    if settings.process_actions is not None:
        return settings.process_actions
    return is_loopback(settings.host)


def find_target(snapshot: Snapshot, pid: int, gpu_id: int | None) -> Target:
    found: list[tuple[int, GPUProcess]] = [
        (sample.index, process)
        for sample in snapshot.gpus
        for process in sample.processes
        if process.pid == pid and (gpu_id is None or sample.index == gpu_id)
    ]
    if not found:
        where = "any GPU" if gpu_id is None else f"GPU {gpu_id}"
        raise NotAGPUProcessError(
            f"PID {pid} holds no context on {where} in the latest sample; only GPU processes can be signalled"
        )
    first = found[0][1]
    gpu_ids = sorted({index for index, _ in found})
    return Target(pid, first.name, first.user, first.started_at, gpu_ids)


def protected_reason(pid: int) -> str | None:
    """Why ``pid`` must never be signalled, or None."""
    if pid == 1:
        return "PID 1 is the init process of this host or container and is never signalled"
    own = os.getpid()
    if pid == own:
        return f"PID {pid} is this GPU Sentinel service and is never signalled"
    try:
        ancestors = psutil.Process(own).parents()
    except psutil.Error:
        ancestors = []
    for ancestor in ancestors:
        if ancestor.pid == pid:
            return f"PID {pid} is a parent of this GPU Sentinel service and is never signalled"
    return None


class ProcessControl:
    """Terminates, pauses and resumes GPU processes for admins, and records every attempt."""

    def __init__(self, settings: Settings, latest: Callable[[], Snapshot | None]) -> None:
        self.enabled = actions_enabled(settings)
        self.grace_s = settings.process_terminate_grace_s
        self.log = ActionLog(settings.data_dir / AUDIT_FILE)
        self._latest = latest

    def perform(
        self, action: ProcessAction, pid: int, *, user: str | None, client: str | None, gpu_id: int | None
    ) -> ActionRecord:
        """Do ``action`` to ``pid`` and return the audit record; raise a ``ProcessActionError`` (recorded
        too, once the target is known to be asked about by an admin) when it is refused."""
        if not self.enabled:
            raise ProcessActionsDisabledError()
        snapshot = self._latest()
        target: Target | None = None
        try:
            if snapshot is None:
                raise NotAGPUProcessError("No sample has been taken yet; retry in a moment")
            target = find_target(snapshot, pid, gpu_id)
            reason = protected_reason(pid)
            if reason is not None:
                raise ProtectedProcessError(reason)
            outcome = self._signal(action, target)
        except ProcessActionError as error:
            failed = self._record(
                action, pid, target, user=user, client=client, outcome=error.outcome, detail=error.detail
            )
            self.log.append(failed)
            raise
        detail = _DETAILS[outcome](self.grace_s)
        record = self._record(action, pid, target, user=user, client=client, outcome=outcome, detail=detail)
        self.log.append(record)
        return record

    def _signal(self, action: ProcessAction, target: Target) -> str:
        if target.started_at is None:
            raise ProcessChangedError(
                f"The start time of PID {target.pid} is unknown, so it cannot be told apart from a later "
                "process given the same PID; it is not signalled"
            )
        with ProcessHandle(target.pid, target.started_at) as process:
            if action == "pause":
                process.send(signal.SIGSTOP)
                return "paused"
            if action == "resume":
                process.send(signal.SIGCONT)
                return "resumed"
            process.send(signal.SIGTERM)
            try:
                process.send(signal.SIGCONT)  # a paused process must run to act on SIGTERM
                if process.wait_exit(self.grace_s):
                    return "terminated"
                process.send(signal.SIGKILL)
            except ProcessGoneError:  # it exited (and was reaped) between two signals
                return "terminated"
            return "killed" if process.wait_exit(KILL_WAIT_S) else "kill_sent"

    @staticmethod
    def _record(
        action: ProcessAction,
        pid: int,
        target: Target | None,
        *,
        user: str | None,
        client: str | None,
        outcome: str,
        detail: str,
    ) -> ActionRecord:
        return ActionRecord(
            timestamp=time.time(),
            user=user,
            client=client,
            action=action,
            pid=pid,
            process_name=target.name if target else None,
            process_user=target.user if target else None,
            gpu_ids=target.gpu_ids if target else [],
            outcome=outcome,
            detail=detail,
        )


_DETAILS: dict[str, Callable[[float], str]] = {
    "paused": lambda _: "SIGSTOP sent; the process is stopped until it is resumed",
    "resumed": lambda _: "SIGCONT sent; the process runs again",
    "terminated": lambda grace: f"exited after SIGTERM, within the {grace:g} s grace period",
    "killed": lambda grace: f"still running {grace:g} s after SIGTERM, so it was sent SIGKILL and exited",
    "kill_sent": lambda grace: f"still running {grace:g} s after SIGTERM; SIGKILL sent, exit not yet seen",
}
