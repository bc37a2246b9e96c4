"""Batches the database has not accepted yet, kept in arrival order in an append-only spill file: each
batch is written and fsync'd as it arrives (one per flush interval), so an outage of the database loses
nothing within the size bound, and a crash or ``kill -9`` during one loses at most the batch being made.
Only when the file cannot be written (a full disk) do batches wait in memory, up to a row bound. Beyond the
bounds the newest batches are dropped and counted. Order matters: a later batch may hold the finished
version of a row an earlier one held half-done."""

from __future__ import annotations

import contextlib
import logging
import os
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import orjson

from gpu_sentinel.filemodes import open_private_append
from gpu_sentinel.store.batch import Batch

log = logging.getLogger(__name__)

TAIL_SCAN_BYTES = 64 * 1024
_ABSENT = (FileNotFoundError, NotADirectoryError)


class Backlog:
    """Owned by the writer thread. Batches in memory are always newer than those in the file."""

    def __init__(self, spill_path: Path, *, memory_rows: int, max_spill_bytes: int) -> None:
        self.spill_path = spill_path
        self.memory_rows = memory_rows
        self.max_spill_bytes = max_spill_bytes
        self._memory: deque[Batch] = deque()
        self._memory_count = 0
        self._read_offset = 0
        self._file_trouble = False
        self._tail_checked = False
        self.dropped_rows = 0

    def __bool__(self) -> bool:
        return bool(self._memory) or self.spill_path.exists()

    @property
    def memory_rows_held(self) -> int:
        return self._memory_count

    @property
    def spilled_bytes(self) -> int:
        return max(0, self._file_size() - self._read_offset)

    def push(self, batch: Batch) -> None:
        """Append ``batch`` durably, or hold it in memory if the file cannot take it, or drop it."""
        self._drop_torn_tail()
        if self._move_memory_to_file() and self._append([batch]):
            return
        if self._memory_count + len(batch) > self.memory_rows:
            if not self.dropped_rows:
                log.error(
                    "history backlog is full (%s cannot take more); dropping new samples", self.spill_path
                )
            self.dropped_rows += len(batch)
            return
        self._memory.append(batch)
        self._memory_count += len(batch)

    def persist(self) -> None:
        """Before the process exits: write what waits in memory behind what the file holds."""
        if self._memory and not self._move_memory_to_file():
            log.error(
                "%d history rows could not be saved to %s and are lost", self._memory_count, self.spill_path
            )

    def batches(self, limit: int) -> Iterator[Batch]:
        """Up to ``limit`` batches, oldest first. A batch counts as delivered when the caller asks for the
        next one, so one whose write fails is offered again."""
        for _ in range(limit):
            batch = self._peek()
            if batch is None:
                return
            yield batch
            self._pop()

    def _move_memory_to_file(self) -> bool:
        """True once nothing waits in memory, so the file may take newer batches."""
        if not self._memory:
            return True
        if not self._append(list(self._memory)):
            return False
        self._memory.clear()
        self._memory_count = 0
        return True

    def _append(self, batches: list[Batch]) -> bool:
        data = b"".join(orjson.dumps(batch.to_json()) + b"\n" for batch in batches)
        size = self._file_size()
        if size + len(data) > self.max_spill_bytes:
            return False
        try:
            self._write_synced(data, size)
        except OSError as error:
            if not self._file_trouble:
                log.error(
                    "cannot write the history spill file %s, holding samples in memory: %s",
                    self.spill_path,
                    error,
                )
            self._file_trouble = True
            return False
        if self._file_trouble:
            log.info("the history spill file %s is writable again", self.spill_path)
        self._file_trouble = False
        return True

    def _write_synced(self, data: bytes, size: int) -> None:
        """Append and fsync; on failure cut the file back to ``size`` so no torn line is left behind."""
        created = size == 0 and not self.spill_path.exists()
        fd = open_private_append(self.spill_path)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
        finally:
            os.close(fd)
        if created:
            _fsync_directory(self.spill_path.parent)

    def _peek(self) -> Batch | None:
        self._drop_torn_tail()
        while (line := self._read_line()) is not None:
            try:
                return Batch.from_json(orjson.loads(line))
            except orjson.JSONDecodeError:
                log.warning("skipping an unreadable line in %s", self.spill_path)
                self._advance(len(line))
        if self.spill_path.exists():
            self._remove_file()  # empty, or only a line cut short
        if self._memory:
            return self._memory[0]
        return None

    def _pop(self) -> None:
        if (line := self._read_line()) is not None:
            self._advance(len(line))
        elif self._memory:
            self._memory_count -= len(self._memory.popleft())

    def _advance(self, size: int) -> None:
        self._read_offset += size
        if self._read_offset >= self._file_size():
            self._remove_file()

    def _remove_file(self) -> None:
        self.spill_path.unlink(missing_ok=True)
        self._read_offset = 0

    def _read_line(self) -> bytes | None:
        """The next complete line of the spill file, if any."""
        try:
            with self.spill_path.open("rb") as file:
                file.seek(self._read_offset)
                line = file.readline()
        except _ABSENT:
            return None
        return line if line.endswith(b"\n") else None

    def _file_size(self) -> int:
        try:
            return self.spill_path.stat().st_size
        except _ABSENT:
            return 0

    def _drop_torn_tail(self) -> None:
        """A crash in the middle of an append leaves part of a line; cut it, once, before this process
        first touches the file, so the next append starts a line of its own."""
        if self._tail_checked:
            return
        self._tail_checked = True
        size = self._file_size()
        if not size:
            return
        try:
            self._cut_after_last_line(size)
        except OSError as error:
            log.warning("cannot check the end of %s: %s", self.spill_path, error)

    def _cut_after_last_line(self, size: int) -> None:
        with self.spill_path.open("r+b") as file:
            keep, end = 0, size
            while end > 0:
                start = max(0, end - TAIL_SCAN_BYTES)
                file.seek(start)
                chunk = file.read(end - start)
                if end == size and chunk.endswith(b"\n"):
                    return
                if (cut := chunk.rfind(b"\n")) >= 0:
                    keep = start + cut + 1
                    break
                end = start
            log.warning("dropping %d bytes that a crash left unfinished in %s", size - keep, self.spill_path)
            file.truncate(keep)


def _fsync_directory(path: Path) -> None:
    """Make a new file's name durable too."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
