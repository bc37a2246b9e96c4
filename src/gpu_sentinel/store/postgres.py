"""PostgreSQL backend for production: any server, selected by a ``postgresql://`` URL.

The writer holds one plain connection and reconnects after an outage; readers share a small pool.
Connection failures surface as ``DatabaseUnavailableError`` so the writer buffers and the API answers 503.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.types.numeric import FloatLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from gpu_sentinel.node import NodeIdentity
from gpu_sentinel.store import nodes, sql
from gpu_sentinel.store.batch import Batch, Row
from gpu_sentinel.store.database import DatabaseUnavailableError, Statement
from gpu_sentinel.store.migrations import MigrationSet
from gpu_sentinel.store.schema import HISTORY, POSTGRESQL, ROLLUP_TIER_NAMES

CONNECT_TIMEOUT_S = 3
POOL_TIMEOUT_S = 3.0
READER_POOL_SIZE = 4
STREAM_FETCH_ROWS = 2000
MIGRATION_LOCK = 0x6770755F73656E  # any constant shared by every instance


def redact(url: str) -> str:
    """The URL without its password, for logs and status."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _placeholders(text: str) -> str:
    return text.replace("?", "%s")


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.adapters.register_loader("numeric", FloatLoader)


def table_names() -> list[str]:
    names = ["nodes", "gpus", "gpu_raw", "host_raw", "process_1m", "process_1h", "trend_blocks"]
    names.append("schema_version")
    return names + [f"{scope}_{tier}" for tier in ROLLUP_TIER_NAMES for scope in ("gpu", "host")]


class PostgresDatabase:
    backend = "postgresql"
    dialect = POSTGRESQL

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = redact(url)
        self._writer: psycopg.Connection[Any] | None = None
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._lock = threading.Lock()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            connection = psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as error:
            raise DatabaseUnavailableError(
                str(error).strip(), cause="cannot connect to PostgreSQL"
            ) from error
        _configure(connection)
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[Any]]:
        if self._writer is None or self._writer.closed:
            self._writer = self._connect()
        connection = self._writer
        try:
            with connection.transaction(), connection.cursor() as cursor:
                yield cursor
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            connection.close()
            self._writer = None
            raise DatabaseUnavailableError(
                str(error).strip(), cause="lost the connection to PostgreSQL"
            ) from error

    def migrate(self, schema: MigrationSet = HISTORY) -> int:
        """A role that may not create tables (a least-privilege node) finds the schema current, or is
        told, as an outage it waits out, to have the owner run ``gpu-sentinel migrate``."""
        try:
            with self._transaction() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                # Only when missing: even CREATE TABLE IF NOT EXISTS needs the right to create in the
                # schema, which a least-privilege role lacks (it only uses tables the owner made).
                found = cursor.execute("SELECT to_regclass(%s)", (schema.version_table,)).fetchone()
                if found is None or found[0] is None:
                    cursor.execute(schema.create_version_table.encode())
                row = cursor.execute(schema.current_version.encode()).fetchone()
                current = int(row[0]) if row else 0
                for version, statements in schema.pending(self.dialect.name, current):
                    for statement in statements:
                        cursor.execute(statement.encode())
                    current = version
        except psycopg.errors.InsufficientPrivilege as error:
            raise DatabaseUnavailableError(
                f"{schema.version_table}: this role may not create or upgrade the tables "
                f"({str(error).strip().splitlines()[0]}); run `gpu-sentinel migrate` as the schema's owner",
                cause="the schema needs an upgrade by its owner",
            ) from error
        return current

    def register_node(self, identity: NodeIdentity, now: int) -> int:
        """Under the migration lock, so two nodes registering at once never take the same key."""
        with self._transaction() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))

            def run(text: str, params: Sequence[Any]) -> list[Row]:
                cursor.execute(_placeholders(text).encode(), params)
                return cursor.fetchall() if cursor.description else []

            return nodes.register(run, identity, now)

    def write(self, batch: Batch, node: int) -> None:
        with self._transaction() as cursor:
            for statement, rows in sql.writes(batch, node):
                if rows:
                    cursor.executemany(_placeholders(statement).encode(), rows)

    def execute(self, statements: Sequence[Statement]) -> None:
        with self._transaction() as cursor:
            for statement, params in statements:
                cursor.execute(_placeholders(statement).encode(), params)

    def _get_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        with self._lock:
            if self._pool is None:
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=READER_POOL_SIZE,
                    kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "autocommit": True},
                    configure=_configure,
                    check=ConnectionPool.check_connection,
                    timeout=POOL_TIMEOUT_S,
                    open=False,
                    name="gpu-sentinel-history",
                )
                self._pool.open(wait=False)
            return self._pool

    @contextmanager
    def _reader(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._get_pool().connection() as connection:
                yield connection
        except (PoolTimeout, psycopg.OperationalError, psycopg.InterfaceError) as error:
            raise DatabaseUnavailableError(str(error).strip(), cause="no PostgreSQL connection") from error

    def query(self, sql_text: str, params: Sequence[Any] = ()) -> list[Row]:
        """Results in binary format: a day of chart rows decodes about twice as fast as from text."""
        with self._reader() as connection, connection.cursor(binary=True) as cursor:
            return cursor.execute(_placeholders(sql_text).encode(), params).fetchall()

    def stream(self, sql_text: str, params: Sequence[Any] = ()) -> Iterator[Row]:
        with (
            self._reader() as connection,
            connection.transaction(),
            connection.cursor(name="history_export", binary=True) as cursor,
        ):
            cursor.itersize = STREAM_FETCH_ROWS
            cursor.execute(_placeholders(sql_text).encode(), params)
            yield from cursor

    def size_bytes(self) -> int:
        rows = self.query(
            "SELECT COALESCE(SUM(pg_total_relation_size(to_regclass(name))), 0) "
            "FROM unnest(?::text[]) AS name",
            (table_names(),),
        )
        return int(rows[0][0])

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
