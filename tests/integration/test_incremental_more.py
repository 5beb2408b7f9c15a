"""Incremental runs (issue 16, the rest): the mark a full run records, deletes on any key,
``--full-refresh-unkeyed``, and what an incremental run leaves out of a full run's
finishing work.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import struct
from contextlib import closing
from pathlib import Path
from typing import Any

import arrowferry as af
from tests.conftest import database_defaults, make_sqlite, sql
from tests.integration._incremental_helpers import assert_equal as _equal
from tests.integration._incremental_helpers import change as _change

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


# --- 2. deletes on any key of integer and text columns ----------------------------------------

PAIRS = """
CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, w TEXT, updated_at TEXT NOT NULL,
  PRIMARY KEY (a, b));
CREATE TABLE tags (name TEXT PRIMARY KEY, n INTEGER, updated_at TEXT NOT NULL);
"""
# keys that one naive joining of their parts would confuse ("a,1" + 2 and "a" + ...)
AWKWARD = ["a", "a,1", "a:1", "1:a", "ü", "日本", "", "x y", "'q'"]


def test_deletes_on_composite_and_text_keys_sqlite_to_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    pairs = [(a, b, f"w{b}", "2024-01-01") for a in AWKWARD for b in range(1, 120)]
    tags = [(f"t{i}", i, "2024-01-01") for i in range(3000)]
    app = make_sqlite(tmp_path / "app.db", PAIRS, {"pairs": pairs, "tags": tags})
    assert af.migrate(app, pg_url, cursor="updated_at").success
    _change(
        app,
        "DELETE FROM pairs WHERE (a = 'a,1' AND b = 7) OR (a = '' AND b = 1) OR "
        "(a = '日本' AND b = 100)",
        "DELETE FROM tags WHERE name IN ('t5', 't2999')",
        "INSERT INTO pairs VALUES ('a', 1000, 'new', '2024-02-01')",
        "UPDATE tags SET n = -1, updated_at = '2024-02-01' WHERE name = 't6'",
    )
    run = af.migrate(app, pg_url, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert run.success, run.errors
    assert run.incremental["pairs"]["deleted"] == 3
    assert run.incremental["tags"]["deleted"] == 2
    assert not [w for w in run.warnings if "not looked for" in w]
    _equal(app, pg_url, "pairs", "tags")
    # many deletes: the whole key sets are compared
    _change(app, "DELETE FROM pairs WHERE b % 3 = 0", "DELETE FROM tags WHERE n % 2 = 0")
    many = af.migrate(app, pg_url, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert many.success, many.errors
    assert many.incremental["tags"]["deleted"] == 1499  # t6 (n = -1) stays
    _equal(app, pg_url, "pairs", "tags")
    nothing = af.migrate(app, pg_url, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert (nothing.incremental["pairs"]["deleted"], nothing.incremental["tags"]["deleted"]) == (
        0,
        0,
    )


def test_deletes_on_composite_keys_postgresql_to_sqlite(tmp_path: Path, pg_url: str) -> None:
    sql(
        pg_url,
        "CREATE TABLE pairs (a text, b bigint, w text, updated_at timestamptz NOT NULL, "
        "PRIMARY KEY (a, b))",
    )
    sql(
        pg_url,
        "INSERT INTO pairs SELECT k, i, 'w', '2024-01-01+00' FROM unnest($1::text[]) k, "
        "generate_series(1, 200) i",
        [AWKWARD],
    )
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy, cursor="updated_at").success
    sql(pg_url, "DELETE FROM pairs WHERE (a = 'ü' AND b = 3) OR (a = 'a:1' AND b = 200)")
    sql(pg_url, "UPDATE pairs SET w = 'z', updated_at = '2024-03-01+00' WHERE a = 'x y' AND b = 9")
    run = af.migrate(pg_url, copy, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert run.success, run.errors
    assert run.incremental["pairs"]["deleted"] == 2
    assert _moved(run, "pairs") == (0, 1, 0)
    assert af.verify(pg_url, copy, ["pairs"]).ok


# --- 3. --full-refresh-unkeyed ------------------------------------------------------------------

UNKEYED = """
CREATE TABLE orders (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT NOT NULL);
CREATE TABLE notes (body TEXT, n INTEGER);
CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT);
"""


def test_full_refresh_unkeyed_copies_every_table_it_cannot_follow(
    tmp_path: Path, pg_url: str
) -> None:
    app = make_sqlite(
        tmp_path / "app.db",
        UNKEYED,
        {
            "orders": [(i, f"v{i}", "2024-01-01") for i in range(1, 51)],
            "notes": [(f"note {i}", i) for i in range(10)],
            "codes": [(f"c{i}", f"label {i}") for i in range(20)],
        },
    )
    assert af.migrate(app, pg_url, cursor="updated_at").success
    _change(
        app,
        "DELETE FROM notes WHERE n < 3",
        "INSERT INTO notes VALUES ('late', 99), ('late', 99)",  # a duplicate row, kept twice
        "UPDATE codes SET label = 'changed' WHERE code = 'c4'",
        "DELETE FROM codes WHERE code = 'c7'",
        "UPDATE orders SET v = 'x', updated_at = '2024-02-01' WHERE id = 2",
    )
    left = af.migrate(app, pg_url, mode="incremental", cursor="orders=updated_at")
    assert left.incremental["notes"]["how"] == "skipped"
    assert left.incremental["codes"]["how"] == "skipped"
    assert sql(pg_url, "SELECT count(*) FROM notes") == [(10,)]  # untouched

    run = af.migrate(
        app, pg_url, mode="incremental", cursor="orders=updated_at", full_refresh_unkeyed=True
    )
    assert run.success, run.errors
    for name in ("notes", "codes"):
        done = run.incremental[name]
        assert done["how"] == "full" and "--full-refresh-unkeyed" in done["reason"], done
    assert run.incremental["notes"]["inserted"] == 9
    assert run.incremental["orders"]["how"] == "cursor"
    assert _moved(run, "orders") == (0, 0, 0)  # its change arrived in the run before
    _equal(app, pg_url, "orders", "codes")
    assert sorted(sql(pg_url, "SELECT body, n FROM notes")) == sorted(
        sqlite3.connect(app).execute("SELECT body, n FROM notes").fetchall()
    )


def test_a_cycle_of_foreign_keys_falls_back_to_dropping_and_revalidating(
    tmp_path: Path, pg_url: str
) -> None:
    app = make_sqlite(
        tmp_path / "app.db",
        """
        CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id), updated_at TEXT);
        CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), updated_at TEXT);
        """,
        {
            "a": [(i, i, "2024-01-01") for i in range(1, 11)],
            "b": [(i, i, "2024-01-01") for i in range(1, 11)],
        },
    )
    assert af.migrate(app, pg_url, cursor="updated_at").success
    _change(
        app,
        "INSERT INTO a VALUES (11, 11, '2024-02-01')",
        "INSERT INTO b VALUES (11, 11, '2024-02-01')",
    )
    run = af.migrate(app, pg_url, mode="incremental", cursor="updated_at")
    assert run.success, run.errors
    assert [w for w in run.warnings if "form a cycle" in w]
    assert sql(
        pg_url, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"
    ) == [(2,)]
    _equal(app, pg_url, "a", "b")


def test_a_sqlite_target_analyzes_only_a_table_whose_rows_changed_much(
    tmp_path: Path, pg_url: str
) -> None:
    for name in ("big", "small"):
        sql(pg_url, f"CREATE TABLE {name} (id bigint PRIMARY KEY, v text, updated_at bigint)")
        sql(pg_url, f"CREATE INDEX {name}_v ON {name} (v)")
        sql(pg_url, f"INSERT INTO {name} SELECT i, 'v' || i % 7, 0 FROM generate_series(1, 500) i")
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy, cursor="updated_at").success
    with closing(sqlite3.connect(copy)) as conn:
        conn.execute("DELETE FROM sqlite_stat1")  # forgotten: only a new ANALYZE brings it back
        conn.commit()
    sql(pg_url, "UPDATE big SET v = 'changed', updated_at = 1 WHERE id <= 100")  # 20%
    sql(pg_url, "UPDATE small SET v = 'changed', updated_at = 1 WHERE id <= 10")  # 2%
    run = af.migrate(pg_url, copy, mode="incremental", cursor="updated_at")
    assert run.success, run.errors
    with closing(sqlite3.connect(copy)) as conn:
        analyzed = {r[0] for r in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert analyzed == {"big"}
    assert af.verify(pg_url, copy, ["big", "small"]).ok


# --- 2. deletes in dense integer keys: bitmap words on the server --------------------------


def _words_taken(monkeypatch: Any) -> list[int]:
    """How many bitmap comparisons ran (each appends the words that differed)."""
    from arrowferry.dialects import keyranges

    taken: list[int] = []
    original = keyranges._missing_words

    def counted(*args: Any) -> tuple[list[int], int]:
        keys, differ = original(*args)
        taken.append(differ)
        return keys, differ

    monkeypatch.setattr(keyranges, "_missing_words", counted)
    return taken


def test_deletes_everywhere_in_dense_keys_sqlite_to_postgresql(
    tmp_path: Path, pg_url: str, monkeypatch: Any
) -> None:
    """Negative and positive keys, a delete in nearly every word of 64 and rows the source
    gained: the server's bitmaps give exactly the keys that left."""
    app = make_sqlite(
        tmp_path / "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT NOT NULL);",
        {"t": [(i, f"v{i}", "2024-01-01") for i in range(-3000, 3001) if i % 7]},
    )
    assert af.migrate(app, pg_url, cursor="updated_at").success
    _change(  # new rows fill the gaps: keys the target lacks in its own words, not deletes
        app,
        "DELETE FROM t WHERE id % 61 = 5 OR id % 61 = -5",
        "INSERT INTO t SELECT id - 1, v, '2024-02-01' FROM t WHERE id % 7 = 1",
    )
    taken = _words_taken(monkeypatch)
    run = af.migrate(app, pg_url, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert run.success, run.errors
    gone = sum(1 for i in range(-3000, 3001) if i % 7 and abs(math.fmod(i, 61)) == 5)
    assert run.incremental["t"]["deleted"] == gone and taken and taken[0] > 0
    _equal(app, pg_url, "t")


def test_deletes_everywhere_in_dense_keys_postgresql_to_sqlite(
    tmp_path: Path, pg_url: str, monkeypatch: Any, caplog: Any
) -> None:
    sql(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, v text, updated_at timestamptz NOT NULL)")
    sql(
        pg_url,
        "INSERT INTO t SELECT i, 'v' || i, '2024-01-01+00' FROM generate_series(-3000, 3000) i "
        "WHERE i % 7 <> 0",
    )
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy, cursor="updated_at").success
    sql(pg_url, "DELETE FROM t WHERE id % 61 = 5 OR id % 61 = -5")
    sql(pg_url, "INSERT INTO t SELECT id - 1, v, '2024-02-01+00' FROM t WHERE id % 7 = 1")
    taken = _words_taken(monkeypatch)
    with caplog.at_level(logging.DEBUG, logger="arrowferry.sql"):
        run = af.migrate(pg_url, copy, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert run.success, run.errors
    gone = sum(1 for i in range(-3000, 3001) if i % 7 and abs(math.fmod(i, 61)) == 5)
    assert run.incremental["t"]["deleted"] == gone and taken and taken[0] > 0
    assert af.verify(pg_url, copy, ["t"]).ok
    said = [r.getMessage() for r in caplog.records]  # -v shows every statement, these too
    assert any(m.startswith("postgresql:") and "bit_or" in m for m in said), said
    assert any(m.startswith('sqlite: SELECT "id" FROM "t"') for m in said), said


# --- a changed value is a change whatever the column's collation ------------------------------


def test_an_upsert_into_sqlite_sees_changes_its_collations_call_equal(tmp_path: Path) -> None:
    """An application's SQLite table may declare NOCASE or RTRIM columns; the upsert's
    "row unchanged" test must still tell 'abc' from 'ABC' and 'x' from 'x  ', or the old
    value would stay and the row count as unchanged."""
    from arrowferry.dialects.sqlite.upsert import STAGE, upsert_sql

    path = tmp_path / "app.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE, "
            "code TEXT COLLATE RTRIM, n INTEGER)"
        )
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?, ?)",
            [(1, "abc", "x", 1), (2, "def", "y", 2), (3, "ghi", "z", 3)],
        )
        for columns, staged in (
            (("id", "name", "code", "n"), [(1, "ABC", "x", 1), (2, "def", "y  ", 2)]),
            (("id", "name"), [(3, "GHI")]),  # one column: no row value
        ):
            conn.execute(f"CREATE TEMP TABLE {STAGE} ({', '.join(columns)})")
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f"INSERT INTO temp.{STAGE} VALUES ({marks})", staged)
            conn.execute(upsert_sql("people", columns, ["id"]))
            assert conn.execute("SELECT changes()").fetchone() == (len(staged),)
            conn.execute(f"DROP TABLE temp.{STAGE}")
        rows = conn.execute("SELECT id, name, code, n FROM people ORDER BY id").fetchall()
    assert rows == [(1, "ABC", "x", 1), (2, "def", "y  ", 2), (3, "GHI", "z", 3)]


