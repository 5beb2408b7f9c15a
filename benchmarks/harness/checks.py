"""What a load built besides its data: keys, unique indexes, foreign keys, indexes and
sequences, and each column's type (whether the values are right is ``content.py``'s
question, answered by arrowferry's own ``verify``)."""

from __future__ import annotations

import psycopg

from harness.schema import TABLES

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
            (list(TABLES),),
        ).fetchall()
    return {str(name): str(kind) for name, kind in rows}
