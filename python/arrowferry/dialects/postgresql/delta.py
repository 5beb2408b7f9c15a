"""A PostgreSQL source in an incremental run: the cursor's mark, and the rows between marks.

Both are read in the run's snapshot (the source's exported one), so the mark is the
largest cursor value among exactly the rows this run sees: a row committed while the
run reads is above it, and arrives in the next run. A mark keeps its type's name and
is compared as a value of that type (``'...'::timestamp with time zone``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from arrowferry.dialects.keyhash import HashSide, postgres_side
from arrowferry.dialects.keyranges import KeySide, arrow_keys, arrow_table, pg_estimate
from arrowferry.dialects.postgresql import connection as pgc
from arrowferry.dialects.postgresql import read
from arrowferry.dialects.postgresql.source import PostgresSource
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.transfer.incremental import Mark

if TYPE_CHECKING:
    from arrowferry.plan.model import TablePlan


def literal(mark: Mark) -> str:
    return "'" + mark.value.replace("'", "''") + "'::" + mark.kind


def between(column: str, after: Mark | None, upto: Mark) -> str:
    q = quote_ident(column)
    low = f"{q} > {literal(after)} AND " if after is not None else ""
    return f"{low}{q} <= {literal(upto)}"


class PostgresDelta:
    """Reads a PostgreSQL schema's changed rows in the run's snapshot."""

    def __init__(self, source: PostgresSource) -> None:
        self.source = source

    def _relation(self, table: TablePlan) -> str:
        return ("ONLY " if table.only else "") + pgc.qname(self.source.schema, table.source.name)

    def bound(self, table: TablePlan, column: str, after: Mark | None) -> Mark | None:
        q = quote_ident(column)
        where = f"{q} > {literal(after)}" if after is not None else f"{q} IS NOT NULL"
        sql = (
            f"SELECT max({q})::text, pg_typeof(max({q}))::text FROM {self._relation(table)} "
            f"WHERE {where}"
        )
        with self.source.in_snapshot() as conn:
            rows = pgc.fetch(conn, sql)
        value, kind = rows[0]
        return None if value is None else Mark(str(value), str(kind))

    def batches(
        self, table: TablePlan, column: str, after: Mark | None, upto: Mark, batch_rows: int
    ) -> Iterator[pa.RecordBatch]:
        cols = ", ".join(f"{c.select or c.source} AS c{i}" for i, c in enumerate(table.columns))
        order = ", ".join(quote_ident(c) for c in table.order_by)
        sql = f"SELECT {cols} FROM {self._relation(table)} WHERE {between(column, after, upto)}" + (
            f" ORDER BY {order}" if order else ""
        )
        with self.source.in_snapshot() as conn:
            yield from read.read_batches(conn, sql, self.source.batch_bytes)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with self.source.in_snapshot() as conn:
            return pgc.fetch(conn, sql)

    def key_side(self, table: TablePlan, column: str) -> KeySide:
        fetch = self._fetch
        relation, q = self._relation(table), quote_ident(column)

        def keys(where: str) -> pa.Array:
            with self.source.in_snapshot() as conn:
                return arrow_keys(conn, f"SELECT {q}::bigint FROM {relation} {where}", "postgresql")

        def result(sql: str) -> pa.Table:
            with self.source.in_snapshot() as conn:
                return arrow_table(conn, sql, "postgresql")

        return KeySide(
            fetch, keys, relation, q, estimate=pg_estimate(fetch, relation), table=result
        )

    def hash_side(self, table: TablePlan, columns: Sequence[str]) -> HashSide:
        return postgres_side(self._fetch, self._relation(table), [quote_ident(c) for c in columns])
