"""The interface both backends offer the store: a writer side used only by the writer thread, and a
reader side any thread may use, each on its own connections."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.migrations import MigrationSet
from gpu_sentinel.store.schema import HISTORY, Dialect

Statement = tuple[str, Sequence[Any]]


class DatabaseUnavailableError(Exception):
    """The database cannot be reached or written now; the writer keeps the batch and retries later.

    ``cause`` is a short account without host names, users or paths, fit for the public health check."""

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class Database(Protocol):
    """A history backend (SQLite or PostgreSQL)."""

    backend: str
    location: str
    dialect: Dialect

    def migrate(self, schema: MigrationSet = HISTORY) -> int:
        """Create or upgrade ``schema`` (history unless told otherwise) in one transaction; returns the
        version now in place."""
        ...

    def register_node(self, identity: NodeIdentity, now: int) -> int:
        """This node's key in ``nodes`` (see ``store.nodes``), made or claimed on first use. Writer only."""
        ...

    def write(self, batch: Batch, node: int) -> None:
        """Upsert a batch as node ``node``'s rows in one transaction. Writer thread only."""
        ...

    def execute(self, statements: Sequence[Statement]) -> None:
        """Run maintenance statements (rollups, retention) in one transaction. Writer thread only."""
        ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a read-only query on a reader connection."""
        ...

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Row]:
        """Yield the rows of a read-only query without holding them all in memory."""
        ...

    def size_bytes(self) -> int:
        """Space the history takes on disk."""
        ...

    def close(self) -> None: ...
