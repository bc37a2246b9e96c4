"""One migrator for every component that keeps tables in the history database (history, alerts).

A component's schema is a ``MigrationSet``: numbered versions of literal DDL, each written once and never
changed, and the table recording which versions are in place. Both backends apply a set the same way,
in one transaction per call, so a half-applied version never persists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

DialectName = Literal["sqlite", "postgresql"]


@dataclass(frozen=True, slots=True)
class Migration:
    """One version's DDL for each backend."""

    version: int
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    @classmethod
    def portable(cls, version: int, statements: tuple[str, ...]) -> Migration:
        """DDL both backends accept as written."""
        return cls(version, statements, statements)

    def statements(self, dialect: DialectName) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


@dataclass(frozen=True, slots=True)
class MigrationSet:
    """A component's schema history, versions 1..n in order."""

    version_table: str
    migrations: tuple[Migration, ...]

    def __post_init__(self) -> None:
        versions = [migration.version for migration in self.migrations]
        if versions != list(range(1, len(versions) + 1)):
            raise ValueError(f"{self.version_table}: versions must run 1..n in order, got {versions}")

    @property
    def latest(self) -> int:
        return len(self.migrations)

    @property
    def create_version_table(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.version_table} (version INTEGER NOT NULL)"

    @property
    def current_version(self) -> str:
        return f"SELECT COALESCE(MAX(version), 0) FROM {self.version_table}"

    def pending(self, dialect: DialectName, current: int) -> Iterator[tuple[int, list[str]]]:
        """Each version after ``current`` (0 = empty): its DDL, then the statement recording it."""
        for migration in self.migrations[current:]:
            record = f"INSERT INTO {self.version_table} (version) VALUES ({migration.version})"
            yield migration.version, [*migration.statements(dialect), record]
