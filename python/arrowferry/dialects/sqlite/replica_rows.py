"""SQLite -> SQLite rows: every value arrives with its storage class, through Arrow.

The path is the one every pair takes (ADBC read -> Arrow -> ADBC write), never an
``ATTACH`` of the source. What makes it exact:

- **One Arrow column per storage class.** A column whose values all have one class is
  read as itself (int64, float64, binary); a column holding several is split into one
  Arrow column per class present (``c3_i``, ``c3_r``, ``c3_t``, ``c3_b``), each NULL
  where the value has another class. ADBC's writer refuses union and struct columns,
  and a mixed column read as-is changes Arrow type between batches or prints its REALs
  with ``%e`` (driver-traps.md A). Every part is pinned by the typed sentinel row of
  ``read.sentinel_select``.
- **TEXT travels as its bytes** (``CAST(c AS BLOB)``) and is made TEXT again by the
  INSERT (``CAST(? AS TEXT)``): SQLite never checks that TEXT is valid UTF-8, Arrow's
  string type requires it (Polars panics on it, driver-traps.md trap 11), and the
  bytes are exact in any database encoding (a UTF-16 file gives UTF-16 bytes, which a
  copy made with the same encoding takes back as they are). NUL bytes are kept.
- **REALs as float64**, never through ``CAST(x AS TEXT)`` (15 significant digits).
- **One INSERT with bound parameters** for the whole stream, ``executemany`` over the
  Arrow reader: ``INSERT INTO t (...) VALUES (?, coalesce(?, ?, CAST(? AS TEXT), ?))``
  puts the one non-NULL part of a split column back together in the statement itself.
  It is what ``adbc_ingest`` does inside (bind a stream to a prepared INSERT), with
  expressions, so it costs no more, and it needs no staging table: on 1M mixed rows the
  staging path (untyped TEMP table, then INSERT ... SELECT) took 0.4-0.6 s longer.
- **Affinity.** A value written into a column is converted by the column's affinity, so
  the copy holds what the source holds only when that conversion changes nothing. It
  never does for a value SQLite stored itself; it does for a value written before the
  column's declared type was edited (``TableProfile.unstable``). Such a table is loaded
  with those columns untyped and its own text put back afterwards.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from arrowferry.dialects import sqllog
from arrowferry.dialects.sqlite import virtual as vt
from arrowferry.dialects.sqlite.profile import chunked, one_snapshot
from arrowferry.dialects.sqlite.read import ROWID, ReadAs, sentinel_select
from arrowferry.dialects.sqlite.read import rowid_range as rowid_where
from arrowferry.dialects.sqlite.replica import ColumnReplica, TableProfile, TableReplica
from arrowferry.dialects.sqltext import quote_ident, split_create_table
from arrowferry.errors import SourceError

StorageClass = Literal["integer", "real", "text", "blob"]
CLASSES: tuple[StorageClass, ...] = ("integer", "real", "text", "blob")
SUFFIX = {"integer": "_i", "real": "_r", "text": "_t", "blob": "_b"}
ARROW: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "real": pa.float64(),
    "text": pa.binary(),  # the bytes: see the module docstring
    "blob": pa.binary(),
}
_READ_AS: dict[str, ReadAs] = {"integer": "integer", "real": "real", "text": "blob", "blob": "blob"}
_NEGATIVE_ZERO = "arrowferry_negative_zero"


# --- the profile ----------------------------------------------------------------------


def profile_table(conn: sqlite3.Connection, table: TableReplica) -> TableProfile:
    """The storage classes of each column and the values its affinity would change, in
    one scan of the table, or one per ``COLUMNS_PER_SCAN`` columns of a wide one, in one
    snapshot (``conn``: a metadata connection of the source).

    A column whose class SQLite guarantees is not scanned: the INTEGER PRIMARY KEY that
    is the rowid, and a STRICT table's typed columns. Classes are found with
    ``group_concat(DISTINCT typeof(c))``, about half the cost of counting them.

    Examples
    --------
    >>> import sqlite3
    >>> from arrowferry.dialects.sqlite.replica import read_replica
    >>> conn = sqlite3.connect(":memory:")
    >>> _ = conn.execute("CREATE TABLE t (a INTEGER, b)")
    >>> _ = conn.execute("INSERT INTO t VALUES (1, 'x'), (2, 2.5)")
    >>> found = profile_table(conn, read_replica(conn, ["t"]).tables[0])
    >>> sorted(found.classes["a"]), sorted(found.classes["b"]), dict(found.unstable)
    (['integer'], ['real', 'text'], {})
    """
    known = {c.name: frozenset({k}) for c in table.columns if (k := _sure_class(table, c))}
    scanned = [c for c in table.columns if c.name not in known]
    classes: dict[str, frozenset[str]] = dict(known)
    unstable: dict[str, int] = {}
    rows = 0
    runs = chunked(scanned)  # past SQLite's 2,000 result columns: a scan per run, one snapshot
    with one_snapshot(conn, len(runs) > 1):
        for run in runs:
            rows, found, changed = _scan(conn, table, run)
            classes.update(found)
            unstable.update(changed)
    for c in scanned:
        if not table.strict and c.affinity == "text" and classes[c.name] & {"integer", "real"}:
            unstable[c.name] = _numbers(conn, table, c.name)  # in a TEXT column: retyped
    unstable = {name: n for name, n in unstable.items() if n}
    if not unstable:
        return TableProfile(rows, classes)
    load_sql, notes = _untyped_load(table, sorted(unstable))
    return TableProfile(rows, classes, unstable, load_sql, notes)


def _scan(
    conn: sqlite3.Connection, table: TableReplica, columns: Sequence[ColumnReplica]
) -> tuple[int, dict[str, frozenset[str]], dict[str, int]]:
    """One scan over ``columns``: (rows, their classes, values their affinity changes)."""
    checked = [c for c in columns if not table.strict and c.affinity in _CONVERTING]
    parts = ["count(*)"]
    parts += [f"group_concat(DISTINCT typeof({quote_ident(c.name)}))" for c in columns]
    parts += [_unstable_sql(quote_ident(c.name), c.affinity) for c in checked]
    row = _one_row(conn, table, f"SELECT {', '.join(parts)} FROM main.{quote_ident(table.name)}")
    values = iter(row[1:])
    classes: dict[str, frozenset[str]] = {}
    for c in columns:
        found = str(next(values) or "").split(",")
        classes[c.name] = frozenset(k for k in CLASSES if k in found)
    return int(row[0]), classes, {c.name: int(next(values) or 0) for c in checked}


_CONVERTING = {"integer", "numeric", "real"}  # affinities that may turn text into a number
_STRICT_CLASS: dict[str, StorageClass] = {
    "INT": "integer",
    "INTEGER": "integer",
    "REAL": "real",
    "TEXT": "text",
    "BLOB": "blob",
}


def _sure_class(table: TableReplica, column: ColumnReplica) -> StorageClass | None:
    if column.name == table.rowid_column:
        return "integer"
    if table.strict:
        return _STRICT_CLASS.get(column.declared.strip().upper())
    return None


def _one_row(conn: sqlite3.Connection, table: TableReplica, sql: str) -> tuple[Any, ...]:
    try:
        if table.is_virtual:  # the driver's SQLite may know a module the library's lacks
            return vt.rows(conn, sql)[0]
        conn.create_function(_NEGATIVE_ZERO, 1, _negative_zero, deterministic=True)
        return tuple(conn.execute(sql).fetchone())
    except (sqlite3.DatabaseError, SourceError) as err:
        raise SourceError(f"cannot read table {table.name!r}: {err}") from err


def _numbers(conn: sqlite3.Connection, table: TableReplica, column: str) -> int:
    q = quote_ident(column)
    sql = f"SELECT count(*) FROM main.{quote_ident(table.name)} WHERE typeof({q}) IN ('integer', 'real')"
    return int(_one_row(conn, table, sql)[0])


def _unstable_sql(q: str, affinity: str) -> str:
    """SQL counting the values of an INTEGER, NUMERIC or REAL column ``q`` that writing
    them again would change (a TEXT column's are its numbers: counted apart, rarely).

    Text: ``+q = CAST(q AS NUMERIC)`` holds exactly when numeric affinity turns the text
    into a number. The comparison applies that affinity to both sides, and only a
    well-formed number converts, while CAST converts any prefix: '0123' gives 123 = 123,
    '12abc' stays text against 12, 'abc' against 0. ``q = +q`` would not do: both sides
    convert alike.
    An integral REAL within int64 becomes an INTEGER in an INTEGER or NUMERIC column, and
    -0.0 becomes 0 in any numeric column (SQLite has no SQL that sees the sign of a zero,
    hence the function, called on zeros only).
    """
    text = f"+{q} = CAST({q} AS NUMERIC) COLLATE BINARY"
    if affinity == "real":
        real = f"CASE WHEN {q} = 0 THEN {_NEGATIVE_ZERO}({q}) END"
    else:
        real = (
            f"{q} = CAST({q} AS INTEGER) AND {q} > -9.223372036854775808e18 "
            f"AND {q} < 9.223372036854775808e18"
        )
    return f"sum(CASE typeof({q}) WHEN 'text' THEN {text} WHEN 'real' THEN {real} END)"


def _negative_zero(value: Any) -> int:
    return int(isinstance(value, float) and value == 0 and math.copysign(1.0, value) < 0)


_CONSTRAINT_WORDS = {
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
}


def _untyped_load(table: TableReplica, columns: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """The table's text with ``columns`` left untyped, checked to define the same table
    but for those types; (None, a note) when that cannot be done."""
    listed = ", ".join(repr(c) for c in columns)
    cannot = (
        f"table {table.name!r}: columns {listed} hold values written before their declared "
        "type was changed; written again, SQLite converts them to that type ('0123' in an "
        "INTEGER column becomes 123)"
    )
    if table.strict or table.is_virtual:
        return None, (cannot,)
    wanted = {c.lower() for c in columns}
    cuts = []
    for definition in split_create_table(table.sql):
        if not definition.is_column or definition.column_name.lower() not in wanted:
            continue
        toks, end, depth = definition.tokens, 1, 0
        while end < len(toks) and (depth or toks[end].upper not in _CONSTRAINT_WORDS):
            depth += {"(": 1, ")": -1}.get(toks[end].text, 0)
            end += 1
        if end > 1:
            cuts.append((toks[1].start, toks[end - 1].end))
    text = table.sql
    for start, stop in sorted(cuts, reverse=True):
        text = text[:start] + text[stop:]
    if not _same_but_types(table.sql, text, wanted):
        return None, (cannot,)
    return text, ()


def _same_but_types(original: str, untyped: str, columns: set[str]) -> bool:
    """Whether ``untyped`` defines the table ``original`` does, ``columns`` untyped."""

    def shape(sql: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:
        with closing(sqlite3.connect(":memory:")) as conn:
            try:
                conn.execute(sql)
                name = conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).fetchone()
                cols = conn.execute(
                    'SELECT name, type, "notnull", dflt_value, pk, hidden '
                    "FROM pragma_table_xinfo(?) ORDER BY cid",
                    name,
                ).fetchall()
                keys = conn.execute(
                    'SELECT "unique", origin, partial FROM pragma_index_list(?) ORDER BY seq',
                    name,
                ).fetchall()
            except sqlite3.Error:
                return None
        return cols, keys

    before, after = shape(original), shape(untyped)
    if before is None or after is None or before[1] != after[1]:
        return False
    expected = [(c[0], "" if c[0].lower() in columns else c[1], *c[2:]) for c in before[0]]
    return expected == after[0]


# --- reading --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """One Arrow column of a read: the values of one storage class of a column."""

    field: str
    storage_class: StorageClass


@dataclass(frozen=True, slots=True)
class ColumnLayout:
    column: str
    parts: tuple[Part, ...]

    def value_sql(self) -> str:
        """The INSERT's expression for this column: its one non-NULL part, TEXT parts
        made TEXT again (their bytes as they were)."""
        exprs = ["CAST(? AS TEXT)" if p.storage_class == "text" else "?" for p in self.parts]
        return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"


@dataclass(frozen=True, slots=True)
class Layout:
    """Which Arrow columns of a read make which column of the table."""

    rowid: str | None
    """The Arrow column holding the rowid, when the table's rowid travels on its own."""
    columns: tuple[ColumnLayout, ...]

    @property
    def fields(self) -> list[str]:
        """The Arrow columns in the order the INSERT binds them."""
        head = [self.rowid] if self.rowid else []
        return head + [p.field for c in self.columns for p in c.parts]

    @property
    def schema(self) -> pa.Schema:
        types = {p.field: ARROW[p.storage_class] for c in self.columns for p in c.parts}
        if self.rowid:
            types[self.rowid] = pa.int64()
        return pa.schema([(name, types[name]) for name in self.fields])

    @property
    def split(self) -> bool:
        """Whether some column arrives in several parts (several storage classes)."""
        return any(len(c.parts) > 1 for c in self.columns)


def read_sql(
    table: TableReplica,
    classes: Mapping[str, frozenset[str] | set[str]],
    rowid_range: tuple[int, int] | None = None,
) -> tuple[str, Layout]:
    """The SELECT reading every data column of ``table`` in Arrow-exact form, and its
    layout. ``classes``: each column's storage classes (``TableProfile.classes``);
    ``rowid_range`` (first, last): one range of rowids (``table.seekable`` only).

    Read its batches with ``read.read_batches`` (which drops the sentinel row).

    Examples
    --------
    >>> from arrowferry.dialects.sqlite.replica import ColumnReplica
    >>> t = TableReplica("t", "", (ColumnReplica("v", "", "blob"),), "_rowid_", True)
    >>> sql, layout = read_sql(t, {"v": {"integer", "text"}})
    >>> layout.fields
    ['__arrowferry_rowid', 'c0_i', 'c0_t']
    """
    items: list[tuple[str, ReadAs, str]] = []
    if table.carry_rowid and table.rowid:
        items.append((ROWID, "integer", table.rowid))
    layouts = []
    for i, column in enumerate(table.columns):
        q = quote_ident(column.name)
        present = [k for k in CLASSES if k in classes.get(column.name, ())] or ["integer"]
        parts = []
        for k in present:
            value = f"CAST({q} AS BLOB)" if k == "text" else q
            field = f"c{i}" if len(present) == 1 else f"c{i}{SUFFIX[k]}"
            expr = value if len(present) == 1 else f"CASE WHEN typeof({q}) = '{k}' THEN {value} END"
            items.append((field, _READ_AS[k], expr))
            parts.append(Part(field, k))
        layouts.append(ColumnLayout(column.name, tuple(parts)))
    where = ""
    if rowid_range is not None:
        if not table.seekable or table.rowid is None:
            raise ValueError(f"table {table.name!r} cannot be read by rowid range")
        where = rowid_where(table.rowid, rowid_range)
    layout = Layout(ROWID if table.carry_rowid and table.rowid else None, tuple(layouts))
    return sentinel_select(table.name, items, where), layout


# --- writing --------------------------------------------------------------------------


def insert_sql(table: TableReplica, layout: Layout) -> str:
    names = [table.rowid] if layout.rowid and table.rowid else []
    names += [quote_ident(c.column) for c in layout.columns]
    values = ["?"] if layout.rowid else []
    values += [c.value_sql() for c in layout.columns]
    return (
        f"INSERT INTO main.{quote_ident(table.name)} ({', '.join(names)}) "
        f"VALUES ({', '.join(values)})"
    )


def ingest(conn: Any, table: TableReplica, layout: Layout, reader: pa.RecordBatchReader) -> int:
    """Write a read's batches into ``table`` on the target's ADBC connection
    (``write.connect``), in the caller's transaction; returns the rows written.

    The batches' columns are taken by name in the order the INSERT binds them, and each
    must have exactly its part's Arrow type (int64, float64, binary): a batch that does
    not is an error, never a conversion.
    """
    expected = layout.schema
    missing = [n for n in expected.names if n not in reader.schema.names]
    wrong = [
        f"{n}: {reader.schema.field(n).type} (expected {expected.field(n).type})"
        for n in expected.names
        if n not in missing and reader.schema.field(n).type != expected.field(n).type
    ]
    if missing or wrong:
        raise ValueError(
            f"batches for table {table.name!r} do not match its layout: "
            + "; ".join([*(f"{n}: missing" for n in missing), *wrong])
        )

    def ordered() -> Iterator[pa.RecordBatch]:
        for batch in reader:  # zero-copy: the columns by name, under the layout's schema
            columns = [batch.column(name) for name in expected.names]
            yield pa.RecordBatch.from_arrays(columns, schema=expected)

    sql = insert_sql(table, layout)
    sqllog.statement("sqlite", sql)
    stream = pa.RecordBatchReader.from_batches(expected, ordered())
    with conn.cursor() as cur:
        cur.executemany(sql, stream)
        return int(cur.rowcount)
