"""Reading SQLite data: the typed batch reader and the exact row lookups for rejects.

Data is read with ``adbc_driver_sqlite`` as Arrow batches. The driver ignores declared
types and fixes each column's Arrow type from the first batch (driver-traps.md A), so
every column is read through an explicit ``CAST`` chosen from the profile (or none, on
the fast path), behind a typed sentinel row that pins the types even when the first
batch is all NULL.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from arrowferry.dialects import sqllog
from arrowferry.dialects.sqlite.catalog import connect_metadata
from arrowferry.dialects.sqltext import quote_ident
from arrowferry.errors import ReadTypeChanged, SourceError
from arrowferry.model import Table
from arrowferry.urls import sqlite_uri

ReadAs = Literal["integer", "real", "text", "blob", "numeric"]

# --- reading ---------------------------------------------------------------------------

READ_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "real": pa.float64(),
    "text": pa.string(),
    "blob": pa.binary(),
    "numeric": pa.string(),
}
"""The Arrow type the driver must produce for each way of reading a column."""

REAL_SUFFIX = "_r"
"""A ``numeric`` read also yields ``c{i}_r``: the column's REAL values, as doubles."""
CLASS_SUFFIX = "_k"
"""A column read through a CAST may also yield ``c{i}_k``: the storage class each value
had before it (``CLASS_CODES``; NULL for a NULL), so what the CAST interpreted is counted."""
CLASS_CODES = {"integer": 1, "real": 2, "text": 3, "blob": 4}

_CAST = {
    "integer": "{q}",
    "real": "{q}",
    "text": "CAST({q} AS TEXT)",
    "blob": "CAST({q} AS BLOB)",
    "numeric": "CASE WHEN typeof({q}) = 'real' THEN NULL ELSE CAST({q} AS TEXT) END",
}
_SENTINEL = {"integer": "0", "real": "0.0", "text": "''", "blob": "x''", "numeric": "''"}
ROWID = "__arrowferry_rowid"
ROWID_ALIASES = (
    "_rowid_",
    "rowid",
    "oid",
)  # SQLite's names for the rowid, unless a column takes one
_TYPE_MISMATCH = re.compile(r"Type mismatch in column (?P<index>\d+): (?P<detail>[^\n.]*)")


def rowid_alias(table: Table) -> str | None:
    """The name that reaches a rowid table's rowid: the first of ``_rowid_``, ``rowid``,
    ``oid`` that no column shadows (None for WITHOUT ROWID, or all three shadowed).

    None for a virtual table too: a module may give its rows no rowid, or not seek
    by it, so such a table is read in one piece (its rowid, when it has one, is a
    column of the plan)."""
    if table.without_rowid or table.module is not None:
        return None
    names = {c.name.lower() for c in table.columns}
    return next((alias for alias in ROWID_ALIASES if alias not in names), None)


def read_sql(
    table: str,
    columns: Sequence[tuple[str, ReadAs, bool]],
    *,
    rowid: str | None,
    rowids: tuple[int, int] | None = None,
    classes: Collection[int] = (),
) -> str:
    """The SELECT that pins every column's Arrow type; column i is named ``c{i}``.

    ``rowid`` (an alias from :func:`rowid_alias`) adds the rowid as the first column;
    ``rowids`` (first, last) reads one range of a rowid table, through the rowid b-tree.
    ``classes``: the columns (by position) that also yield their storage class.

    Numbers are never CAST to INTEGER or REAL, since SQLite's CAST never fails and
    silently turns 'abc' into 0. A ``numeric`` read splits the column in two: REAL
    values travel as doubles (``c{i}_r``), so they can be written with their
    shortest round-trip text, which SQLite's own CAST does not produce; everything
    else as SQLite's text.
    """
    items: list[tuple[str, ReadAs, str]] = []
    if rowid is not None:
        items.append((ROWID, "integer", rowid))
    for i, (name, kind, cast) in enumerate(columns):
        q = quote_ident(name)
        items.append(
            (f"c{i}", kind, (_CAST[kind] if cast or kind == "numeric" else "{q}").format(q=q))
        )
        if kind == "numeric":
            items.append(
                (f"c{i}{REAL_SUFFIX}", "real", f"CASE WHEN typeof({q}) = 'real' THEN {q} END")
            )
        if i in classes:
            codes = " ".join(f"WHEN '{k}' THEN {v}" for k, v in CLASS_CODES.items())
            items.append((f"c{i}{CLASS_SUFFIX}", "integer", f"CASE typeof({q}) {codes} END"))
    if rowids is not None and rowid is None:
        raise ValueError("a rowid range needs the rowid")
    return sentinel_select(table, items, rowid_range(rowid, rowids) if rowid else "")


def rowid_range(rowid: str, rowids: tuple[int, int] | None) -> str:
    """``WHERE`` text reading one range (first, last) of rowids, through the rowid b-tree."""
    if rowids is None:
        return ""
    return f"WHERE {rowid} BETWEEN {int(rowids[0])} AND {int(rowids[1])}"


