"""SQLite's dialect object: what the engine asks of a SQLite file, in either role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from arrowferry.dialects.base import Capabilities, Dialect
from arrowferry.dialects.sqlite import catalog
from arrowferry.dialects.sqlite.types import from_sqlite_declared, to_sqlite_ddl
from arrowferry.model import DataType, Schema
from arrowferry.urls import Endpoint


class SQLiteDialect(Dialect):
    name = "sqlite"
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

    def open_source(self, endpoint: Endpoint, options: Any, *, readers_per_writer: int = 1) -> Any:
        from arrowferry.dialects.sqlite.source import SqliteSource

        return SqliteSource(endpoint.path, options.batch_size, options.batch_bytes)

    def open_target(self, endpoint: Endpoint, options: Any, *, native: bool = False) -> Any:
        from arrowferry.dialects.sqlite.target import SqliteTarget

        return SqliteTarget(endpoint.path, lambda text: None)

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


DIALECT = SQLiteDialect()
