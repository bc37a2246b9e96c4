"""Process management: admins terminate, pause and resume GPU processes; everyone who may read sees the
audit trail of those actions.

Action routes are plain functions: FastAPI runs them on its thread pool, where a terminate may wait out
the grace period before SIGKILL without holding up the event loop.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, Field

from gpu_sentinel import models
from gpu_sentinel.api.deps import AdminDep, ServiceDep
from gpu_sentinel.process_actions import ActionRecord, ProcessAction

router = APIRouter(prefix="/api/v1/processes", tags=["processes"])

_DESCRIPTIONS = {
    401: "A token is needed.",
    403: "Not an admin, process actions are off, the process is protected, or the OS refused (EPERM).",
    404: "The PID holds no GPU context in the latest sample (on the GPU named).",
    409: "The PID now names another process than the GPU process that was sampled.",
    410: "The process has already exited.",
    422: "Malformed PID or body.",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": models.ErrorResponse, "description": _DESCRIPTIONS[code]} for code in codes}


class ProcessActionRequest(BaseModel):
    gpu_id: int | None = Field(
        None, ge=0, le=2**15 - 1, description="Only if the process holds a context on this GPU. Default: any."
    )


class ProcessActionOut(BaseModel):
    """One attempt to act on a process, as the audit trail keeps it."""

    timestamp: float = Field(description="When, Unix seconds.")
    user: str | None = Field(description="The admin who asked.")
    client: str | None = Field(description="The address the request came from.")
    action: ProcessAction
    pid: int
    process_name: str | None = Field(
        description="Executable name, as sampled; null if it was not a GPU process."
    )
    process_user: str | None = Field(description="The process's owner, as sampled.")
    gpu_ids: list[int] = Field(description="GPUs where the process held a context.")
    outcome: str = Field(
        description="terminated (exited after SIGTERM), killed (needed SIGKILL), kill_sent, paused, resumed, "
        "refused (by this service's rules), denied (by the OS: EPERM) or gone (it had exited)."
    )
    detail: str = Field(description="What happened, in a sentence.")


class ProcessActionsOut(BaseModel):
    enabled: bool = Field(description="Whether this service lets admins act on processes at all.")
    grace_seconds: float = Field(description="How long a terminated process has before SIGKILL.")
    actions: list[ProcessActionOut] = Field(description="Newest first.")


def _out(record: ActionRecord) -> ProcessActionOut:
    return ProcessActionOut.model_validate(dataclasses.asdict(record))


PidPath = Annotated[int, Path(ge=1, le=2**22, description="The process id, as the process list shows it.")]
ActionBody = Annotated[ProcessActionRequest | None, Body()]


def _perform(
    action: ProcessAction,
    service: ServiceDep,
    *,
    admin: AdminDep,
    request: Request,
    pid: int,
    body: ActionBody,
) -> ProcessActionOut:
    client = request.client.host if request.client else None
    gpu_id = body.gpu_id if body else None
    record = service.processes.perform(action, pid, user=admin.username, client=client, gpu_id=gpu_id)
    return _out(record)


_ACTION_ERRORS = _errors(401, 403, 404, 409, 410, 422)


@router.post("/{pid}/terminate", response_model=ProcessActionOut, responses=_ACTION_ERRORS)
def terminate(
    service: ServiceDep, admin: AdminDep, request: Request, pid: PidPath, body: ActionBody = None
) -> ProcessActionOut:
    """SIGTERM, then SIGKILL if the process still runs after the grace period; answers once it has exited."""
    return _perform("terminate", service, admin=admin, request=request, pid=pid, body=body)


@router.post("/{pid}/pause", response_model=ProcessActionOut, responses=_ACTION_ERRORS)
def pause(
    service: ServiceDep, admin: AdminDep, request: Request, pid: PidPath, body: ActionBody = None
) -> ProcessActionOut:
    """SIGSTOP: the process stops running (its GPU memory stays allocated) until it is resumed."""
    return _perform("pause", service, admin=admin, request=request, pid=pid, body=body)


@router.post("/{pid}/resume", response_model=ProcessActionOut, responses=_ACTION_ERRORS)
def resume(
    service: ServiceDep, admin: AdminDep, request: Request, pid: PidPath, body: ActionBody = None
) -> ProcessActionOut:
    """SIGCONT: a paused process runs again."""
    return _perform("resume", service, admin=admin, request=request, pid=pid, body=body)


@router.get("/actions", response_model=ProcessActionsOut, responses=_errors(401, 422))
def actions(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Most records to return.")] = 100,
) -> ProcessActionsOut:
    """Who terminated, paused or resumed which process, when, and what came of it; refusals included."""
    control = service.processes
    records = [_out(record) for record in control.log.recent(limit)]
    return ProcessActionsOut(enabled=control.enabled, grace_seconds=control.grace_s, actions=records)
