"""PostgreSQL's dialect object: what the engine asks of a server, in either role."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from arrowferry.dialects.base import (
    Capabilities,
    ChecksumSession,
    Dialect,
    SourceSession,
    TargetSession,
)
from arrowferry.dialects.changes import Change, SyncStatement, TargetFacts
from arrowferry.dialects.postgresql import catalog, write
from arrowferry.dialects.postgresql.connection import MAX_IDENTIFIER_BYTES, connect
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.model import Column, DataType, Schema, Table
from arrowferry.urls import Endpoint


class PostgreSQLDialect(Dialect):
    name = "postgresql"
    label = "PostgreSQL"
    capabilities = Capabilities(
        writers="many",
        constraints_after_load=True,
        not_valid=True,
        transactional_ddl=True,
        max_identifier_bytes=MAX_IDENTIFIER_BYTES,
        case_insensitive_names=False,  # quoted names keep their case
        atomic_file=False,
        schemas=True,
        enforces_declared_types=True,
        shared_snapshot_readers=True,  # pg_export_snapshot
        default_schema="public",
    )

    def parse_type(self, declared: str) -> DataType | None:
        return parse_pg_type(declared)

    def type_ddl(self, dtype: DataType) -> str:
        return to_pg_ddl(dtype)

    def introspect(self, endpoint: Endpoint, schema: str | None = None) -> Schema:
        # the catalog's defaults and CHECKs print in the fixed styles of every session
        # (``connection.FIXED``), whatever the database's own DateStyle or TimeZone
        conn = connect(endpoint, read_only=True)
        try:
            return catalog.introspect(conn, schema or "public")
        finally:
            conn.close()

    def open_source(
        self, endpoint: Endpoint, options: Any, *, readers_per_writer: int = 1
    ) -> SourceSession:
        from arrowferry.dialects.postgresql.source import PostgresSource

        return PostgresSource(
            endpoint, options.source_schema, options.batch_bytes, readers_per_writer
        )

    def open_checksum(self, endpoint: Endpoint, schema: str | None) -> ChecksumSession:
        from arrowferry.dialects.postgresql.checksum import PostgresChecksum

        return PostgresChecksum(endpoint, schema or "public")

    def open_target(
        self, endpoint: Endpoint, options: Any, *, native: bool = False
    ) -> TargetSession:
        from arrowferry.dialects.postgresql.target import PostgresTarget

        return PostgresTarget(endpoint, options.target_schema, lambda text: None, native=native)

    # --- a copy into another PostgreSQL database ------------------------------------------

    def read_native(self, endpoint: Endpoint, options: Any) -> tuple[Schema, Any, dict[str, int]]:
        """The schema, its own definitions (``native.NativeSchema``) and row counts, read
        in one snapshot."""
        from arrowferry.dialects.postgresql import native, read
        from arrowferry.plan.select import select_tables

        schema_name = options.source_schema
        conn = read.connect_snapshot(endpoint)
        try:
            read.check_schema(conn, schema_name, endpoint)
            schema = catalog.introspect(conn, schema_name)
            tables = select_tables(schema, options.include_tables, options.exclude_tables)
            partitioned = read.partitioned_tables(conn, schema_name)
            rows = {
                t.name: read.measure(conn, schema_name, t.name, [], only=t.name not in partitioned)[
                    0
                ]
                for t in tables
            }
            own = native.read_native(conn, schema_name, [t.name for t in tables])
        finally:
            read.end_snapshot(conn)
        schema = replace(schema, tables=tuple(tables))
        return schema, own, rows

    def column_read(self, column: Column) -> tuple[str, bool]:
        from arrowferry.dialects.postgresql import native

        return native.select_expression(column), native.travels_as_text(column)

    def key_column(self, table: Table) -> str | None:
        """The single integer key a large table is read in ranges by."""
        pk = table.primary_key
        if pk is None or len(pk.columns) != 1:
            return None
        kind = table.column(pk.columns[0]).type.kind
        return pk.columns[0] if kind in {"int16", "int32", "int64"} else None

    def existing_tables(
        self, endpoint: Endpoint, schema: str | None, names: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        schema = schema or "public"
        conn = connect(endpoint, read_only=True)
        try:
            if not write.schema_exists(conn, schema):
                return {}
            present = write.existing_tables(conn, schema, names)
            return {n: tuple(write.column_types(conn, schema, n)) for n in present}
        finally:
            conn.close()

    # --- as the target of a schema sync ---------------------------------------------------

    def sync_statements(
        self,
        changes: Sequence[Change],
        current: Schema,
        facts: TargetFacts,
        *,
        namespace: str | None,
    ) -> list[SyncStatement]:
        from arrowferry.dialects.postgresql import alter

        return alter.render(changes, current, facts, namespace or "public")

    def sync_facts(
        self, endpoint: Endpoint, namespace: str | None, current: Schema, changes: Sequence[Change]
    ) -> TargetFacts:
        from arrowferry.dialects.postgresql import alter

        return alter.read_facts(endpoint, namespace or "public", current, changes)

    def sync_apply(
        self, endpoint: Endpoint, namespace: str | None, statements: Sequence[SyncStatement]
    ) -> list[str]:
        from arrowferry.dialects.postgresql import alter

        return alter.apply(endpoint, statements)


DIALECT = PostgreSQLDialect()
