"""A SQLite source in an incremental run: the cursor's mark, and the rows between marks.

SQLite compares values of different storage classes by class (NULL < numbers < text <
blob), so a mark keeps its class and is written back as a literal of that class: a
cursor stored as text compares as text, one stored as integers as integers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.keyhash import HashSide, python_side
from arrowferry.dialects.keyranges import KeySide
from arrowferry.dialects.sqlite import read
from arrowferry.dialects.sqlite.catalog import connect_metadata
from arrowferry.dialects.sqlite.source import SqliteSource, _sql
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import ReadTypeChanged
from arrowferry.transfer.incremental import Mark

if TYPE_CHECKING:
    from arrowferry.plan.model import TablePlan


def literal(mark: Mark) -> str:
    """The mark as a SQLite literal of its own storage class."""
    if mark.kind == "integer":
        return str(int(mark.value))
    if mark.kind == "real":
        return repr(float(mark.value))
    if mark.kind == "blob":
        return f"X'{bytes.fromhex(mark.value).hex()}'"
    return "'" + mark.value.replace("'", "''") + "'"


def between(column: str, after: Mark | None, upto: Mark) -> str:
    """``after < column <= upto`` (NULL cursors are never above a mark)."""
    q = quote_ident(column)
    low = f"{q} > {literal(after)} AND " if after is not None else ""
    return f"{low}{q} <= {literal(upto)}"


class SqliteDelta:
    """Reads a SQLite file's changed rows through the plan's own SELECT."""

    def __init__(self, source: SqliteSource) -> None:
        self.source = source

    def bound(self, table: TablePlan, column: str, after: Mark | None) -> Mark | None:
        q = quote_ident(column)
        where = f"{q} > {literal(after)}" if after is not None else f"{q} IS NOT NULL"
        # max() orders across storage classes as comparisons do, so the bound and the
        # read's predicate agree on what lies between two marks
        sql = (
            f"SELECT max({q}), typeof(max({q})) FROM {quote_ident(table.source.name)} WHERE {where}"
        )
        with self.source.kept.metadata() as conn:  # one per table: a new one parses the schema
            value, kind = conn.execute(sql).fetchone()
        if value is None:
            return None
        if kind == "blob":
            return Mark(bytes(value).hex(), kind)
        return Mark(repr(value) if kind == "real" else str(value), kind)

    def batches(
        self, table: TablePlan, column: str, after: Mark | None, upto: Mark, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        # the planned read ends "FROM table" when it reads the whole table
        sql = f"{_sql(table)} WHERE {between(column, after, upto)}"
        positions = [-1] if table.rowid is not None else []
        tracked = table.class_tracked
        for i, col in enumerate(table.columns):
            positions += [i] * (1 + (col.read_as == "numeric") + (i in tracked))
        try:
            yield from read.read_batches(self.source.path, sql, batch_rows)
        except ReadTypeChanged as err:
            raise ReadTypeChanged(table.source.name, positions[err.index], str(err)) from err

    def key_side(self, table: TablePlan, column: str) -> KeySide:
        path = self.source.path

        def fetch(sql: str) -> list[tuple[Any, ...]]:
            with closing(connect_metadata(path)) as conn:
                return list(conn.execute(sql).fetchall())

        def keys(where: str) -> pa.Array:
            sql = read.sentinel_select(
                table.source.name, [("k", "integer", quote_ident(column))], where
            )
            parts = [b.column(0) for b in read.read_batches(path, sql, self.source.batch_size)]
            return pa.concat_arrays(parts) if parts else pa.array([], pa.int64())

        return KeySide(fetch, keys, quote_ident(table.source.name), quote_ident(column), local=True)

    def hash_side(self, table: TablePlan, columns: Sequence[str]) -> HashSide:
        path, name = self.source.path, quote_ident(table.source.name)
        names = ", ".join(quote_ident(c) for c in columns)

        def rows() -> Iterator[tuple[Any, ...]]:
            with closing(connect_metadata(path)) as conn:
                yield from conn.execute(f"SELECT {names} FROM {name}")

        def count() -> int:
            with closing(connect_metadata(path)) as conn:
                return int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])

        return python_side(rows, count)
