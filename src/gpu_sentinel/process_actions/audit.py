"""The durable record of every process action: one JSON object per line in the data directory, 0600.

Appends are single ``write`` calls on an ``O_APPEND`` descriptor under a lock, so concurrent actions never
interleave a line; a torn last line (a crash mid-write) is skipped on reading.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from gpu_sentinel.filemodes import open_private_append

AUDIT_FILE = "process-actions.jsonl"
REFUSALS = frozenset({"refused", "denied", "gone"})
"""Outcomes where nothing was signalled: logged as warnings, like a failed login."""
audit_log = logging.getLogger("gpu_sentinel.audit")


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """Who did what to which process, and what came of it."""

    timestamp: float
    user: str | None
    client: str | None
    action: str
    pid: int
    process_name: str | None
    process_user: str | None
    gpu_ids: list[int] = field(default_factory=list)
    outcome: str = "refused"
    detail: str = ""


class ActionLog:
    """Appends records to ``path`` and reads the newest back."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: ActionRecord) -> None:
        line = orjson.dumps(dataclasses.asdict(record)) + b"\n"
        with self._lock:
            descriptor = open_private_append(self.path)
            try:
                os.write(descriptor, line)
            finally:
                os.close(descriptor)
        level = logging.WARNING if record.outcome in REFUSALS else logging.INFO
        audit_log.log(
            level,
            "process %s: by=%r client=%s pid=%d name=%r owner=%r gpus=%s outcome=%s",
            record.action,
            record.user,
            record.client,
            record.pid,
            record.process_name,
            record.process_user,
            record.gpu_ids,
            record.outcome,
        )

    def recent(self, limit: int) -> list[ActionRecord]:
        """The newest ``limit`` records, newest first."""
        newest: deque[ActionRecord] = deque(maxlen=limit)
        try:
            with self.path.open("rb") as lines:
                for line in lines:
                    record = _parse(line)
                    if record is not None:
                        newest.append(record)
        except FileNotFoundError:
            return []
        return list(reversed(newest))


def _parse(line: bytes) -> ActionRecord | None:
    try:
        values: dict[str, Any] = orjson.loads(line)
        return ActionRecord(**values)
    except (orjson.JSONDecodeError, TypeError):
        return None
