"""Incremental runs (issue 16, the rest): the mark a full run records, deletes on any key,
``--full-refresh-unkeyed``, and what an incremental run leaves out of a full run's
finishing work.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import arrowferry as af
from tests.conftest import make_sqlite, sql
from tests.integration._compare import compare_table, pg_column_types

APP = """
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL,
  updated_at TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT);
"""


def _app(path: Path) -> Path:
    return make_sqlite(
        path,
        APP,
        {
            "orders": [
                (i, f"c{i % 7}", i * 1.25, f"2024-01-01 00:{i % 60:02d}:00") for i in range(1, 101)
            ],
            "events": [(i, "click") for i in range(1, 31)],
        },
    )


def _change(path: Path, *statements: str) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def _equal(path: Path, url: str, *tables: str) -> None:
    for table in tables:
        problems = compare_table(path, url, table, pg_column_types(url, table))
        assert problems == [], problems


def _moved(result: af.MigrationResult, table: str) -> tuple[Any, ...]:
    done = result.incremental[table]
    return done["inserted"], done["updated"], done["unchanged"]


# --- 4. the mark recorded by the first full migration ----------------------------------------


def test_a_full_run_given_a_cursor_records_the_mark_sqlite_to_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    app = _app(tmp_path / "app.db")
    full = af.migrate(app, pg_url, cursor="updated_at")
    assert full.success, full.errors
    state = sql(
        pg_url,
        "SELECT table_name, cursor_column, mark, mark_kind FROM arrowferry_state.incremental",
    )
    assert state == [("orders", "updated_at", "2024-01-01 00:59:00", "text")]
    nothing = af.migrate(app, pg_url, mode="incremental", cursor="updated_at")
    assert nothing.success, nothing.errors
    assert _moved(nothing, "orders") == (0, 0, 0)  # not one row read again
    assert _moved(nothing, "events") == (0, 0, 0)
    _change(app, "UPDATE orders SET amount = 0, updated_at = '2024-02-01 00:00:00' WHERE id = 9")
    one = af.migrate(app, pg_url, mode="incremental", cursor="updated_at")
    assert one.success, one.errors
    assert _moved(one, "orders") == (0, 1, 0)
    _equal(app, pg_url, "orders", "events")


def test_a_full_run_given_a_cursor_records_the_mark_postgresql_to_sqlite(
    tmp_path: Path, pg_url: str
) -> None:
    sql(pg_url, "CREATE TABLE items (id bigint PRIMARY KEY, v text, updated_at timestamptz)")
    sql(
        pg_url,
        "INSERT INTO items SELECT i, 'v' || i, timestamptz '2024-01-01 00:00+00' + i * "
        "interval '1 hour' FROM generate_series(1, 40) i",
    )
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy, cursor="updated_at").success
    nothing = af.migrate(pg_url, copy, mode="incremental", cursor="updated_at")
    assert nothing.success, nothing.errors
    assert _moved(nothing, "items") == (0, 0, 0)
    assert nothing.incremental["items"]["mark"] == nothing.incremental["items"]["previous_mark"]
    sql(pg_url, "UPDATE items SET v = 'x', updated_at = '2025-01-01+00' WHERE id = 3")
    one = af.migrate(pg_url, copy, mode="incremental", cursor="updated_at")
    assert _moved(one, "items") == (0, 1, 0)
    assert af.verify(pg_url, copy, ["items"]).ok


# --- 1. no full migration's finishing work ----------------------------------------------------

LINKED = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT, updated_at TEXT NOT NULL);
CREATE INDEX events_kind ON events (kind);
"""


def test_foreign_keys_stay_in_place_and_writes_follow_them(tmp_path: Path, pg_url: str) -> None:
    """New rows arrive referenced tables first, deletes referencing tables first, with the
    target's foreign key in place all along: nothing is dropped or re-validated."""
    app = make_sqlite(
        tmp_path / "app.db",
        LINKED,
        {
            "users": [(i, f"u{i}", "2024-01-01") for i in range(1, 21)],
            "events": [(i, 1 + i % 20, "k", "2024-01-01") for i in range(1, 101)],
        },
    )
    assert af.migrate(app, pg_url, cursor="updated_at").success
    oid = sql(pg_url, "SELECT oid FROM pg_constraint WHERE contype = 'f'")
    _change(
        app,
        "INSERT INTO users VALUES (21, 'new', '2024-02-01')",
        "INSERT INTO events VALUES (101, 21, 'new', '2024-02-01')",
        "DELETE FROM events WHERE user_id = 5",
        "DELETE FROM users WHERE id = 5",
        "UPDATE events SET kind = 'moved', user_id = 21, updated_at = '2024-02-02' WHERE id = 7",
    )
    run = af.migrate(app, pg_url, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert run.success, run.errors
    assert not [w for w in run.warnings if "foreign key" in w], run.warnings
    assert _moved(run, "users") == (1, 0, 0) and run.incremental["users"]["deleted"] == 1
    assert _moved(run, "events") == (1, 1, 0) and run.incremental["events"]["deleted"] == 5
    # the same constraint (not dropped and made again), still validated
    assert sql(pg_url, "SELECT oid, convalidated FROM pg_constraint WHERE contype = 'f'") == [
        (oid[0][0], True)
    ]
    _equal(app, pg_url, "users", "events")