def test_an_upsert_into_postgresql_sees_float_changes_whatever_extra_float_digits(
    tmp_path: Path, pg_url: str
) -> None:
    """The upsert compares rows as text; a target database set to extra_float_digits = 0
    prints doubles with 15 digits, which would call 0.3 and 0.30000000000000004 (and two
    cursor values apart in the 16th digit) equal and keep the old row."""
    database_defaults(pg_url, "extra_float_digits = 0")
    app = make_sqlite(
        tmp_path / "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, v REAL, stamp REAL NOT NULL)",
        {"t": [(1, 0.3, 1733600000.123456), (2, 2.5, 1733600000.0)]},
    )
    assert af.migrate(app, pg_url, cursor="stamp").success
    moved = 0.1 + 0.2
    _change(app, f"UPDATE t SET v = {moved!r}, stamp = {1733600000.1234562!r} WHERE id = 1")
    run = af.migrate(app, pg_url, mode="incremental", cursor="stamp")
    assert run.success, run.errors
    assert _moved(run, "t") == (0, 1, 0)
    rows = sql(pg_url, "SELECT id, float8send(v), float8send(stamp) FROM t ORDER BY id")
    assert [(r[0], struct.unpack(">d", r[1])[0], struct.unpack(">d", r[2])[0]) for r in rows] == [
        (1, moved, 1733600000.1234562),
        (2, 2.5, 1733600000.0),
    ]


