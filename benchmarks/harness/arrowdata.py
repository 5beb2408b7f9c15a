"""The ingest limit's input: each table read once from PostgreSQL, already in the Arrow
types SQLite binds (int64, float64, string, binary, bool), kept as Arrow IPC stream files.

Columns whose Arrow form SQLite cannot bind as it is (timestamp, numeric, jsonb: the
driver gives timestamp[us] and extension types) are read as PostgreSQL's own text, in the
session forms arrowferry also sets (UTC, ISO dates), so the stored values are those a
migration stores. Rows come in the order of the plan (the rowid key), as SQLite appends
them fastest. Made once per source and cached; ``reverse_methods.ingest_limit`` reads the
files back from disk.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

SESSION = ("SET TimeZone = 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'iso_8601'")

# Arrow as read -> the Arrow type written; anything else is read as text.
BINDABLE: dict[pa.DataType, pa.DataType] = {
    pa.bool_(): pa.bool_(),
    pa.int16(): pa.int64(),
    pa.int32(): pa.int64(),
    pa.int64(): pa.int64(),
    pa.float64(): pa.float64(),
    pa.string(): pa.string(),
    pa.large_string(): pa.string(),
    pa.binary(): pa.binary(),
    pa.large_binary(): pa.binary(),
}


def file_for(folder: Path, table: str) -> Path:
    return folder / f"{table}.arrows"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_sql(conn: Any, schema: str, table: str, order_by: Sequence[str]) -> tuple[str, pa.Schema]:
    """The SELECT that yields bindable columns, and the schema written."""
    relation = f"{_quote(schema)}.{_quote(table)}"
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {relation} LIMIT 0")
        probe = cur.fetch_arrow_table().schema
    exprs, fields = [], []
    for f in probe:
        if f.type in BINDABLE:
            exprs.append(_quote(f.name))
            fields.append(pa.field(f.name, BINDABLE[f.type]))
        else:
            exprs.append(f"{_quote(f.name)}::text AS {_quote(f.name)}")
            fields.append(pa.field(f.name, pa.string()))
    order = f" ORDER BY {', '.join(_quote(c) for c in order_by)}" if order_by else ""
    return f"SELECT {', '.join(exprs)} FROM {relation}{order}", pa.schema(fields)


def _write(conn: Any, sql: str, schema: pa.Schema, path: Path) -> int:
    rows = 0
    with (
        conn.cursor() as cur,
        pa.OSFile(str(path), "wb") as sink,
        pa.ipc.new_stream(sink, schema) as writer,
    ):
        cur.execute(sql)
        for batch in cur.fetch_record_batch():
            arrays = [column.cast(f.type) for column, f in zip(batch.columns, schema, strict=True)]
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            rows += batch.num_rows
    return rows


def materialise(
    url: str, schema: str, tables: Sequence[tuple[str, Sequence[str]]], out_dir: Path
) -> Path:
    """``<table>.arrows`` for each (table, order by) in ``out_dir``, unless already there."""
    if all(file_for(out_dir, name).exists() for name, _ in tables):
        return out_dir
    import adbc_driver_postgresql.dbapi as pg_adbc

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with pg_adbc.connect(url) as conn:
        with conn.cursor() as cur:
            for statement in SESSION:
                cur.execute(statement)
        for name, order_by in tables:
            sql, written = _read_sql(conn, schema, name, order_by)
            _write(conn, sql, written, file_for(tmp, name))
        conn.rollback()
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir
