"""A batch of rows bound for the database: what the writer commits in one transaction, and what it
buffers or spills to a file while the database is away. Every row is an idempotent upsert, so a batch may
be written twice without harm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gpu_sentinel.store.schema import PROCESS_COLUMNS, PROCESS_KEY

Row = tuple[Any, ...]
PROCESS_WIDTH = len(PROCESS_KEY) - 1 + len(PROCESS_COLUMNS)
"""A process row's width: its key without the node (``sql.writes`` adds the writing node's), its columns."""


def _process_row(row: list[Any]) -> Row:
    """A process row spilled before the owner columns existed gets them as unknown (NULL)."""
    return tuple(row) + (None,) * (PROCESS_WIDTH - len(row))


@dataclass(slots=True)
class Batch:
    """Rows by table: ``gpu_raw``, ``host_raw``, ``process_1m`` and the ``gpus`` catalogue."""

    gpu_rows: list[Row] = field(default_factory=list)
    host_rows: list[Row] = field(default_factory=list)
    process_rows: list[Row] = field(default_factory=list)
    gpu_info: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.gpu_rows) + len(self.host_rows) + len(self.process_rows) + len(self.gpu_info)

    def min_sample_ts(self) -> int | None:
        """Earliest GPU or host second in the batch: rollups from there on are stale once it is written."""
        times = [row[0] for row in self.gpu_rows] + [row[0] for row in self.host_rows]
        return min(times) if times else None

    def min_process_ts(self) -> int | None:
        return min((row[0] for row in self.process_rows), default=None)

    def extend(self, other: Batch) -> None:
        self.gpu_rows += other.gpu_rows
        self.host_rows += other.host_rows
        self.process_rows += other.process_rows
        self.gpu_info += other.gpu_info

    def to_json(self) -> dict[str, list[Row]]:
        return {
            "gpu": self.gpu_rows,
            "host": self.host_rows,
            "process": self.process_rows,
            "gpus": self.gpu_info,
        }

    @classmethod
    def from_json(cls, data: dict[str, list[list[Any]]]) -> Batch:
        return cls(
            gpu_rows=[tuple(row) for row in data.get("gpu", [])],
            host_rows=[tuple(row) for row in data.get("host", [])],
            process_rows=[_process_row(row) for row in data.get("process", [])],
            gpu_info=[tuple(row) for row in data.get("gpus", [])],
        )
