"""Batches the database has not accepted yet, kept in arrival order: in memory up to a row bound, then
appended to a spill file up to a size bound, so an outage of the database loses nothing within the
bounds and a restart during one loses nothing at all. Beyond the bounds the newest batches are dropped
and counted. Order matters: a later batch may hold the finished version of a row an earlier one held
half-done."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import orjson

from gpu_sentinel.store.batch import Batch

log = logging.getLogger(__name__)


class Backlog:
    """Owned by the writer thread."""

    def __init__(self, spill_path: Path, *, memory_rows: int, max_spill_bytes: int) -> None:
        self.spill_path = spill_path
        self.memory_rows = memory_rows
        self.max_spill_bytes = max_spill_bytes
        self._memory: deque[Batch] = deque()
        self._memory_count = 0
        self._read_offset = 0
        self.dropped_rows = 0

    def __bool__(self) -> bool:
        return bool(self._memory) or self.spill_path.exists()

    @property
    def memory_rows_held(self) -> int:
        return self._memory_count

    @property
    def spilled_bytes(self) -> int:
        if not self.spill_path.exists():
            return 0
        return max(0, self.spill_path.stat().st_size - self._read_offset)

    def push(self, batch: Batch) -> None:
        if not self.spill_path.exists() and self._memory_count + len(batch) <= self.memory_rows:
            self._memory.append(batch)
            self._memory_count += len(batch)
            return
        line = orjson.dumps(batch.to_json()) + b"\n"
        size = self.spill_path.stat().st_size if self.spill_path.exists() else 0
        if size + len(line) > self.max_spill_bytes:
            if not self.dropped_rows:
                log.error("history spill file %s is full; dropping new samples", self.spill_path)
            self.dropped_rows += len(batch)
            return
        self.spill_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spill_path.open("ab") as file:
            file.write(line)

    def batches(self, limit: int) -> Iterator[Batch]:
        """Up to ``limit`` batches, oldest first. A batch counts as delivered when the caller asks for the
        next one, so one whose write fails is offered again."""
        for _ in range(limit):
            batch = self._peek()
            if batch is None:
                return
            yield batch
            self._pop()

    def _peek(self) -> Batch | None:
        if self._memory:
            return self._memory[0]
        while (line := self._read_line()) is not None:
            try:
                return Batch.from_json(orjson.loads(line))
            except orjson.JSONDecodeError:
                log.warning("skipping an unreadable line in %s", self.spill_path)
                self._advance(len(line))
        if self.spill_path.exists():
            self.spill_path.unlink()  # empty, or a line cut short by a crash
            self._read_offset = 0
        return None

    def _pop(self) -> None:
        if self._memory:
            self._memory_count -= len(self._memory.popleft())
        elif (line := self._read_line()) is not None:
            self._advance(len(line))

    def _advance(self, size: int) -> None:
        self._read_offset += size
        if self._read_offset >= self.spill_path.stat().st_size:
            self.spill_path.unlink()
            self._read_offset = 0

    def _read_line(self) -> bytes | None:
        """The next complete line of the spill file, if any."""
        if not self.spill_path.exists():
            return None
        with self.spill_path.open("rb") as file:
            file.seek(self._read_offset)
            line = file.readline()
        return line if line.endswith(b"\n") else None

    def persist(self) -> None:
        """Move what is held in memory to the front of the spill file, before the process exits."""
        if not self._memory:
            return
        head = b"".join(orjson.dumps(batch.to_json()) + b"\n" for batch in self._memory)
        tail = b""
        if self.spill_path.exists():
            with self.spill_path.open("rb") as file:
                file.seek(self._read_offset)
                tail = file.read()
        temporary = self.spill_path.with_suffix(".tmp")
        temporary.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(head + tail)
        temporary.replace(self.spill_path)
        self._memory.clear()
        self._memory_count = 0
        self._read_offset = 0
