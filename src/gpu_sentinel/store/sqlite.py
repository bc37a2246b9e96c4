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

from gpu_sentinel.store import sql
from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.database import (
    CURRENT_VERSION,
    VERSION_TABLE,
    DatabaseUnavailableError,
    Statement,
    migration_statements,
)
from gpu_sentinel.store.schema import SQLITE

BUSY_TIMEOUT_MS = 5000
READER_CACHE_KIB = 32 * 1024
READER_MMAP_BYTES = 256 * 1024 * 1024


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
            raise DatabaseUnavailableError(str(error)) from error
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def migrate(self) -> int:
        with self._transaction() as connection:
            connection.execute(VERSION_TABLE)
            current = int(connection.execute(CURRENT_VERSION).fetchone()[0])
            for version, statements in migration_statements(self.dialect, current):
                for statement in statements:
                    connection.execute(statement)
                current = version
        return current

    def write(self, batch: Batch) -> None:
        with self._transaction() as connection:
            connection.executemany(sql.UPSERT_GPU_RAW, batch.gpu_rows)
            connection.executemany(sql.UPSERT_HOST_RAW, batch.host_rows)
            connection.executemany(sql.UPSERT_PROCESS, batch.process_rows)
            connection.executemany(sql.UPSERT_GPUS, batch.gpu_info)

    def execute(self, statements: Sequence[Statement]) -> None:
        with self._transaction() as connection:
            for statement, params in statements:
                connection.execute(statement, params)

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = self._readers.get_nowait()
        except queue.Empty:
            try:
                connection = self._connect()
            except sqlite3.OperationalError as error:
                raise DatabaseUnavailableError(str(error)) from error
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
                raise DatabaseUnavailableError(str(error)) from error

    def stream(self, sql_text: str, params: Sequence[Any] = ()) -> Iterator[Row]:
        with self._reader() as connection:
            try:
                cursor = connection.execute(sql_text, params)
            except sqlite3.OperationalError as error:
                raise DatabaseUnavailableError(str(error)) from error
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
