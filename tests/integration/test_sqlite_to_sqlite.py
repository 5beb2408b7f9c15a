"""SQLite -> SQLite through the one engine: every value keeps its storage class, and the
copy keeps keys, indexes, views, triggers, AUTOINCREMENT counters and header pragmas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.errors import TargetExistsError
from tests.integration._sqlite_fixture import build_dirty_sqlite
from tests.integration._sqlite_same import assert_same_sqlite


@pytest.mark.parametrize("name", ["chinook", "northwind"])
def test_a_corpus_database_is_copied_value_by_value(
    name: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    source: Path = request.getfixturevalue(name)
    copy = tmp_path / "copy.sqlite"
    result = af.migrate(source, copy)
    assert result.success, result.to_dict()
    assert result.rows_migrated > 0
    assert_same_sqlite(source, copy)
    assert not list(tmp_path.glob("*.arrowferry-partial"))
    with sqlite3.connect(source) as conn:
        indexes = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchone()[0]
        keys = sum(
            conn.execute(
                f"SELECT count(DISTINCT id) FROM pragma_foreign_key_list('{t}')"
            ).fetchone()[0]
            for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        )
    # the summary counts what the copy made, as every run's does
    assert result.summary.indexes_created == indexes
    assert result.summary.foreign_keys_created == keys


def test_dirty_storage_classes_survive_the_copy(tmp_path: Path) -> None:
    source = tmp_path / "dirty.sqlite"
    build_dirty_sqlite(source)
    copy = tmp_path / "copy.sqlite"
    result = af.migrate(source, copy, batch_size=10_000)
    assert result.success, result.to_dict()
    assert_same_sqlite(source, copy)
    # the ledger says the values went as stored: nothing converted, nothing rejected
    assert {e["conversion"] for e in result.ledger} == {"copied as stored"}
    assert result.rows_rejected == 0


def test_an_existing_target_is_refused_then_replaced(tmp_path: Path) -> None:
    source = tmp_path / "src.sqlite"
    with sqlite3.connect(source) as conn:
        conn.executescript(
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v);"
            "INSERT INTO t (v) VALUES (1), ('1'), (1.5), (x'01');"
            "DELETE FROM t WHERE id = 4;"
        )
    copy = tmp_path / "copy.sqlite"
    assert af.migrate(source, copy).success
    with pytest.raises(TargetExistsError):
        af.migrate(source, copy)
    assert af.migrate(source, copy, drop_tables=True).success
    assert_same_sqlite(source, copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT typeof(v) FROM t ORDER BY id").fetchall() == [
            ("integer",),
            ("text",),
            ("real",),
        ]
        assert conn.execute("SELECT seq FROM sqlite_sequence").fetchall() == [(4,)]
