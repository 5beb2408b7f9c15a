"""Incremental runs killed (SIGKILL, in a process of their own) between two tables and
inside a table's upsert: the re-run leaves the target equal to the source, value by
value; nothing skipped, nothing doubled.

The kill points are exact: the child process patches the incremental writer so that it
sends itself SIGKILL when the second table's load is asked for (the first committed, its
mark with it), or when the first table's mark is about to be written (its rows upserted,
its transaction still open).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

import arrowferry as af
from tests.conftest import make_sqlite, sql
from tests.integration._incremental_helpers import assert_equal, change

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import os, signal, sys
from arrowferry.dialects.postgresql import upsert as pgu
from arrowferry.dialects.sqlite import upsert as slu
from arrowferry.cli import main

point = sys.argv[1]
asked = []

def die():
    os.kill(os.getpid(), signal.SIGKILL)

for writer in (pgu.PostgresUpserts, slu.SqliteUpserts):
    load = writer.load
    def counted(self, table, follow, load=load):
        asked.append(table.name)
        if point == "between" and len(asked) == 2:
            die()  # the first table committed, rows and mark
        return load(self, table, follow)
    writer.load = counted
for loader in (pgu.PostgresUpsertLoad, slu.SqliteUpsertLoad):
    save = loader._save_mark
    def saving(self, conn, save=save):
        if point == "inside":
            die()  # the table's rows are upserted, its transaction not committed
        save(self, conn)
    loader._save_mark = saving
main(sys.argv[2:])
"""

APP = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, updated_at TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT, score REAL, updated_at TEXT NOT NULL);
"""
ARGS = ["--incremental", "--cursor", "updated_at", "--detect-deletes", "--quiet"]


def _killed(point: str, source: str, target: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, point, "migrate", source, target, *ARGS],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stderr[-2000:])


def _round(app: Path, n: int) -> list[str]:
    """Updates, inserts and deletes in both tables (round ``n`` of them)."""
    stamp = f"2024-0{n + 2}-01"
    return [
        f"UPDATE users SET name = 'r{n}', updated_at = '{stamp}' WHERE id % 7 = {n}",
        f"INSERT INTO users VALUES ({1000 + n}, 'new{n}', '{stamp}')",
        f"INSERT INTO events SELECT id + {10_000 * (n + 1)}, {1000 + n}, 'n', 1.5, '{stamp}' "
        "FROM events WHERE id <= 20",
        f"UPDATE events SET score = score + 1, updated_at = '{stamp}' WHERE id % 11 = {n}",
        f"DELETE FROM events WHERE id % 13 = {n + 1} AND id < 10000",
    ]


def _marks(url: str) -> dict[str, str]:
    return dict(sql(url, "SELECT table_name, mark FROM arrowferry_state.incremental"))


@pytest.mark.parametrize("point", ["between", "inside"])
def test_killed_runs_sqlite_to_postgresql(point: str, tmp_path: Path, pg_url: str) -> None:
    app = make_sqlite(
        tmp_path / "app.db",
        APP,
        {
            "users": [(i, f"u{i}", "2024-01-01") for i in range(1, 101)],
            "events": [(i, 1 + i % 100, "k", i / 4, "2024-01-01") for i in range(1, 3001)],
        },
    )
    assert af.migrate(app, pg_url, cursor="updated_at").success
    for n in range(3):
        change(app, *_round(app, n))
        before = _marks(pg_url)
        _killed(point, str(app), pg_url, tmp_path)
        after = _marks(pg_url)
        if point == "between":  # users (referenced) first: in, with its mark; events not
            assert after["users"] != before["users"] and after["events"] == before["events"]
        else:  # nothing committed but the deletes (a transaction of their own)
            assert after == before
            assert sql(pg_url, f"SELECT count(*) FROM users WHERE id = {1000 + n}") == [(0,)]
        again = af.migrate(
            app, pg_url, mode="incremental", cursor="updated_at", detect_deletes=True
        )
        assert again.success, again.errors
        assert_equal(app, pg_url, "users", "events")
        assert af.verify(app, pg_url, ["users", "events"]).ok


def _file_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        names = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        select = ", ".join(f'"{n}", typeof("{n}")' for n in names)
        return conn.execute(f'SELECT {select} FROM "{table}" ORDER BY 1').fetchall()


@pytest.mark.parametrize("point", ["between", "inside"])
def test_killed_runs_postgresql_to_sqlite(point: str, tmp_path: Path, pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE users (id bigint PRIMARY KEY, name text, updated_at text NOT NULL)")
    sql(
        pg_url,
        "CREATE TABLE events (id bigint PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, "
        "kind text, score double precision, updated_at text NOT NULL)",
    )
    sql(pg_url, "INSERT INTO users SELECT i, 'u' || i, '2024-01-01' FROM generate_series(1, 100) i")
    sql(
        pg_url,
        "INSERT INTO events SELECT i, 1 + i % 100, 'k', i / 4.0, '2024-01-01' "
        "FROM generate_series(1, 3000) i",
    )
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy, cursor="updated_at").success
    for n in range(3):
        for statement in _round(copy, n):
            sql(pg_url, statement)
        _killed(point, pg_url, str(copy), tmp_path)
        again = af.migrate(
            pg_url, copy, mode="incremental", cursor="updated_at", detect_deletes=True
        )
        assert again.success, again.errors
        fresh = tmp_path / f"fresh{n}.db"
        assert af.migrate(pg_url, fresh).success
        for table in ("users", "events"):
            assert _file_rows(copy, table) == _file_rows(fresh, table), table


def test_rows_committed_in_a_sqlite_source_while_the_run_reads_arrive_next(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SQLite source has no snapshot across the run: its mark is the largest cursor
    when the table's read starts, and the read stops at it, so rows committed after the
    mark is taken come in the next run, not never."""
    from arrowferry.dialects.sqlite.delta import SqliteDelta

    app = make_sqlite(
        tmp_path / "app.db",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, v TEXT, updated_at TEXT NOT NULL);",
        {"items": [(i, f"v{i}", "2024-01-01") for i in range(1, 201)]},
    )
    assert af.migrate(app, pg_url, cursor="updated_at").success
    change(app, "UPDATE items SET v = 'changed', updated_at = '2024-06-01' WHERE id <= 100")
    bound = SqliteDelta.bound

    def then_written(self: SqliteDelta, *args: object) -> object:
        mark = bound(self, *args)  # type: ignore[arg-type]
        change(  # an application's commit, between the mark and the read
            app,
            "INSERT INTO items VALUES (201, 'late', '2024-07-01')",
            "UPDATE items SET v = 'late', updated_at = '2024-07-01' WHERE id = 150",
        )
        return mark

    with monkeypatch.context() as patched:
        patched.setattr(SqliteDelta, "bound", then_written)
        first = af.migrate(app, pg_url, mode="incremental", cursor="updated_at")
    assert first.success, first.errors
    assert first.incremental["items"]["mark"] == "2024-06-01"
    assert first.incremental["items"]["updated"] == 100
    assert sql(pg_url, "SELECT count(*) FROM items WHERE v = 'late'") == [(0,)]
    second = af.migrate(app, pg_url, mode="incremental", cursor="updated_at")
    assert second.success, second.errors
    done = second.incremental["items"]
    assert (done["inserted"], done["updated"], done["mark"]) == (1, 1, "2024-07-01")
    assert_equal(app, pg_url, "items")
