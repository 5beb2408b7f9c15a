"""PostgreSQL computes its side of a content checksum itself, in SQL.

Each value is hashed by the server's own extended hash functions, in the canonical
form of :mod:`arrowferry.dialects.checks` (the client computes the same functions on a
SQLite file, :mod:`arrowferry.checksum.pghash`), and summed per segment of rows: what
leaves the server is one row per segment, not the table (as reladiff does, but with
the hash functions hash partitioning relies on, which cost far less than ``md5`` of
every row's text: measured ~0.3 s for 2M rows of ints, floats, timestamps and numerics).
Everything runs in one ``REPEATABLE READ`` snapshot with the text forms the migration
reads with (UTC, ISO dates, ISO 8601 intervals).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa

from arrowferry.dialects.checks import NULL_MARK, SEED, CheckColumn, CheckTable
from arrowferry.dialects.postgresql import read
from arrowferry.dialects.postgresql.connection import driver_message, fetch, literal, qname
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import SourceError
from arrowferry.urls import Endpoint

__all__ = ["PostgresChecksum", "hash_sql"]


def _value_hash(col: CheckColumn, q: str, s: str) -> str:
    """The canonical hash of a non-NULL value (NULL in, NULL out)."""
    kind = col.kind
    if kind == "int":
        cast = "int4" if col.type.kind == "boolean" else "int8"
        return f"hashint8extended({q}::{cast}, {s})"
    if kind in {"float8", "float4"}:
        return f"hashfloat8extended({q}::float8, {s})"
    if kind == "scaled":
        amount = f"{q}::numeric" if col.type.raw == "money" else q
        return f"hashint8extended(({amount} * {10 ** (col.scale or 0)})::int8, {s})"
    if kind == "decimal":
        amount = f"{q}::numeric" if col.type.raw == "money" else q
        if col.scale is not None:
            amount = f"round({amount}, {int(col.scale)})"
        return f"hashtextextended(trim_scale({amount})::text, {s})"
    if kind == "text":
        # char(n) through its output function (::text would drop the padding; concat()
        # makes NULL '', so only a value goes through it)
        text = f"CASE WHEN {q} IS NOT NULL THEN concat({q}) END" if col.padded else f"{q}::text"
        return f"hashtextextended({text}, {s})"
    if kind == "written":
        # as a copy into SQLite stores it: the server's text, '+00' as '+00:00'
        text = f"{q}::text"
        if col.type.kind == "timestamptz":
            text = (
                f"CASE WHEN right({q}::text, 3) = '+00' THEN {q}::text || ':00' ELSE {q}::text END"
            )
        return f"hashtextextended({text}, {s})"
    if kind == "bytes":
        return f"hashtextextended(encode({q}, 'hex'), {s})"
    if kind == "timestamp":
        # timestamptz -> timestamp in UTC keeps the microseconds as stored (infinity too)
        value = f"{q}::timestamp" if col.type.kind == "timestamptz" else q
        return f"timestamp_hash_extended({value}, {s})"
    if kind == "date":
        days = (
            f"CASE WHEN {q} = 'infinity' THEN 2147483647 WHEN {q} = '-infinity' "
            f"THEN -2147483648 ELSE {q} - DATE '2000-01-01' END"
        )
        return f"hashint8extended({days}, {s})"
    if kind == "time":
        return f"time_hash_extended({q}, {s})"
    if kind == "array":
        return f"hashtextextended(to_json({q})::text, {s})"
    if kind == "other" and col.type.kind == "other":
        # the type's own output, as a copy into SQLite reads it (read.select_expression:
        # inet without the /32 its ::text adds); only a real NULL is NULL (a composite
        # whose fields are all NULL IS NULL too, yet it is a value)
        return (
            f"hashtextextended(CASE WHEN {q} IS NOT DISTINCT FROM NULL THEN NULL "
            f"ELSE format('%s', {q}) END, {s})"
        )
    # json, jsonb, uuid, interval: the server's text (jsonb prints its canonical form)
    return f"hashtextextended({q}::text, {s})"


def hash_sql(col: CheckColumn, s: str) -> str:
    """The canonical hash of one column's value for a row whose seed is ``s``."""
    q = quote_ident(col.name)
    return f"coalesce({_value_hash(col, q, s)}, {s} # {NULL_MARK})"


