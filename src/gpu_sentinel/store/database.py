"""The interface both backends offer the store: a writer side used only by the writer thread, and a
reader side any thread may use, each on its own connections."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.schema import Dialect, pending_migrations

Statement = tuple[str, Sequence[Any]]


class DatabaseUnavailableError(Exception):
    """The database cannot be reached or written now; the writer keeps the batch and retries later."""


class Database(Protocol):
    """A history backend (SQLite or PostgreSQL)."""

    backend: str
    location: str
    dialect: Dialect

    def migrate(self) -> int:
        """Create or upgrade the schema; returns the version now in place."""
        ...

    def write(self, batch: Batch) -> None:
        """Upsert a batch in one transaction. Writer thread only."""
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


def migration_statements(dialect: Dialect, current: int) -> Iterator[tuple[int, list[str]]]:
    """Each pending version's DDL followed by the statement that records it."""
    for version, statements in pending_migrations(dialect, current):
        yield version, [*statements, f"INSERT INTO schema_version (version) VALUES ({version})"]


VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
CURRENT_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_version"
