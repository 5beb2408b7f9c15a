"""What a data-only run must leave as the application's migrations made it, in PostgreSQL.

:func:`schema_snapshot` reads, for one schema, every column (type as ``format_type``
prints it, NOT NULL, default, identity), index (``pg_indexes.indexdef``), constraint
(``pg_get_constraintdef``, validated, deferrable), enum label and sequence ownership; a
run that drops and rebuilds an index or a constraint, or changes a type, changes it.
:func:`sequences_behind` names every serial or identity column whose next value is not
past the copied ids. :func:`sqlite_schema` is the SQLite file's counterpart of the snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from arrowferry.urls import parse_url


def libpq(url: str) -> str:
    """The libpq URL psycopg, SQLAlchemy and Django are given for ``url``."""
    return parse_url(url).url


def sqlalchemy_url(url: str, schema: str) -> tuple[str, dict[str, Any]]:
    """SQLAlchemy's URL (psycopg 3) and ``connect_args`` working in ``schema``.

    The application reaches its schema through ``search_path`` (as Django's
    ``OPTIONS['options']`` does), so its DDL and queries name no schema.
    """
    from sqlalchemy.engine import make_url

    made = make_url(libpq(url)).set(drivername="postgresql+psycopg")
    return made.render_as_string(hide_password=False), {"options": f"-c search_path={schema}"}


@contextmanager
def connect(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        yield conn


def create_schema(url: str, schema: str) -> None:
    with connect(url) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def drop_schema(url: str, schema: str) -> None:
    with connect(url) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attnum
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, a.attnum
"""
_INDEXES = "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s ORDER BY 1, 2"
_CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated,
       condeferrable, condeferred
FROM pg_constraint WHERE connamespace = %(schema)s::regnamespace ORDER BY 1, 2
"""
_ENUMS = """
SELECT t.typname, e.enumlabel, e.enumsortorder
FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
WHERE t.typnamespace = %(schema)s::regnamespace ORDER BY 1, 3
"""
_SEQUENCES = """
SELECT c.relname, a.attname, pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
  AND pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname) IS NOT NULL
ORDER BY 1, 2
"""


def schema_snapshot(url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Columns, indexes, constraints, enum labels and owned sequences of ``schema``."""
    with connect(url) as conn:
        return {
            kind: [tuple(row) for row in conn.execute(query, {"schema": schema}).fetchall()]
            for kind, query in (
                ("columns", _COLUMNS),
                ("indexes", _INDEXES),
                ("constraints", _CONSTRAINTS),
                ("enum labels", _ENUMS),
                ("owned sequences", _SEQUENCES),
            )
        }


def snapshot_changes(
    before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    """Each catalog row that a run removed or added, by kind."""
    out: list[str] = []
    for kind in before:
        gone = [row for row in before[kind] if row not in after[kind]]
        new = [row for row in after[kind] if row not in before[kind]]
        out += [f"{kind}: removed {row}" for row in gone]
        out += [f"{kind}: added {row}" for row in new]
    return out


def sequences_behind(url: str, schema: str) -> list[str]:
    """Each serial/identity column whose sequence would hand out an id already copied."""
    out: list[str] = []
    with connect(url) as conn:
        for table, column, sequence in conn.execute(_SEQUENCES, {"schema": schema}).fetchall():
            top = conn.execute(
                sql.SQL("SELECT max({}) FROM {}.{}").format(
                    sql.Identifier(column), sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchone()
            last, called = conn.execute(
                sql.SQL("SELECT last_value, is_called FROM {}").format(
                    sql.SQL(sequence)  # pg_get_serial_sequence quotes it already
                )
            ).fetchone() or (None, None)
            next_value = last + 1 if called else last
            if top is not None and top[0] is not None and next_value <= top[0]:
                out.append(
                    f"{table}.{column}: sequence {sequence} hands out {next_value} next, "
                    f"the copied ids reach {top[0]}"
                )
    return out


def sqlite_schema(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, index and trigger of a SQLite file as its ``CREATE`` statement."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
        ).fetchall()
    finally:
        conn.close()
    return {"sqlite_master": [tuple(row) for row in rows]}