def seed_sql(table: CheckTable) -> str:
    """A row's seed: the hash chain of its key's values (a constant without a key)."""
    s = str(SEED)
    for col in table.key_columns:
        s = hash_sql(col, s)
    return s


def _row_hash(table: CheckTable, hashes: Sequence[str]) -> str:
    """A row without a key: the hash of its column hashes combined (XOR cannot overflow)."""
    return f"hashint8extended({' # '.join(hashes) or '0'}, {SEED})"


def _segment(table: CheckTable, s: str, row: str | None) -> str:
    segments = table.segments
    if segments.how == "range":
        key = quote_ident(table.columns[table.key[0]].name)
        return f"(({key}::int8 - ({int(segments.low)})) / {int(segments.width)})"
    return f"(({row if row is not None else s}) & {max(1, segments.count) - 1})"


def _relation(table: CheckTable) -> str:
    assert table.schema is not None
    return ("ONLY " if table.only else "") + qname(table.schema, table.name)


def _hashed(table: CheckTable) -> tuple[str, list[str]]:
    """(the row's seed, each column's hash) as SQL over the table's own columns."""
    s = seed_sql(table)
    return s, [hash_sql(col, s) for col in table.columns]


def sums_sql(table: CheckTable) -> str:
    """Per segment: the rows, then one sum of hashes per column (then the rows' own
    hashes, for a table without a key). Sums are numeric: text keeps them exact."""
    s, hashes = _hashed(table)
    names = [f"h{i}" for i in range(len(hashes))]
    row = _row_hash(table, names) if not table.key else None
    inner = ", ".join(f"{h} AS {n}" for h, n in zip(hashes, names, strict=True))
    if table.segments.how == "range":
        inner += f", {_segment(table, s, None)} AS seg"
    else:
        inner += f", {s} AS s"
    sums = [f"sum({n})::text AS {n}" for n in names] + ([f"sum({row})::text AS r"] if row else [])
    seg = "seg" if table.segments.how == "range" else _segment(table, "s", row)
    # no ORDER BY: the client files the sums by segment (a sort would be the plan's own)
    return (
        f"SELECT {seg} AS seg, count(*) AS n, {', '.join(sums)} "
        f"FROM (SELECT {inner} FROM {_relation(table)}) AS v GROUP BY 1"
    )


def rows_sql(
    table: CheckTable,
    segments: Sequence[int] | None = None,
    keys: Sequence[Sequence[Any]] | None = None,
) -> str:
    """Each row's key values, seed, segment and column hashes: of the given segments, or
    of the rows with the given keys (each a tuple of the key columns' values as text)."""
    s, hashes = _hashed(table)
    names = [f"h{i}" for i in range(len(hashes))]
    keys_out = [f"{quote_ident(c.name)}::text AS k{i}" for i, c in enumerate(table.key_columns)]
    inner = ", ".join(
        [*keys_out, f"{s} AS s", *(f"{h} AS {n}" for h, n in zip(hashes, names, strict=True))]
    )
    if table.segments.how == "range":
        inner += f", {_segment(table, s, None)} AS seg"
    where = ""
    if keys is not None:
        where = f" WHERE {_key_filter(table, keys)}"
    elif segments is not None and table.segments.how == "range":
        key = quote_ident(table.columns[table.key[0]].name)
        low, width = table.segments.low, table.segments.width
        ranges = [
            f"{key} BETWEEN {low + seg * width} AND {low + (seg + 1) * width - 1}"
            for seg in segments
        ]
        where = f" WHERE {' OR '.join(ranges) or 'false'}"
    row = _row_hash(table, names) if not table.key else None
    seg = "seg" if table.segments.how == "range" else _segment(table, "s", row)
    outer = ", ".join(
        [*(f"k{i}" for i in range(len(table.key))), "s", f"{seg} AS seg", *names]
        + ([f"{row} AS r"] if row else [])
    )
    sql = f"SELECT {outer} FROM (SELECT {inner} FROM {_relation(table)}{where}) AS v"
    if segments is not None and table.segments.how == "hash":
        sql = f"SELECT * FROM ({sql}) AS w WHERE seg IN ({', '.join(str(int(g)) for g in segments) or 'NULL'})"
    return sql


