"""PostgreSQL -> PostgreSQL as the engine plans it: the replica's statements as finishing
statements, and how each column travels.

A column travels in its binary form when the driver's Arrow form of it is exact both
ways (integers, floats, booleans, text, bytea); every other type travels as the
server's own text and is cast back by the target server in the same transaction
(``dialects.postgresql.stage``): exact for every type, including enums, domains,
ranges, arrays of any dimension and lower bound, ``infinity`` timestamps and
``numeric`` of any size, which the binary path would flatten, wrap or refuse
(driver-traps.md D; the probe of every type is in the issue-12 notes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from arrowferry.dialects.base import Statement
from arrowferry.dialects.postgresql import replica as rep
from arrowferry.dialects.postgresql.connection import qname
from arrowferry.dialects.postgresql.read import BINARY_KINDS
from arrowferry.dialects.postgresql.replica_sql import Ddl
from arrowferry.dialects.postgresql.types import parse_pg_type
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.model import Column

# run in this order after every other finishing statement, on one session
LAST_KINDS = ("view", "view_index", "comment")


@dataclass(frozen=True)
class NativeTable:
    """One table of a same-dialect copy: its own CREATE TABLE, the columns that take data."""

    name: str
    create_sql: str  # unqualified: see create_in
    settings: tuple[str, ...]  # ALTER TABLE ... ALTER COLUMN, right after CREATE TABLE
    columns: tuple[str, ...]  # in COPY order (generated columns take none)
    partitioned: bool = False  # a partitioned parent: read whole, created as one table
    rename_batches = True  # read as c0, c1...: the columns take their own names
    copy_rows = True

    def create_in(self, schema: str) -> list[str]:
        """CREATE TABLE (and its column settings) in ``schema``; the types and defaults in
        it stay unqualified and resolve through the session's search_path."""
        own = f"TABLE {quote_ident(self.name)} "
        where = f"TABLE {qname(schema, self.name)} "
        return [self.create_sql.replace(own, where, 1)] + [
            s.replace(own, where, 1) for s in self.settings
        ]


@dataclass(frozen=True)
class NativeSchema:
    before: tuple[Statement, ...]  # types and sequences, before any table
    tables: dict[str, NativeTable]
    after: tuple[Statement, ...]  # keys, indexes, foreign keys, sequence positions
    last: tuple[Statement, ...]  # views and materialized views, their indexes, comments
    notes: tuple[str, ...]


def read_native(conn: object, schema: str, tables: Sequence[str]) -> NativeSchema:
    """The replica of ``tables`` of ``schema`` as the engine's statements."""
    replica = rep.read_replica(conn, schema, tables)
    before = [_statement(d, "prepare") for d in (*replica.types, *replica.sequences)]
    after = [
        *(
            Statement("vacuum", f"VACUUM (ANALYZE) {quote_ident(t.name)}", t.name, t.name)
            for t in replica.tables
        ),
        *(_statement(d) for d in replica.owned_by),
        *(_statement(d) for d in replica.constraints),
        *(_statement(d) for d in replica.indexes),
        *(_statement(d) for d in replica.sequence_values),
    ]
    last = [
        *(_statement(d, "view") for d in replica.views),
        *(_statement(d, "view_index") for d in replica.view_indexes),
        *(_statement(d, "comment") for d in replica.comments),
    ]
    native = {
        t.name: NativeTable(
            t.name, t.create_sql, tuple(t.alter_sql), tuple(t.columns), t.partitioned
        )
        for t in replica.tables
    }
    return NativeSchema(tuple(before), native, tuple(after), tuple(last), replica.notes)


def _statement(ddl: Ddl, kind: str | None = None) -> Statement:
    return Statement(
        kind or ddl.kind,
        ddl.sql,
        None if kind in {"prepare", *LAST_KINDS} else ddl.table,
        ddl.name,
        fallback_sql=ddl.fallback_sql,
        fallback_note="the copied rows violate it",
        depends=tuple(d for d in ddl.depends if d != ddl.table),
    )


def travels_as_text(column: Column) -> bool:
    """Whether a column is read as its text and cast back by the target server."""
    return parse_pg_type(column.declared).kind not in BINARY_KINDS


def select_expression(column: Column) -> str:
    q = quote_ident(column.name)
    return f"{q}::text" if travels_as_text(column) else q
