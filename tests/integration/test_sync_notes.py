"""What a sync cannot do is said, never skipped in silence."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import arrowferry as af


def _db(path: Path, script: str) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(script)
        conn.commit()
    return path


def test_a_sqlite_counter_without_autoincrement_is_named_not_skipped(tmp_path: Path) -> None:
    desired = _db(
        tmp_path / "a.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);"
        "INSERT INTO t VALUES (100, 'x'); DELETE FROM t;",
    )
    target = _db(
        tmp_path / "b.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (3, 'x');",
    )
    kinds = {d.kind for d in af.compare_schemas(desired, target).differences}
    assert "sequence" in kinds
    result = af.sync_schema(desired, target)
    assert not any("sqlite_sequence" in sql for sql in result.sql_statements)
    assert any("counter of t" in note and "AUTOINCREMENT" in note for note in result.notes)