def sentinel_select(table: str, items: Sequence[tuple[str, ReadAs, str]], where: str = "") -> str:
    """``SELECT <expression> AS <name>, ... FROM table [where]`` behind a typed sentinel row.

    ``items``: (result name, the Arrow type it must arrive as, its SQL expression).
    The first branch is a typed sentinel row (driver-traps.md A: the driver types a
    column from its first batch, and a NULL never upgrades it); :func:`read_batches`
    drops it. Shared by the plan's reader and the same-dialect copy (``replica_rows``).
    """
    heads = ", ".join(f"{_SENTINEL[kind]} AS {quote_ident(name)}" for name, kind, _ in items)
    body = ", ".join(expr for _, _, expr in items)
    tail = f" {where}" if where else ""
    return f"SELECT {heads} UNION ALL SELECT {body} FROM {quote_ident(table)}{tail}"


def bytes_per_row(path: Path, sql: str, sample: int = 1_000, conn: Any = None) -> float | None:
    """Average Arrow size of a row of ``sql``'s first ``sample`` rows (None when empty);
    ``conn``: a reader to run it on (:func:`read_batches`)."""
    rows = bytes_ = 0
    query = f"SELECT * FROM ({sql}) LIMIT {int(sample) + 1}"
    for batch in read_batches(path, query, sample + 1, conn):
        rows += batch.num_rows
        bytes_ += batch.nbytes
    return bytes_ / rows if rows else None


def rowid_span(
    path: Path, table: str, rowid: str, conn: sqlite3.Connection | None = None
) -> tuple[int, int] | None:
    """The smallest and largest rowid of a rowid table (two b-tree seeks); None if empty.
    ``conn``: a metadata connection to ask on (else one of its own)."""
    with contextlib.ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(closing(connect_metadata(path)))
        # one aggregate per SELECT: with both in one, SQLite scans the whole table
        q = quote_ident(table)
        low, high = conn.execute(
            f"SELECT (SELECT min({rowid}) FROM {q}), (SELECT max({rowid}) FROM {q})"
        ).fetchone()
    return None if low is None else (int(low), int(high))


def open_reader(path: Path) -> Any:
    """A read-only ADBC connection to the file (:func:`read_batches` reuses it)."""
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    return sqlite_adbc.connect(sqlite_uri(path, read_only=True))


def read_batches(
    path: Path, sql: str, batch_rows: int, conn: Any | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream the query's batches from adbc_driver_sqlite, without the sentinel row.

    ``conn``: an open reader (:func:`open_reader`) to run it on, left open, its read
    transaction ended; else one of its own, closed. The cursor (and its own connection)
    are closed however the stream ends, including when the consumer stops early (a
    conversion error, a retry): ADBC refuses to close a connection whose statement is
    still open.
    """
    with contextlib.ExitStack() as stack:
        if conn is None:
            conn = stack.enter_context(closing(open_reader(path)))
        else:  # after the cursor closes, the read transaction ends: no lock outlives it
            stack.callback(conn.rollback)
        cur = stack.enter_context(closing(conn.cursor()))
        try:
            cur.adbc_statement.set_options(
                **{"adbc.sqlite.query.batch_rows": str(max(1, batch_rows))}
            )
            sqllog.statement("sqlite", sql)
            cur.execute(sql)
            reader = cur.fetch_record_batch()
            first = True
            for batch in reader:
                if first:
                    batch = batch.slice(1)
                    first = False
                if batch.num_rows:
                    yield batch
        except Exception as err:  # the driver raises OSError/adbc errors: keep them typed
            raise _read_error(path, err) from err


def _read_error(path: Path, err: Exception) -> Exception:
    if isinstance(err, SourceError):
        return err
    mismatch = _TYPE_MISMATCH.search(str(err))
    if mismatch:
        return ReadTypeChanged(str(path), int(mismatch["index"]), mismatch["detail"])
    return SourceError(f"reading {str(path)!r} failed: {err}")


@dataclass(frozen=True, slots=True)
class InvalidText:
    """A TEXT value whose bytes are not valid UTF-8 (SQLite never checks)."""

    raw: bytes


def _text(raw: bytes) -> str | InvalidText:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidText(raw)


def fetch_rows(
    path: Path, table: str, rowid: str, rowids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """Whole rows by rowid, exactly as stored (for the reject file; an error path only)."""
    if not rowids:
        return {}
    with closing(connect_metadata(path)) as conn:
        conn.text_factory = _text
        out: dict[int, dict[str, Any]] = {}
        for start in range(0, len(rowids), 500):
            chunk = list(rowids[start : start + 500])
            marks = ", ".join("?" for _ in chunk)
            cur = conn.execute(
                f"SELECT {rowid} AS {quote_ident(ROWID)}, * FROM {quote_ident(table)} "
                f"WHERE {rowid} IN ({marks})",
                chunk,
            )
            names = [d[0] for d in cur.description]
            for values in cur:
                record = dict(zip(names, values, strict=True))
                out[int(record.pop(ROWID))] = record
        return out


def fetch_rows_by_key(
    path: Path, table: str, columns: Sequence[str], keys: Sequence[Sequence[Any]]
) -> list[dict[str, Any] | None]:
    """Whole rows of a WITHOUT ROWID table by primary key, as stored (error path only)."""
    where = " AND ".join(f"{quote_ident(c)} = ?" for c in columns)
    out: list[dict[str, Any] | None] = []
    with closing(connect_metadata(path)) as conn:
        conn.text_factory = _text
        for key in keys:
            cur = conn.execute(f"SELECT * FROM {quote_ident(table)} WHERE {where}", list(key))
            names = [d[0] for d in cur.description]
            found = cur.fetchone()
            out.append(dict(zip(names, found, strict=True)) if found else None)
    return out
