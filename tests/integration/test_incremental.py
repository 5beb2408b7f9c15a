"""Incremental runs (issue 16, first slice): SQLite -> PostgreSQL.

A full migration first; then rows are inserted and updated in the source, and an
incremental run must leave the target equal to the source, value by value, having
moved only what changed, with the cursor's mark kept in the target.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import arrowferry as af
from arrowferry.cli import main
from tests.conftest import make_sqlite, sql
from tests.integration._incremental_helpers import assert_equal as _equal
from tests.integration._incremental_helpers import change as _change

APP = """
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL,
  note TEXT, updated_at TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, payload TEXT);
CREATE TABLE notes (body TEXT, n INTEGER);
CREATE TABLE pairs (a TEXT, b TEXT, w INTEGER, PRIMARY KEY (a, b));
"""


def _stamp(i: int) -> str:
    return f"2024-01-{1 + i // 1000:02d} {i // 60 % 24:02d}:{i % 60:02d}:00"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return make_sqlite(
        tmp_path / "app.db",
        APP,
        {
            "orders": [(i, f"c{i % 7}", i * 1.25, None, _stamp(i)) for i in range(1, 201)],
            "events": [(i, "click", f"p{i}") for i in range(1, 51)],
            "notes": [(f"note {i}", i) for i in range(5)],
            "pairs": [("x", str(i), i) for i in range(3)],
        },
    )


def _state(url: str) -> dict[str, tuple[Any, ...]]:
    rows = sql(
        url,
        "SELECT table_name, cursor_column, mark, mark_kind, run_at "
        "FROM arrowferry_state.incremental ORDER BY 1",
    )
    return {r[0]: tuple(r[1:]) for r in rows}


@pytest.fixture
def migrated(app: Path, pg_url: str) -> Iterator[tuple[Path, str]]:
    first = af.migrate(app, pg_url)
    assert first.success, first.errors
    yield app, pg_url


def test_inserts_and_updates_arrive_and_the_rest_is_unchanged(migrated: tuple[Path, str]) -> None:
    app, url = migrated
    _change(
        app,
        "UPDATE orders SET amount = amount + 1, updated_at = '2024-02-01 00:00:00' "
        "WHERE id IN (3, 50, 120)",
        "UPDATE orders SET note = 'late', updated_at = '2024-02-01 00:00:01' WHERE id = 7",
        "INSERT INTO orders VALUES (201, 'new', 9.5, 'n''ew', '2024-02-02 10:00:00')",
        "INSERT INTO events VALUES (51, 'view', 'p51'), (52, NULL, NULL)",
    )
    result = af.migrate(app, url, mode="incremental", cursor="updated_at")
    assert result.success, result.errors
    _equal(app, url, "orders", "events")
    orders = result.incremental["orders"]
    # no mark yet: every row is read, and only the changed ones are written
    assert (orders["inserted"], orders["updated"], orders["unchanged"]) == (1, 4, 196)
    assert orders["how"] == "cursor" and orders["mark"] == "2024-02-02 10:00:00"
    events = result.incremental["events"]
    assert (events["how"], events["inserted"], events["updated"]) == ("key", 2, 0)
    assert events["previous_mark"] == "50" and events["mark"] == "52"
    assert _state(url)["orders"][:3] == ("updated_at", "2024-02-02 10:00:00", "text")

    # a second round: only what changed since the mark is read
    _change(
        app,
        "UPDATE orders SET customer = 'renamed', updated_at = '2024-03-01 00:00:00' WHERE id = 201",
        "UPDATE orders SET amount = NULL, updated_at = '2024-03-01 00:00:00' WHERE id = 1",
        "INSERT INTO orders VALUES (202, 'x', NULL, NULL, '2024-03-02 00:00:00')",
    )
    again = af.migrate(app, url, mode="incremental", cursor="updated_at")
    assert again.success, again.errors
    _equal(app, url, "orders", "events")
    orders = again.incremental["orders"]
    assert (orders["inserted"], orders["updated"], orders["unchanged"]) == (1, 2, 0)
    assert orders["previous_mark"] == "2024-02-02 10:00:00"
    assert orders["deleted"] is None  # not looked for
    # where its time went: the merge timed, no deletes looked for
    assert set(orders["seconds"]) == {"merge"} and orders["seconds"]["merge"] > 0
    assert _state(url)["orders"][1] == "2024-03-02 00:00:00"

    # deletes, looked for: the key sets are compared
    _change(app, "DELETE FROM orders WHERE id IN (2, 150, 201)", "DELETE FROM events WHERE id < 4")
    third = af.migrate(app, url, mode="incremental", cursor="updated_at", detect_deletes=True)
    assert third.success, third.errors
    _equal(app, url, "orders", "events")
    assert third.incremental["orders"]["deleted"] == 3
    assert third.incremental["events"]["deleted"] == 3
    assert third.incremental["orders"]["inserted"] == 0
    # a notebook shows the same counts: the frame and the HTML
    frame = third.to_polars()["incremental"]
    orders_row = frame.filter(frame["table"] == "orders").row(0, named=True)
    assert (orders_row["how"], orders_row["deleted"], orders_row["inserted"]) == ("cursor", 3, 0)
    assert orders_row["mark"] == orders_row["previous_mark"] == "2024-03-02 00:00:00"
    assert orders_row["deletes_seconds"] == third.incremental["orders"]["seconds"]["deletes"] > 0
    html = third._repr_html_()
    assert "<b>incremental</b>" in html and "cursor updated_at" in html
    # the checksum verifier agrees, for every followed table
    report = af.verify(app, url, ["orders", "events"])
    assert report.ok, str(report)


def test_a_run_with_no_change_moves_no_row_and_keeps_the_mark(migrated: tuple[Path, str]) -> None:
    app, url = migrated
    _change(app, "UPDATE orders SET note = 'x', updated_at = '2024-05-01 00:00:00' WHERE id = 9")
    assert af.migrate(app, url, mode="incremental", cursor="updated_at").success
    before = _state(url)
    target_rows = sql(url, "SELECT * FROM orders ORDER BY id")
    result = af.migrate(app, url, incremental=True, cursor={"orders": "updated_at"})
    assert result.success, result.errors
    assert result.rows_migrated == 0
    for name in ("orders", "events"):
        counts = result.incremental[name]
        assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (0, 0, 0)
    assert result.incremental["orders"]["mark"] == "2024-05-01 00:00:00"
    assert _state(url) == before  # neither the mark nor its time moved
    assert sql(url, "SELECT * FROM orders ORDER BY id") == target_rows


def test_a_table_with_neither_key_nor_cursor_is_named_and_left_alone(
    migrated: tuple[Path, str],
) -> None:
    app, url = migrated
    _change(app, "INSERT INTO notes VALUES ('added', 99)", "INSERT INTO pairs VALUES ('y', 'z', 1)")
    result = af.migrate(app, url, mode="incremental")
    assert result.success, result.errors
    assert result.incremental["notes"]["how"] == "skipped"
    assert "--full-refresh notes" in result.incremental["notes"]["reason"]
    assert result.incremental["pairs"]["how"] == "skipped"  # composite key, no cursor
    assert any("'notes'" in w and "no primary key" in w for w in result.warnings)
    assert sql(url, "SELECT count(*) FROM notes") == [(5,)]
    # orders has no cursor given: its integer key's high-water mark finds nothing new
    assert result.incremental["orders"]["how"] == "key"
    assert result.incremental["orders"]["inserted"] == 0

    refreshed = af.migrate(app, url, mode="incremental", full_refresh=["notes", "pairs"])
    assert refreshed.success, refreshed.errors
    assert refreshed.incremental["notes"]["how"] == "full"
    _equal(app, url, "notes", "pairs")


def test_cli_incremental_json(migrated: tuple[Path, str]) -> None:
    app, url = migrated
    _change(app, "UPDATE orders SET amount = 0, updated_at = '2025-01-01 00:00:00' WHERE id = 2")
    args = ["migrate", str(app), url, "--incremental", "--cursor", "orders=updated_at", "--json"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["incremental"]["orders"]["updated"] == 1
    assert doc["incremental"]["orders"]["mark"] == "2025-01-01 00:00:00"
    _equal(app, url, "orders")
    said = CliRunner().invoke(main, ["migrate", str(app), url, "--incremental", "--no-progress"])
    assert said.exit_code == 0, said.output
    assert "incremental" in said.output and "skipped" in said.output  # notes: no key


def test_cursor_options_need_incremental() -> None:
    af.MigrationOptions(cursor="updated_at")  # a full run records the marks
    with pytest.raises(af.BadInputError, match="apply to --incremental runs"):
        af.MigrationOptions(detect_deletes=True)
    with pytest.raises(af.BadInputError, match="apply to --incremental runs"):
        af.MigrationOptions(full_refresh=("notes",))


# --- PostgreSQL -> SQLite ------------------------------------------------------------------

PG_APP = """
CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(10,2),
  seen double precision, tags text[], updated_at timestamptz NOT NULL);
