"""SQLite as a target: the writing connection, DDL, bulk ingest and the checks after it.

Rows go in through ``adbc_driver_sqlite``'s ``adbc_ingest(mode="append")``, which binds
each Arrow value to a prepared INSERT in C. It stores what it is given, and the column's
affinity then applies (driver-traps.md E): numeric text in a NUMERIC column becomes
INTEGER or REAL, keeping 15 significant digits, so the plan picks declared types whose
affinity keeps every value, and the writer only ever sends int64, float64, string,
binary or bool.
A new file is built under a temporary name with no rollback journal on disk and no
fsync, and only renamed into place once complete; an existing file is written table by
table, each table in its own transaction.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from arrowferry.dialects import sqllog
from arrowferry.dialects.sqltext import foreign_key_actions, quote_ident
from arrowferry.errors import ConnectError
from arrowferry.model import ForeignKey

# Arrow types the writer may send: each binds as exactly one SQLite storage class.
WRITABLE = (pa.bool_(), pa.int64(), pa.float64(), pa.string(), pa.binary())
PARTIAL_SUFFIX = ".arrowferry-partial"


# The page cache while rows go in: a key kept up during the load (a TEXT primary key's
# index) takes its rows in random order; 2 M of them took 4.3 s with 64 MiB, 6.2 s with
# SQLite's default 2 MiB.
LOAD_CACHE_KIB = 65_536
# ... and while an index is built after it. SQLite's sorter sorts runs as large as the
# cache in memory, then merges them: runs of 64 MiB sorted twice as slowly as SQLite's
# default 2 MiB ones (2 M rows, events(user_id): 1.45 s against 0.68 s), and its helper
# threads sort a run while the next is read (0.52 s). Measured with the driver's SQLite 3.53.
SORT_CACHE_KIB = 2_000
SORT_THREADS = min(4, os.cpu_count() or 1)


@contextlib.contextmanager
def sorting(conn: Any) -> Iterator[None]:
    """The page cache an index build sorts fastest with, for the block (then the load's)."""
    execute(conn, f"PRAGMA cache_size = -{SORT_CACHE_KIB}")
    try:
        yield
    finally:
        execute(conn, f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")


def partial_path(final: Path) -> Path:
    return final.with_name(final.name + PARTIAL_SUFFIX)


def connect(path: Path, *, fresh: bool) -> Any:
    """Open the target for writing (autocommit: the pipeline issues BEGIN and COMMIT).

    ``fresh``: a file nobody else sees yet, so a crash costs nothing and the journal
    can live in memory and writes need no fsync.
    """
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    try:
        conn = sqlite_adbc.connect(str(path), autocommit=True)
    except Exception as err:
        raise ConnectError(f"cannot open SQLite file {str(path)!r} for writing: {err}") from None
    pragmas = [
        "PRAGMA foreign_keys = OFF",  # checked once after the load: foreign_key_check
        "PRAGMA ignore_check_constraints = ON",  # counted after the load, per check
        f"PRAGMA cache_size = -{LOAD_CACHE_KIB}",
        f"PRAGMA threads = {SORT_THREADS}",
    ]
    if fresh:
        pragmas += ["PRAGMA journal_mode = MEMORY", "PRAGMA synchronous = OFF"]
    try:
        for sql in pragmas:
            execute(conn, sql)
    except Exception:
        conn.close()
        raise
    return conn


def execute(conn: Any, sql: str, params: Sequence[Any] | None = None) -> None:
    sqllog.statement("sqlite", sql, params)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        with contextlib.suppress(Exception):
            cur.fetchall()  # PRAGMAs answer with a row; a statement must be stepped to the end


def fetch(conn: Any, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    sqllog.statement("sqlite", sql, params)
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def ingest(conn: Any, table: str, data: pa.RecordBatchReader) -> int:
    """Append in the connection's current transaction; columns match by name."""
    sqllog.copy_in("sqlite", None, table)
    with conn.cursor() as cur:
        return int(cur.adbc_ingest(table, data, mode="append"))


def finalize(conn: Any, partial: Path | None, final: Path) -> None:
    """Close the connection; a fresh file is synced to disk and renamed into place."""
    conn.close()
    if partial is None:
        return
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(partial, final)


# --- DDL -----------------------------------------------------------------------------


def create_table_sql(name: str, definitions: Sequence[str]) -> str:
    body = ",\n  ".join(definitions)
    return f"CREATE TABLE {quote_ident(name)} (\n  {body}\n)"


RowidKey = Literal["", "rowid", "autoincrement"]  # a column that is the rowid itself


def column_sql(
    name: str,
    declared: str,
    *,
    not_null: bool = False,
    default: str | None = None,
    key: RowidKey = "",
) -> str:
    """A column definition. ``key``: the column is the rowid itself (``INTEGER PRIMARY
    KEY``, the fastest key SQLite has), with AUTOINCREMENT (ids never handed out twice)."""
    parts = [quote_ident(name), declared]
    if key:
        parts.append("PRIMARY KEY" + (" AUTOINCREMENT" if key == "autoincrement" else ""))
    elif not_null:
        parts.append("NOT NULL")
    if default is not None:
        parts.append(f"DEFAULT {default}")
    return " ".join(parts)


def primary_key_sql(columns: Sequence[str]) -> str:
    return f"PRIMARY KEY ({', '.join(quote_ident(c) for c in columns)})"


def check_sql(expression: str, name: str | None = None) -> str:
    return (f"CONSTRAINT {quote_ident(name)} " if name else "") + f"CHECK ({expression})"


def foreign_key_sql(fk: ForeignKey) -> str:
    """A foreign key as a table constraint (SQLite can add none after CREATE TABLE)."""
    cols = ", ".join(quote_ident(c) for c in fk.columns)
    refs = ", ".join(quote_ident(c) for c in fk.ref_columns)
    name = f"CONSTRAINT {quote_ident(fk.name)} " if fk.name else ""
    sql = f"{name}FOREIGN KEY ({cols}) REFERENCES {quote_ident(fk.ref_table)} ({refs})"
    return sql + foreign_key_actions(fk)


def drop_table_sql(name: str) -> str:
    return f"DROP TABLE IF EXISTS {quote_ident(name)}"


def index_sql(
    table: str, name: str, keys: Sequence[str], *, unique: bool, where: str | None = None
) -> str:
    kind = "UNIQUE INDEX" if unique else "INDEX"
    sql = f"CREATE {kind} {quote_ident(name)} ON {quote_ident(table)} ({', '.join(keys)})"
    return sql + (f" WHERE {where}" if where else "")


def set_sequence_sql(table: str, value: int) -> list[str]:
    """AUTOINCREMENT's high-water mark: the next id is above ``value``."""
    literal = table.replace("'", "''")
    return [
        f"DELETE FROM sqlite_sequence WHERE name = '{literal}'",
        f"INSERT INTO sqlite_sequence (name, seq) VALUES ('{literal}', {int(value)})",
    ]


def adopt_autoincrement(conn: Any, table: str, create_sql: str, sequence: int) -> None:
    """Give a loaded table its AUTOINCREMENT and sequence value, in one transaction.

    AUTOINCREMENT reads and writes ``sqlite_sequence`` on every INSERT statement, and
    the bulk ingest runs one statement per row: loading 2M rows took 4.6 s with it and
    3.4 s without. It changes nothing in the table's storage, so the table is loaded
    without it and the keyword added to its definition afterwards, the way SQLite
    documents for schema changes that leave the stored format alone
    (https://www.sqlite.org/lang_altertable.html#otheralter, steps 1-12 minus the copy).
    """
    execute(conn, "BEGIN")
    try:
        if not fetch(conn, "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'"):
            # sqlite_sequence is made by the first AUTOINCREMENT table, and stays
            execute(conn, 'CREATE TABLE "__arrowferry_seq" (k INTEGER PRIMARY KEY AUTOINCREMENT)')
            execute(conn, 'DROP TABLE "__arrowferry_seq"')
        version = int(fetch(conn, "PRAGMA schema_version")[0][0])
        execute(conn, "PRAGMA writable_schema = ON")
        execute(
            conn,
            "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
            (create_sql, table),
        )
        execute(conn, f"PRAGMA schema_version = {version + 1}")
        execute(conn, "PRAGMA writable_schema = OFF")
        for sql in set_sequence_sql(table, sequence):
            execute(conn, sql)
        execute(conn, "COMMIT")
    except BaseException:
        with contextlib.suppress(Exception):
            execute(conn, "PRAGMA writable_schema = OFF")
            execute(conn, "ROLLBACK")
        raise


def set_autoincrement(
    conn: Any, table: str, key: str, floor: int, create_sql: str | None = None
) -> None:
    """AUTOINCREMENT's counter set above every loaded key and at least at ``floor`` (the
    source's high-water mark). ``create_sql``: the table was loaded without the keyword,
    so its definition is adopted too (:func:`adopt_autoincrement`)."""
    value = max(int(max_value(conn, table, key) or 0), int(floor))
    if create_sql is not None:
        adopt_autoincrement(conn, table, create_sql, value)
        return
    execute(conn, "BEGIN")
    try:
        for sql in set_sequence_sql(table, value):
            execute(conn, sql)
        execute(conn, "COMMIT")
    except BaseException:
        # the writer goes on with the next statement: no transaction may stay open
        with contextlib.suppress(Exception):
            execute(conn, "ROLLBACK")
        raise


def analyze(conn: Any) -> None:
    """Statistics for the query planner, from at most about 1000 rows per index, so a
    large file is not read whole (https://www.sqlite.org/pragma.html#pragma_analysis_limit)."""
    execute(conn, "PRAGMA analysis_limit = 1000")
    execute(conn, "ANALYZE")


def create_view_sql(name: str, sql: str) -> str:
    return f"CREATE VIEW {quote_ident(name)} AS {sql}"


# --- checks after the load --------------------------------------------------------


def count_orphans(conn: Any, table: str, fk: ForeignKey) -> int | None:
    """Rows of ``table`` whose one-column foreign key finds no parent (None: a composite key).

    ``NOT IN`` over the parent keys is built once into a temporary index: 2M rows in
    0.16 s, against 2-4 s for PRAGMA foreign_key_check's lookup per row.
    """
    if len(fk.columns) != 1:
        return None
    col, ref = quote_ident(fk.columns[0]), quote_ident(fk.ref_columns[0])
    sql = (
        f"SELECT count(*) FROM {quote_ident(table)} WHERE {col} IS NOT NULL AND {col} NOT IN "
        f"(SELECT {ref} FROM {quote_ident(fk.ref_table)} WHERE {ref} IS NOT NULL)"
    )
    return int(fetch(conn, sql)[0][0])


def foreign_key_check_sql(table: str) -> str:
    return f"PRAGMA foreign_key_check({quote_ident(table)})"


def broken_foreign_keys(
    conn: Any, table: str, fks: Sequence[ForeignKey], limit: int = 5
) -> tuple[int, list[int]]:
    """(how many rows of ``table`` break one of ``fks``, a few of their rowids).

    One-column keys are counted first (:func:`count_orphans`, fast); the lookup per row
    of PRAGMA foreign_key_check runs only when that finds orphans or a key is composite.
    """
    quick = [count_orphans(conn, table, fk) for fk in fks]
    if all(n == 0 for n in quick):
        return 0, []
    return foreign_key_violations(conn, table, limit)


def foreign_key_violations(conn: Any, table: str, limit: int = 5) -> tuple[int, list[int]]:
    """(how many rows of ``table`` break a foreign key, a few of their rowids)."""
    rows = fetch(conn, foreign_key_check_sql(table))
    return len(rows), [r[1] for r in rows[:limit] if r[1] is not None]


def check_violations_sql(table: str, expression: str) -> str:
    return f"SELECT count(*) FROM {quote_ident(table)} WHERE NOT ({expression})"


def max_value(conn: Any, table: str, column: str) -> Any:
    return fetch(conn, f"SELECT max({quote_ident(column)}) FROM {quote_ident(table)}")[0][0]


def probe_view(conn: Any, name: str) -> None:
    """Run a view once: SQLite checks a view's body only when it is used."""
    fetch(conn, f"SELECT * FROM {quote_ident(name)} LIMIT 0")


def drop_view_sql(name: str) -> str:
    return f"DROP VIEW IF EXISTS {quote_ident(name)}"


def trial(definitions: Sequence[str], statements: Sequence[str] = ()) -> str | None:
    """Whether a table definition (and statements against it) work in SQLite, on an
    empty in-memory table: None when they do, else SQLite's message.

    Used on translated CHECKs and defaults before they go into a real CREATE TABLE,
    which cannot be changed afterwards.
    """
    import adbc_driver_sqlite.dbapi as sqlite_adbc

    conn = sqlite_adbc.connect(":memory:", autocommit=True)
    try:
        execute(conn, create_table_sql("trial", definitions))
        for sql in statements:
            execute(conn, sql)
        return None
    except Exception as err:
        return _message(err)
    finally:
        conn.close()


def literal_sql(value: Any) -> str:
    """A Python value (as a kernel's Arrow output gives it) as a SQLite literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise ValueError("SQLite has no NaN literal (it stores NaN as NULL)")
        if math.isinf(value):  # SQLite reads an overflowing literal as infinity
            return "9e999" if value > 0 else "-9e999"
        return repr(value)  # the shortest text that reads back as the same double
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    return "'" + str(value).replace("'", "''") + "'"


def trial_default(column: str) -> str | None:
    """Whether a column definition's DEFAULT works: created, then used by an INSERT."""
    return trial(
        [column, "__arrowferry_k INTEGER"],
        ['INSERT INTO "trial" ("__arrowferry_k") VALUES (1)'],
    )


def _message(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    # the driver's status code and its own framing; SQLite's words are what matter
    for prefix in (
        "INVALID_ARGUMENT: ",
        "INTERNAL: ",
        "INTEGRITY: ",
        "[SQLite] ",
        "Failed to prepare query: ",
    ):
        text = text.replace(prefix, "")
    return text


def driver_message(err: BaseException) -> str:
    return _message(err)