def test_a_sqlite_upsert_sets_only_the_columns_some_staged_row_changes(tmp_path: Path) -> None:
    """SQLite rewrites the entry of every index on a column an UPDATE sets, changed or not
    (events' merge 1.6-1.8 s -> 1.25-1.3 s when only the changed columns are set). A column
    counts as changed as the upsert would see it: bytewise (NOCASE no help), the staged
    value taking the column's affinity ('5' is 5 in an INTEGER column, 1 is 1.0 in a REAL)."""
    from arrowferry.dialects.sqlite.upsert import STAGE, merge_facts_sql, upsert_sql

    path = tmp_path / "app.db"
    columns = ("id", "n", "r", "name", "note", "blob")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, r REAL, "
            "name TEXT COLLATE NOCASE, note TEXT, blob)"
        )
        for column in ("n", "r", "name", "note"):
            conn.execute(f"CREATE INDEX t_{column} ON t ({column})")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)",
            [(1, 5, 1.0, "abc", "x", b"\x00"), (2, 6, 2.5, "def", "y", b"\x01")],
        )
        conn.execute(f"CREATE TEMP TABLE {STAGE} ({', '.join(columns)})")
        conn.executemany(
            f"INSERT INTO temp.{STAGE} VALUES (?, ?, ?, ?, ?, ?)",
            [
                (1, "5", 1, "ABC", "x", b"\x00"),  # n, r equal as stored; name changes case
                (2, 6, 2.5, "def", "y", b"\x01"),  # no change
                (3, 7, 3.0, "ghi", "z", None),  # a new row: not in the facts
            ],
        )
        facts = conn.execute(merge_facts_sql("t", columns, ["id"])).fetchone()
        assert facts[0] == 2  # staged keys already in the table
        flagged = [c for c, d in zip(columns[1:], facts[1:], strict=True) if d]
        assert flagged == ["name"]
        statement = upsert_sql("t", columns, ["id"], flagged)
        assert 'SET "name" = excluded."name"' in statement
        conn.execute(statement)
        assert conn.execute("SELECT changes()").fetchone() == (2,)  # one update, one insert
        rows = conn.execute("SELECT id, n, typeof(n), r, name, note FROM t ORDER BY id").fetchall()
    assert rows == [
        (1, 5, "integer", 1.0, "ABC", "x"),
        (2, 6, "integer", 2.5, "def", "y"),
        (3, 7, "integer", 3.0, "ghi", "z"),
    ]