def _key_filter(table: CheckTable, keys: Sequence[Sequence[Any]]) -> str:
    if not keys:
        return "false"
    columns = table.key_columns
    # an integer key compares as itself, so its index finds the rows
    typed = [c.kind == "int" and c.type.kind != "boolean" for c in columns]
    cols = ", ".join(
        quote_ident(c.name) if t else f"{quote_ident(c.name)}::text"
        for c, t in zip(columns, typed, strict=True)
    )
    values = ", ".join(
        "("
        + ", ".join(
            "NULL" if v is None else (str(int(v)) if t else literal(str(v)))
            for v, t in zip(key, typed, strict=True)
        )
        + ")"
        for key in keys
    )
    return f"({cols}) IN ({values})"


def display_sql(table: CheckTable, keys: Sequence[Sequence[Any]]) -> str:
    """Whole rows, for the examples of a report: every column as the server writes it."""
    cols = ", ".join(
        [f"{quote_ident(c.name)}::text AS k{i}" for i, c in enumerate(table.key_columns)]
        + [f"{_display(c)} AS c{i}" for i, c in enumerate(table.columns)]
    )
    return f"SELECT {cols} FROM {_relation(table)} WHERE {_key_filter(table, keys)}"


def _display(col: CheckColumn) -> str:
    q = quote_ident(col.name)
    if col.type.kind in {"boolean", "int16", "int32", "int64", "text"}:
        return q
    return f"to_json({q})::text" if col.type.kind == "array" else f"{q}::text"


class PostgresChecksum:
    """One schema's side of a verification, in one snapshot."""

    hashes_itself = True  # segment sums and row hashes come from the server

    def __init__(self, endpoint: Endpoint, schema: str) -> None:
        self.endpoint = endpoint
        self.schema = schema
        self.conn = read.connect_snapshot(endpoint)
        read.check_schema(self.conn, schema, endpoint)
        # a partitioned table's rows are in its partitions: read it whole, not ONLY
        self.partitioned = read.partitioned_tables(self.conn, schema)

    def _own(self, table: CheckTable) -> CheckTable:
        return replace(table, only=table.name not in self.partitioned)

    def key_span(self, table: CheckTable, column: str) -> tuple[int, int] | None:
        return read.key_range(self.conn, self.schema, table.name, column)

    def estimated_rows(self, table: CheckTable) -> int:
        rows = fetch(
            self.conn,
            "SELECT greatest(c.reltuples, 0)::int8 FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
            [self.schema, table.name],
        )
        return int(rows[0][0]) if rows else 0

    def segment_sums(self, table: CheckTable) -> pa.Table:
        """seg, n, then one sum per column (and the row hashes' sum without a key), as text.

        The planner cannot tell that a segment holds thousands of rows (it takes the
        key's distinct values for the groups'), so it sorts every row by segment (on
        disk, past work_mem); a hash aggregate of the ~100 segments costs a third less
        CPU. Sorting is switched off for this statement only (``set_config`` local to
        the snapshot's transaction, then put back)."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT current_setting('enable_sort')")
            before = cur.fetchone()[0]
            cur.execute("SELECT set_config('enable_sort', 'off', true)")
            cur.fetchall()
        try:
            return self._arrow(sums_sql(self._own(table)))
        finally:
            with contextlib.suppress(Exception), self.conn.cursor() as cur:
                cur.execute(f"SELECT set_config('enable_sort', {literal(before)}, true)")
                cur.fetchall()

    def row_hashes(
        self,
        table: CheckTable,
        segments: Sequence[int] | None = None,
        keys: Sequence[Sequence[Any]] | None = None,
    ) -> pa.Table:
        """k0.. (key values as text), s, seg, h0.. (and r without a key), one row each."""
        return self._arrow(rows_sql(self._own(table), segments, keys))

    def display_rows(self, table: CheckTable, keys: Sequence[Sequence[Any]]) -> pa.Table:
        return self._arrow(display_sql(self._own(table), keys)) if keys else pa.table({})

    def batches(self, table: CheckTable, piece: Any) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError("PostgreSQL hashes its own rows")

    def _arrow(self, sql: str) -> pa.Table:
        try:
            with self.conn.cursor() as cur:
                from arrowferry.dialects import sqllog

                sqllog.statement("postgresql", sql)
                cur.execute(sql)
                return cur.fetch_arrow_table()
        except Exception as err:
            raise SourceError(
                f"checksum of {self.endpoint.masked_url} failed: {driver_message(err, self.endpoint)}"
            ) from None

    def message(self, err: BaseException) -> str:
        return driver_message(err, self.endpoint)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the report matters more than a clean goodbye
            read.end_snapshot(self.conn)