CREATE TABLE events (id integer PRIMARY KEY, kind text);
CREATE TABLE notes (body text);
"""


def _file_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """Every value with its storage class, in key order: two files must agree exactly."""
    with closing(sqlite3.connect(path)) as conn:
        names = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        select = ", ".join(f'"{n}", typeof("{n}")' for n in names)
        return conn.execute(f'SELECT {select} FROM "{table}" ORDER BY 1').fetchall()


def test_postgresql_to_sqlite_rounds_equal_a_full_migration(pg_url: str, tmp_path: Path) -> None:
    for statement in PG_APP.split(";"):
        if statement.strip():
            sql(pg_url, statement)
    sql(
        pg_url,
        "INSERT INTO orders SELECT i, 'c' || i % 5, i * 1.5, i / 3.0, ARRAY['a', i::text], "
        "timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute' "
        "FROM generate_series(1, 300) i",
    )
    sql(pg_url, "INSERT INTO events SELECT i, 'k' FROM generate_series(1, 40) i")
    sql(pg_url, "INSERT INTO notes VALUES ('a'), ('b')")
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy).success

    rounds = [
        [
            "UPDATE orders SET amount = amount + 1, updated_at = '2024-06-01+00' WHERE id IN (4, 200)",
            "INSERT INTO orders VALUES (301, 'n', NULL, NULL, NULL, '2024-06-02+00')",
            "INSERT INTO events VALUES (41, NULL)",
        ],
        [
            "UPDATE orders SET tags = NULL, customer = 'z', updated_at = '2024-07-01+00' WHERE id = 1",
            "DELETE FROM orders WHERE id IN (5, 301)",
            "DELETE FROM events WHERE id = 41",
        ],
        [],
    ]
    expected_counts = [(1, 2, 0), (0, 1, 2), (0, 0, 0)]
    for statements, counts in zip(rounds, expected_counts, strict=True):
        for statement in statements:
            sql(pg_url, statement)
        result = af.migrate(
            pg_url, copy, mode="incremental", cursor="orders=updated_at", detect_deletes=True
        )
        assert result.success, result.errors
        orders = result.incremental["orders"]
        assert (orders["inserted"], orders["updated"], orders["deleted"]) == counts
        assert result.incremental["notes"]["how"] == "skipped"
        fresh = tmp_path / f"fresh{len(statements)}.db"
        fresh.unlink(missing_ok=True)
        assert af.migrate(pg_url, fresh).success
        for table in ("orders", "events"):
            assert _file_rows(copy, table) == _file_rows(fresh, table), table
        report = af.verify(pg_url, copy, ["orders", "events"])
        assert report.ok, str(report)
    with closing(sqlite3.connect(copy)) as conn:
        (mark,) = conn.execute(
            "SELECT mark FROM arrowferry_incremental WHERE table_name = 'orders'"
        ).fetchone()
    assert mark.startswith("2024-07-01 00:00:00")


# --- failures and concurrent writers ---------------------------------------------------------


def test_a_table_that_fails_keeps_its_mark_and_the_next_run_catches_up(
    migrated: tuple[Path, str],
) -> None:
    app, url = migrated
    assert af.migrate(app, url, mode="incremental", cursor="updated_at").success
    before = _state(url)["orders"]
    _change(
        app,
        "UPDATE orders SET customer = 'kept back', updated_at = '2024-09-01 00:00:00' WHERE id = 5",
        # a value the target column (double precision) cannot take: the table's load stops
        "INSERT INTO orders VALUES (300, 'bad', 'not a number', NULL, '2024-09-02 00:00:00')",
        "INSERT INTO events VALUES (60, 'after', 'x')",
    )
    failed = af.migrate(
        app,
        url,
        mode="incremental",
        cursor="updated_at",
        on_bad_value="fail",
        continue_on_error=True,
    )
    assert not failed.success
    assert [e.table for e in failed.errors] == ["orders"]
    assert "orders" not in failed.incremental  # no counts for a table that rolled back
    assert _state(url)["orders"] == before  # neither its rows nor its mark moved
    assert sql(url, "SELECT customer FROM orders WHERE id = 5") == [("c5",)]
    assert failed.incremental["events"]["inserted"] == 1  # the other table committed

    _change(app, "UPDATE orders SET amount = 3.5 WHERE id = 300")
    fixed = af.migrate(app, url, mode="incremental", cursor="updated_at")
    assert fixed.success, fixed.errors
    assert (fixed.incremental["orders"]["inserted"], fixed.incremental["orders"]["updated"]) == (
        1,
        1,
    )
    assert fixed.incremental["events"]["inserted"] == 0  # not doubled
    _equal(app, url, "orders", "events")


def test_rows_committed_while_the_run_reads_arrive_in_the_next_run(
    pg_url: str, tmp_path: Path
) -> None:
    """The mark is the largest cursor value in the run's snapshot: a row committed after
    the snapshot, with a cursor below the run's clock, is above the mark and arrives in
    the next run (a mark taken from the clock would pass it, and lose it for good)."""
    sql(pg_url, "CREATE TABLE items (id bigint PRIMARY KEY, v text, updated_at timestamp)")
    sql(
        pg_url,
        "INSERT INTO items SELECT i, 'v' || i, timestamp '2024-01-01' + i * interval '1 hour' "
        "FROM generate_series(1, 50) i",
    )
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy).success
    sql(pg_url, "UPDATE items SET v = 'changed', updated_at = '2024-06-01' WHERE id = 1")
    written = []

    def write_during_the_run(p: af.MigrationProgress) -> None:
        if p.table == "items" and not written:
            written.append(p.status)  # the run's snapshot is taken: this row is after it
            sql(pg_url, "INSERT INTO items VALUES (51, 'late', '2024-07-01')")

    first = af.migrate(
        pg_url, copy, mode="incremental", cursor="updated_at", on_progress=write_during_the_run
    )
    assert first.success and written
    assert first.incremental["items"]["mark"] == "2024-06-01 00:00:00"
    assert first.incremental["items"]["updated"] == 1
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE id = 51").fetchone() == (0,)
    second = af.migrate(pg_url, copy, mode="incremental", cursor="updated_at")
    assert second.success, second.errors
    assert (second.incremental["items"]["inserted"], second.incremental["items"]["updated"]) == (
        1,
        0,
    )
    assert second.incremental["items"]["mark"] == "2024-07-01 00:00:00"
    fresh = tmp_path / "fresh.db"
    assert af.migrate(pg_url, fresh).success
    assert _file_rows(copy, "items") == _file_rows(fresh, "items")


def test_a_table_whose_shape_changed_is_stopped_until_refreshed(
    migrated: tuple[Path, str],
) -> None:
    app, url = migrated
    assert af.migrate(app, url, mode="incremental", cursor="updated_at").success
    # the same names, another declared type: the target's table may no longer fit
    _change(
        app,
        "ALTER TABLE orders RENAME TO old_orders",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, amount REAL, "
        "note VARCHAR(3), updated_at TEXT NOT NULL)",
        "INSERT INTO orders SELECT * FROM old_orders WHERE id > 10",
        "DROP TABLE old_orders",
        "UPDATE orders SET note = 'abc', updated_at = '2030-01-01 00:00:00' WHERE id = 20",
        "INSERT INTO events VALUES (70, 'k', 'p')",
    )
    stopped = af.migrate(app, url, mode="incremental", cursor="updated_at", continue_on_error=True)
    assert not stopped.success
    [error] = stopped.errors
    assert error.table == "orders" and "arrowferry diff" in error.message
    assert "--full-refresh orders" in error.message
    assert sql(url, "SELECT count(*), max(note) FROM orders") == [(200, None)]  # untouched
    assert stopped.incremental["events"]["inserted"] == 1

    refreshed = af.migrate(app, url, mode="incremental", cursor="updated_at", full_refresh="orders")
    assert refreshed.success, refreshed.errors
    _equal(app, url, "orders")
    assert _state(url)["orders"][1] == "2030-01-01 00:00:00"  # the refresh took the mark
    _change(app, "UPDATE orders SET amount = 1, updated_at = '2030-02-01 00:00:00' WHERE id = 11")
    after = af.migrate(app, url, mode="incremental", cursor="updated_at")
    assert after.success, after.errors
    assert (after.incremental["orders"]["updated"], after.incremental["orders"]["unchanged"]) == (
        1,
        0,
    )
    _equal(app, url, "orders")


def test_same_dialect_incremental_is_refused_before_writing(app: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    assert af.migrate(app, copy).success
    before = copy.read_bytes()
    with pytest.raises(af.BadInputError, match="two databases of one kind"):
        af.migrate(app, copy, mode="incremental")
    assert copy.read_bytes() == before
