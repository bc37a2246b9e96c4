"""SQLite backend: the zero-setup default, one file in the data directory.

WAL lets readers run beside the single writer; ``synchronous=NORMAL`` keeps every committed transaction
across a crash of the process (only a power cut can cost the last commits), and the file always reopens
cleanly.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gpu_sentinel.filemodes import create_private_file
from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import nodes, sql
from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.database import DatabaseUnavailableError, Statement
from gpu_sentinel.store.migrations import MigrationSet
from gpu_sentinel.store.schema import HISTORY, SQLITE

BUSY_TIMEOUT_MS = 5000
READER_CACHE_KIB = 32 * 1024
READER_MMAP_BYTES = 256 * 1024 * 1024


def _unavailable(error: sqlite3.DatabaseError, context: str = "") -> DatabaseUnavailableError:
    """SQLite's own messages ("disk I/O error", "database or disk is full") name no path."""
    return DatabaseUnavailableError(f"{context}{error}", cause=str(error))


class SQLiteDatabase:
    """Writer connection lives on the writer thread; readers come from a small pool."""

    backend = "sqlite"
    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._writer: sqlite3.Connection | None = None
        self._readers: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        """A configured connection, or ``DatabaseUnavailableError`` when the file cannot be opened or set
        up now (a full disk fails ``journal_mode=WAL``), so the service runs on and the writer retries."""
        try:
            if not self.path.exists():
                create_private_file(self.path)  # SQLite gives its -wal and -shm files the same mode
            connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except OSError as error:
            raise DatabaseUnavailableError(
                f"cannot open {self.path}: {error}", cause=error.strerror or ""
            ) from error
        except sqlite3.DatabaseError as error:
            raise _unavailable(error, f"cannot open {self.path}: ") from error
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        except sqlite3.DatabaseError as error:
            connection.close()
            raise _unavailable(error, f"cannot open {self.path}: ") from error
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self._writer is None:
            self._writer = self._connect()
        connection = self._writer
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise _unavailable(error) from error
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def migrate(self, schema: MigrationSet = HISTORY) -> int:
        with self._transaction() as connection:
            connection.execute(schema.create_version_table)
            current = int(connection.execute(schema.current_version).fetchone()[0])
            for version, statements in schema.pending(self.dialect.name, current):
                for statement in statements:
                    connection.execute(statement)
                current = version
        return current

    def register_node(self, identity: NodeIdentity, now: int) -> int:
        with self._transaction() as connection:
            return nodes.register(
                lambda text, params: connection.execute(text, params).fetchall(), identity, now
            )

    def write(self, batch: Batch, node: int) -> None:
        with self._transaction() as connection:
            for statement, rows in sql.writes(batch, node):
                connection.executemany(statement, rows)

    def execute(self, statements: Sequence[Statement]) -> None:
        with self._transaction() as connection:
            for statement, params in statements:
                connection.execute(statement, params)

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = self._readers.get_nowait()
        except queue.Empty:
            connection = self._connect()
            connection.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB}")
            connection.execute(f"PRAGMA mmap_size={READER_MMAP_BYTES}")
            with self._lock:
                self._all_readers.append(connection)
        try:
            yield connection
        finally:
            self._readers.put(connection)

    def query(self, sql_text: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._reader() as connection:
            try:
                return connection.execute(sql_text, params).fetchall()
            except sqlite3.OperationalError as error:
                raise _unavailable(error) from error

    def stream(self, sql_text: str, params: Sequence[Any] = ()) -> Iterator[Row]:
        with self._reader() as connection:
            try:
                cursor = connection.execute(sql_text, params)
            except sqlite3.OperationalError as error:
                raise _unavailable(error) from error
            try:
                while rows := cursor.fetchmany(1000):
                    yield from rows
            finally:
                cursor.close()

    def size_bytes(self) -> int:
        files = [self.path, self.path.with_name(self.path.name + "-wal")]
        return sum(file.stat().st_size for file in files if file.exists())

    def close(self) -> None:
        with self._lock:
            readers, self._all_readers = self._all_readers, []
        for connection in readers:
            connection.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
