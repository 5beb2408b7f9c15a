"""What the incremental tests do to a SQLite source between runs, and how they hold the
PostgreSQL target to it: value by value, with the type-aware comparison."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from tests.integration._compare import compare_table, pg_column_types


def change(path: Path, *statements: str) -> None:
    """Run ``statements`` on the SQLite file, in one committed transaction."""
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def assert_equal(path: Path, url: str, *tables: str) -> None:
    """Each table holds the same rows on both sides, compared value by value."""
    for table in tables:
        problems = compare_table(path, url, table, pg_column_types(url, table))
        assert problems == [], problems
