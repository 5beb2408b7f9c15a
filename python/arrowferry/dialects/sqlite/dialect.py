"""SQLite's dialect object: what the engine asks of a SQLite file, in either role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arrowferry.dialects.base import (
    Capabilities,
    ChecksumSession,
    Dialect,
    SourceSession,
    TargetSession,
)
from arrowferry.dialects.changes import Change, SyncStatement, TargetFacts
from arrowferry.dialects.sqlite import catalog
from arrowferry.dialects.sqlite.types import from_sqlite_declared, to_sqlite_ddl
from arrowferry.model import Column, DataType, Schema, Table
from arrowferry.urls import Endpoint


class SQLiteDialect(Dialect):
    name = "sqlite"
    label = "SQLite"
    capabilities = Capabilities(
        writers="one",
        constraints_after_load=False,  # keys, foreign keys and CHECKs only in CREATE TABLE
        not_valid=False,
        transactional_ddl=True,
        max_identifier_bytes=None,
        case_insensitive_names=True,
        atomic_file=True,
        schemas=False,
        enforces_declared_types=False,  # type affinity: a column may hold any class
        shared_snapshot_readers=False,
        default_schema="main",
    )

    def parse_type(self, declared: str) -> DataType | None:
        return from_sqlite_declared(declared)

    def type_ddl(self, dtype: DataType) -> str:
        return to_sqlite_ddl(dtype)

    def introspect(self, endpoint: Endpoint, schema: str | None = None) -> Schema:
        with catalog.connect_metadata_ctx(endpoint.path) as conn:
            return catalog.introspect(conn)

    def open_source(
        self, endpoint: Endpoint, options: Any, *, readers_per_writer: int = 1
    ) -> SourceSession:
        from arrowferry.dialects.sqlite.source import SqliteSource

        return SqliteSource(endpoint.path, options.batch_size, options.batch_bytes)

    def open_checksum(self, endpoint: Endpoint, schema: str | None) -> ChecksumSession:
        from arrowferry.dialects.sqlite.checksum import SqliteChecksum

        return SqliteChecksum(endpoint.path)

    def open_target(
        self, endpoint: Endpoint, options: Any, *, native: bool = False
    ) -> TargetSession:
        from arrowferry.dialects.sqlite.target import SqliteTarget

        return SqliteTarget(endpoint.path, lambda text: None)

    # --- a copy into another SQLite file -----------------------------------------------

    def read_native(self, endpoint: Endpoint, options: Any) -> tuple[Schema, Any, dict[str, int]]:
        """The file's tables, its own definitions (``native.NativeSchema``) and row counts."""
        from arrowferry.dialects.sqlite import native
        from arrowferry.plan.select import select_tables

        schema = self.introspect(endpoint)
        tables = select_tables(schema, options.include_tables, options.exclude_tables)
        own, rows = native.read_native(endpoint.path, [t.name for t in tables])
        return Schema(schema.dialect, tuple(tables), schema.views), own, rows

    def column_read(self, column: Column) -> tuple[str | None, bool]:
        return None, False  # read as stored, class by class (native.NativeTable.read_sql)

    def key_column(self, table: Table) -> str | None:
        return None  # read in rowid ranges by the source itself

    def existing_tables(
        self, endpoint: Endpoint, schema: str | None, names: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        path = endpoint.path
        if not path.exists():
            return {}
        with catalog.connect_metadata_ctx(path) as conn:
            catalog.check_integrity(conn, path)
            known = catalog.relation_names(conn)
            return {
                known[n.lower()]: tuple(catalog.column_names(conn, known[n.lower()]))
                for n in names
                if n.lower() in known
            }

    # --- as the target of a schema sync ---------------------------------------------------

    def sync_statements(
        self,
        changes: Sequence[Change],
        current: Schema,
        facts: TargetFacts,
        *,
        namespace: str | None,
    ) -> list[SyncStatement]:
        from arrowferry.dialects.sqlite import rebuild

        return rebuild.render(changes, current, facts)

    def sync_facts(
        self, endpoint: Endpoint, namespace: str | None, current: Schema, changes: Sequence[Change]
    ) -> TargetFacts:
        from arrowferry.dialects.sqlite import rebuild_run

        return rebuild_run.read_facts(endpoint.path, current, changes)

    def sync_apply(
        self, endpoint: Endpoint, namespace: str | None, statements: Sequence[SyncStatement]
    ) -> list[str]:
        from arrowferry.dialects.sqlite import rebuild_run

        return rebuild_run.apply(endpoint.path, statements)

    def sync_drops_dependents(self) -> bool:
        return False  # a rebuild keeps foreign keys (off while it runs) and views (legacy rename)


DIALECT = SQLiteDialect()
