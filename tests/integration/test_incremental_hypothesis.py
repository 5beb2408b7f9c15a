"""Incremental runs under drawn changes (issue 16): rounds of inserts, updates and deletes
in the source, each followed by an incremental run, and the target compared with the
source value by value after every round, in both directions.

The cursor is an integer tick that every change raises (as an application's
``updated_at`` does); one table is followed by its integer key alone (appends only).
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import arrowferry as af
from tests.conftest import sql
from tests.integration._compare import compare_table, pg_column_types

KEYS = st.integers(min_value=1, max_value=40)
TEXTS = st.one_of(st.none(), st.text(max_size=8).filter(lambda s: "\x00" not in s))
NUMBERS = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32))
CHANGE = st.one_of(
    st.tuples(st.just("upsert"), KEYS, TEXTS, NUMBERS),
    st.tuples(st.just("delete"), KEYS),
    st.tuples(st.just("append"), TEXTS),
)
ROUNDS = st.lists(st.lists(CHANGE, max_size=8), min_size=1, max_size=4)
SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Source:
    """Applies drawn changes to either kind of source, raising the tick on each."""

    def __init__(self) -> None:
        self.tick = itertools.count(1000)

    def statements(self, change: tuple[Any, ...], appended: int) -> list[tuple[str, list[Any]]]:
        if change[0] == "upsert":
            _, key, text, number = change
            return [
                ("DELETE FROM t WHERE id = ?", [key]),  # then insert: an update or a new row
                ("INSERT INTO t VALUES (?, ?, ?, ?)", [key, text, number, next(self.tick)]),
            ]
        if change[0] == "delete":
            return [("DELETE FROM t WHERE id = ?", [change[1]])]
        return [("INSERT INTO e VALUES (?, ?)", [appended, change[1]])]


def _sqlite_apply(path: Path, source: Source, changes: list[tuple[Any, ...]], start: int) -> int:
    with closing(sqlite3.connect(path)) as conn:
        for change in changes:
            start += change[0] == "append"
            for statement, params in source.statements(change, start):
                conn.execute(statement, params)
        conn.commit()
    return start


def _pg_apply(url: str, source: Source, changes: list[tuple[Any, ...]], start: int) -> int:
    for change in changes:
        start += change[0] == "append"
        for statement, params in source.statements(change, start):
            numbered = statement
            for i in range(1, statement.count("?") + 1):
                numbered = numbered.replace("?", f"${i}", 1)
            sql(url, numbered, params)
    return start


def _file_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        names = [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]
        select = ", ".join(f'"{n}", typeof("{n}")' for n in names)
        return conn.execute(f'SELECT {select} FROM "{table}" ORDER BY 1').fetchall()


def _schema() -> Iterator[str]:
    while True:
        yield f"s_{uuid.uuid4().hex[:10]}"


@SETTINGS
@given(rounds=ROUNDS)
def test_sqlite_to_postgresql_rounds(pg_url: str, tmp_path_factory: Any, rounds: Any) -> None:
    note(repr(rounds))
    path = tmp_path_factory.mktemp("inc") / "app.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, n REAL, tick INTEGER NOT NULL);"
            "CREATE TABLE e (id INTEGER PRIMARY KEY, v TEXT);"
            "INSERT INTO t VALUES (1, 'one', 1.5, 1), (2, NULL, NULL, 2);"
            "INSERT INTO e VALUES (1, 'first');"
        )
    schema = next(_schema())
    assert af.migrate(path, pg_url, target_schema=schema).success
    source, appended = Source(), 1
    for changes in rounds:
        appended = _sqlite_apply(path, source, changes, appended)
        result = af.migrate(
            path,
            pg_url,
            target_schema=schema,
            mode="incremental",
            cursor="t=tick",
            detect_deletes=True,
        )
        assert result.success, result.errors
        for table in ("t", "e"):
            types = pg_column_types(pg_url, table, schema)
            assert compare_table(path, pg_url, table, types, schema=schema) == []
    sql(pg_url, f'DROP SCHEMA "{schema}" CASCADE')


@SETTINGS
@given(rounds=ROUNDS)
def test_postgresql_to_sqlite_rounds(pg_url: str, tmp_path_factory: Any, rounds: Any) -> None:
    note(repr(rounds))
    schema = next(_schema())
    sql(pg_url, f'CREATE SCHEMA "{schema}"')
    url = pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    sql(url, "CREATE TABLE t (id bigint PRIMARY KEY, v text, n real, tick bigint NOT NULL)")
    sql(url, "CREATE TABLE e (id integer PRIMARY KEY, v text)")
    sql(url, "INSERT INTO t VALUES (1, 'one', 1.5, 1), (2, NULL, NULL, 2)")
    sql(url, "INSERT INTO e VALUES (1, 'first')")
    folder = tmp_path_factory.mktemp("inc")
    copy = folder / "copy.db"
    assert af.migrate(pg_url, copy, source_schema=schema).success
    source, appended = Source(), 1
    for n, changes in enumerate(rounds):
        appended = _pg_apply(url, source, changes, appended)
        result = af.migrate(
            pg_url,
            copy,
            source_schema=schema,
            mode="incremental",
            cursor="t=tick",
            detect_deletes=True,
        )
        assert result.success, result.errors
        fresh = folder / f"fresh{n}.db"
        assert af.migrate(pg_url, fresh, source_schema=schema).success
        for table in ("t", "e"):
            assert _file_rows(copy, table) == _file_rows(fresh, table), table
    sql(pg_url, f'DROP SCHEMA "{schema}" CASCADE')
