"""PostgreSQL's dialect object: what the engine asks of a server, in either role."""

from __future__ import annotations

from collections.abc import Sequence

from arrowferry.dialects.base import Capabilities, Dialect
from arrowferry.dialects.postgresql import catalog, write
from arrowferry.dialects.postgresql.connection import MAX_IDENTIFIER_BYTES, connect
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.model import DataType, Schema
from arrowferry.urls import Endpoint


class PostgreSQLDialect(Dialect):
    name = "postgresql"
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
        conn = connect(endpoint, read_only=True)
        try:
            return catalog.introspect(conn, schema or "public")
        finally:
            conn.close()

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


DIALECT = PostgreSQLDialect()
