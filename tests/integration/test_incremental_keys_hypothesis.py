"""Deletes on composite keys of text and integers (hash buckets), under drawn changes:
rounds of upserts and deletes with awkward text (separators, unicode, empty strings),
each followed by an incremental run with --detect-deletes, and the target compared with
the source value by value, in both directions."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import arrowferry as af
from tests.conftest import sql
from tests.integration._compare import compare_table, pg_column_types

WORDS = st.text(alphabet=st.sampled_from("ab,:~1é日 "), max_size=4)
KEYS = st.tuples(WORDS, st.integers(-3, 3))
CHANGE = st.one_of(
    st.tuples(st.just("upsert"), KEYS, st.one_of(st.none(), WORDS)),
    st.tuples(st.just("delete"), KEYS),
)
ROUNDS = st.lists(st.lists(CHANGE, max_size=10), min_size=1, max_size=3)
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
START = [(f"k{i % 5}", i, "v", 0) for i in range(30)]


def _statements(change: tuple[Any, ...], tick: int) -> list[tuple[str, list[Any]]]:
    (a, b) = change[1]
    delete = ("DELETE FROM t WHERE a = ? AND b = ?", [a, b])
    if change[0] == "delete":
        return [delete]
    return [delete, ("INSERT INTO t VALUES (?, ?, ?, ?)", [a, b, change[2], tick])]


def _numbered(statement: str) -> str:
    for i in range(1, statement.count("?") + 1):
        statement = statement.replace("?", f"${i}", 1)
    return statement


@SETTINGS
@given(rounds=ROUNDS)
def test_composite_keys_sqlite_to_postgresql(
    pg_url: str, tmp_path_factory: Any, rounds: Any
) -> None:
    note(repr(rounds))
    path = tmp_path_factory.mktemp("keys") / "app.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE t (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, tick INTEGER NOT NULL, "
            "PRIMARY KEY (a, b))"
        )
        conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", START)
        conn.commit()
    schema = f"s_{uuid.uuid4().hex[:10]}"
    assert af.migrate(path, pg_url, target_schema=schema, cursor="tick").success
    tick = itertools.count(1)
    for changes in rounds:
        with closing(sqlite3.connect(path)) as conn:
            for change in changes:
                for statement, params in _statements(change, next(tick)):
                    conn.execute(statement, params)
            conn.commit()
        result = af.migrate(
            path,
            pg_url,
            target_schema=schema,
            mode="incremental",
            cursor="tick",
            detect_deletes=True,
        )
        assert result.success, result.errors
        types = pg_column_types(pg_url, "t", schema)
        assert compare_table(path, pg_url, "t", types, schema=schema) == []
    sql(pg_url, f'DROP SCHEMA "{schema}" CASCADE')


def _rows(path: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT a, b, v, tick FROM t ORDER BY a, b").fetchall()


@SETTINGS
@given(rounds=ROUNDS)
def test_composite_keys_postgresql_to_sqlite(
    pg_url: str, tmp_path_factory: Any, rounds: Any
) -> None:
    note(repr(rounds))
    schema = f"s_{uuid.uuid4().hex[:10]}"
    sql(pg_url, f'CREATE SCHEMA "{schema}"')
    url = pg_url + ("&" if "?" in pg_url else "?") + f"options=-csearch_path%3D{schema}"
    sql(url, "CREATE TABLE t (a text, b bigint, v text, tick bigint NOT NULL, PRIMARY KEY (a, b))")
    for row in START:
        sql(url, "INSERT INTO t VALUES ($1, $2, $3, $4)", list(row))
    copy = tmp_path_factory.mktemp("keys") / "copy.db"
    assert af.migrate(pg_url, copy, source_schema=schema, cursor="tick").success
    tick = itertools.count(1)
    for changes in rounds:
        for change in changes:
            for statement, params in _statements(change, next(tick)):
                sql(url, _numbered(statement), params)
        result = af.migrate(
            pg_url,
            copy,
            source_schema=schema,
            mode="incremental",
            cursor="tick",
            detect_deletes=True,
        )
        assert result.success, result.errors
        # PostgreSQL orders text by its collation: compare as sets of rows
        expected = sql(url, "SELECT a, b, v, tick FROM t")
        assert sorted(_rows(copy)) == sorted(expected)
    sql(pg_url, f'DROP SCHEMA "{schema}" CASCADE')
