"""Correctness of a loaded database: row counts, per-column content checksums, structure.

Each column's canonical text (see ``schema.CHECKED``) is hashed in id order, in buckets of
``BUCKET_ROWS`` ids, and the bucket hashes are hashed again; comparing those digests with the
COPY-limit load's says which column of which table differs, if any.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from harness.schema import BUCKET_ROWS, CHECKED

NULL_MARK = "\\N"


@dataclass
class TableSums:
    """Row count and one digest per column; ``errors`` holds columns that could not be read."""

    rows: int
    columns: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def find_schema(conn: psycopg.Connection[Any], table: str) -> str | None:
    """The first non-system schema holding a table called ``table`` (pgloader may add one)."""
    row = conn.execute(
        """SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = %s AND c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        ORDER BY n.nspname = 'public' DESC, n.nspname LIMIT 1""",
        (table,),
    ).fetchone()
    return str(row[0]) if row else None


def _checksum_sql(qualified: str, columns: dict[str, str], max_id: int | None) -> str:
    where = f"WHERE id <= {int(max_id)}" if max_id is not None else ""
    canonical = [expr.format(c=f'"{col}"') for col, expr in columns.items()]
    inner = ", ".join(
        f"md5(string_agg(coalesce({text}, '{NULL_MARK}'), E'\\n' ORDER BY id)) AS c{i}"
        for i, text in enumerate(canonical)
    )
    outer = ", ".join(f"md5(string_agg(c{i}, '' ORDER BY b))" for i in range(len(columns)))
    return (
        f"SELECT coalesce(sum(n), 0), {outer} FROM ("
        f"SELECT id::bigint / {BUCKET_ROWS} AS b, count(*) AS n, {inner}"
        f" FROM {qualified} {where} GROUP BY 1) AS buckets"
    )


def _run_sums(
    conn: psycopg.Connection[Any], qualified: str, columns: dict[str, str], max_id: int | None
) -> tuple[int, list[str]]:
    row = conn.execute(_checksum_sql(qualified, columns, max_id)).fetchone()
    assert row is not None
    return int(row[0]), [str(v) for v in row[1:]]


def table_sums(
    conn: psycopg.Connection[Any],
    table: str,
    max_id: int | None = None,
    columns: dict[str, str] | None = None,
) -> TableSums:
    """Checksums of ``table`` (ids ``<= max_id`` only, when given) in one scan, of
    ``columns`` (name -> canonical text expression; by default ``CHECKED[table]``).

    When one column's expression fails (a type no cast accepts, a missing column), each
    column is retried alone so the others are still compared.
    """
    schema = find_schema(conn, table)
    if schema is None:
        return TableSums(rows=-1, errors={"*": "table not found"})
    qualified = f'"{schema}"."{table}"'
    columns = columns if columns is not None else CHECKED[table]
    try:
        rows, digests = _run_sums(conn, qualified, columns, max_id)
        return TableSums(rows=rows, columns=dict(zip(columns, digests, strict=True)))
    except psycopg.Error:
        conn.rollback()
    sums = TableSums(rows=-1)
    for col, expr in columns.items():
        try:
            sums.rows, (sums.columns[col],) = _run_sums(conn, qualified, {col: expr}, max_id)
        except psycopg.Error as err:
            conn.rollback()
            sums.errors[col] = str(err).splitlines()[0]
    return sums


def database_sums(url: str, max_ids: dict[str, int] | None = None) -> dict[str, TableSums]:
    """``table_sums`` for every checked table of the database at ``url``."""
    with psycopg.connect(url) as conn:
        # Timestamptz renders in the session zone; UTC keeps the wall clock the tool stored.
        conn.execute("SET TimeZone = 'UTC'")
        return {table: table_sums(conn, table, (max_ids or {}).get(table)) for table in CHECKED}


def compare(got: dict[str, TableSums], want: dict[str, TableSums]) -> list[str]:
    """Human-readable differences between two ``database_sums`` results (empty when equal)."""
    if not want:
        return ["no COPY-limit reference to compare with"]
    problems: list[str] = []
    for table, expected in want.items():
        actual = got.get(table)
        if actual is None:
            problems.append(f"{table}: not checked")
            continue
        if actual.rows != expected.rows:
            problems.append(f"{table}: {actual.rows} rows, expected {expected.rows}")
        for col, err in actual.errors.items():
            problems.append(f"{table}.{col}: {err}")
        for col, digest in expected.columns.items():
            if col not in actual.errors and actual.columns.get(col) != digest:
                problems.append(f"{table}.{col}: values differ")
    return problems


STRUCTURE_SQL = """
SELECT
  (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
     WHERE k.contype = 'p' AND n.nspname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE i.indisunique AND NOT i.indisprimary
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')),
  (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
     WHERE k.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')),
  (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE NOT i.indisunique
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')),
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema'))
"""


def structure(url: str) -> dict[str, int]:
    """What the method built besides data: keys, unique indexes, FKs, plain indexes, sequences."""
    with psycopg.connect(url) as conn:
        row = conn.execute(STRUCTURE_SQL).fetchone()
    assert row is not None
    names = ("primary_keys", "unique", "foreign_keys", "indexes", "sequences")
    return dict(zip(names, (int(v) for v in row), strict=True))


def column_types(url: str) -> dict[str, str]:
    """``table.column -> type`` for the checked tables, to show what each tool chose."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """SELECT c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = ANY(%s) AND c.relkind = 'r' AND a.attnum > 0
              AND NOT a.attisdropped
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            ORDER BY c.relname, a.attnum""",
            (list(CHECKED),),
        ).fetchall()
    return {str(name): str(kind) for name, kind in rows}
