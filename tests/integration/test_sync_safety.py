"""What a schema sync must never do (issue 13): apply a destructive change that was not
allowed, apply half of a sync, or change a value silently. Each failure names the
table, the column and the row, and leaves the target as it was (contents compared,
schema compared)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.errors import BadInputError, ConversionError, UnsafeChangeError
from tests.integration._cli_helpers import cli
from tests.integration._sync_helpers import contents, converged, database, insert

DIALECTS = ["postgresql", "sqlite"]


def snapshot(dialect: str, where: str) -> tuple[Any, ...]:
    """Everything a sync could change: the schema as introspected, SQLite's own text of
    it, every value (with its storage class)."""
    schema = af.inspect_schema(where)
    text: list[Any] = []
    if dialect == "sqlite":
        with sqlite3.connect(where) as conn:
            text = conn.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY 1, 2"
            ).fetchall()
    return schema, text, contents(dialect, where)


@contextmanager
def pair(
    dialect: str, tmp: Path, server: str, before: str, after: str, rows: dict[str, Any]
) -> Iterator[tuple[str, str]]:
    with (
        database(dialect, tmp, server, before) as target,
        database(dialect, tmp, server, after) as desired,
    ):
        insert(dialect, target, rows)
        yield desired, target


BEFORE = "CREATE TABLE t (id integer PRIMARY KEY, a text);\nCREATE TABLE keep (k integer)"
AFTER = (
    "CREATE TABLE t (id integer PRIMARY KEY, a text, b integer);\nCREATE TABLE fresh (f integer)"
)
ROWS = {"t": [(1, "x"), (2, None)], "keep": [(7,)]}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_refused_drop_applies_nothing(dialect: str, tmp_path: Path, pg_server: str) -> None:
    with pair(dialect, tmp_path, pg_server, BEFORE, AFTER, ROWS) as (desired, target):
        before = snapshot(dialect, target)
        planned = af.sync_schema(desired, target)
        assert not planned.safe
        assert [s.table for s in planned.refused if s.sql.startswith("DROP TABLE")] == ["keep"]
        assert any("ADD COLUMN" in s for s in planned.sql_statements)  # the safe part
        with pytest.raises(UnsafeChangeError, match="keep") as err:
            af.sync_schema(desired, target, apply=True)
        assert err.value.exit_code == 3
        assert snapshot(dialect, target) == before


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cli_exits_3_and_leaves_the_target_alone(
    dialect: str, tmp_path: Path, pg_server: str
) -> None:
    with pair(dialect, tmp_path, pg_server, BEFORE, AFTER, ROWS) as (desired, target):
        before = snapshot(dialect, target)
        for args in ((), ("--apply",)):
            outcome = cli("sync", desired, target, *args)
            assert outcome.exit_code == 3, outcome.everything
            assert "DROP TABLE" in outcome.stdout and "refused" in outcome.stdout
            assert "--allow-destructive" in outcome.stderr
            assert snapshot(dialect, target) == before
        outcome = cli("sync", desired, target, "--apply", "--json")
        assert outcome.exit_code == 3
        shown = outcome.json()
        assert shown["success"] is False and shown["applied"] is False
        assert any(s["table"] == "keep" for s in shown["refused"])
        assert snapshot(dialect, target) == before
        outcome = cli("sync", desired, target, "--apply", "--allow-destructive")
        assert outcome.exit_code == 0, outcome.everything
        converged(desired, target)
        assert cli("sync", desired, target).stdout.startswith("-- the ")  # nothing left


def test_cli_prints_sql_and_json(tmp_path: Path, pg_url: str) -> None:
    with database("sqlite", tmp_path, pg_url, AFTER) as desired:
        insert("postgresql", pg_url, {})
        outcome = cli("sync", desired, pg_url)
        assert outcome.exit_code == 0, outcome.everything
        assert 'CREATE TABLE "public"."t"' in outcome.stdout
        shown = cli("sync", desired, pg_url, "--json").json()
        assert shown["success"] and not shown["applied"] and shown["target_dialect"] == "postgresql"
        assert {s["table"] for s in shown["statements"]} >= {"t", "fresh"}
        json.dumps(shown)
        bad = cli("sync", desired, pg_url, "--rename", "nonsense")
        assert bad.exit_code == 2 and "OLD=NEW" in bad.stderr


def test_text_that_is_no_integer_stops_everything_naming_the_row(
    tmp_path: Path, pg_server: str
) -> None:
    before = "CREATE TABLE t (id integer PRIMARY KEY, a text)"
    after = "CREATE TABLE t (id integer PRIMARY KEY, a integer);\nCREATE TABLE fresh (f integer)"
    rows = {"t": [(1, "12"), (2, None), (3, "12abc"), (4, "7")]}
    with pair("postgresql", tmp_path, pg_server, before, after, rows) as (desired, target):
        was = snapshot("postgresql", target)
        planned = af.sync_schema(desired, target, allow_destructive=True)
        assert "'12abc'" in next(s.reason for s in planned.statements if s.column == "a")
        with pytest.raises(ConversionError) as err:
            af.sync_schema(desired, target, allow_destructive=True, apply=True)
        assert (err.value.table, err.value.column, err.value.row, err.value.value) == (
            "t",
            "a",
            "3",
            "12abc",
        )
        assert "nothing was applied" in err.value.message
        assert snapshot("postgresql", target) == was  # the table "fresh" was not created


def test_a_fraction_is_no_integer(tmp_path: Path, pg_server: str) -> None:
    before = "CREATE TABLE t (id integer PRIMARY KEY, a double precision)"
    after = "CREATE TABLE t (id integer PRIMARY KEY, a integer)"
    rows = {"t": [(1, 2.0), (2, 2.5)]}
    with pair("postgresql", tmp_path, pg_server, before, after, rows) as (desired, target):
        with pytest.raises(ConversionError) as err:
            af.sync_schema(desired, target, allow_destructive=True, apply=True)
        assert (err.value.row, err.value.value) == ("2", "2.5")
        assert contents("postgresql", target)["t"]["a"] == [("1", "2"), ("2", "2.5")]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_not_null_over_nulls_without_a_default_names_the_row(
    dialect: str, tmp_path: Path, pg_server: str
) -> None:
    before = "CREATE TABLE t (id integer PRIMARY KEY, a text)"
    after = "CREATE TABLE t (id integer PRIMARY KEY, a text NOT NULL)"
    rows = {"t": [(1, "x"), (2, None)]}
    with pair(dialect, tmp_path, pg_server, before, after, rows) as (desired, target):
        was = snapshot(dialect, target)
        planned = af.sync_schema(desired, target)
        assert not planned.safe and "1 row(s) hold NULL" in planned.refused[0].reason
        with pytest.raises(ConversionError) as err:
            af.sync_schema(desired, target, allow_destructive=True, apply=True)
        assert (err.value.table, err.value.column, str(err.value.row)) == ("t", "a", "2")
        assert snapshot(dialect, target) == was


def test_a_rebuild_that_breaks_a_foreign_key_is_rolled_back(tmp_path: Path, pg_server: str) -> None:
    before = "CREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER)"
    after = (
        "CREATE TABLE p (id INTEGER PRIMARY KEY);\n"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER REFERENCES p (id))"
    )
    rows = {"p": [(1,)], "c": [(1, 1), (2, 99)]}
    with pair("sqlite", tmp_path, pg_server, before, after, rows) as (desired, target):
        was = snapshot("sqlite", target)
        with pytest.raises(ConversionError) as err:
            af.sync_schema(desired, target, apply=True)
        assert (err.value.table, err.value.row) == ("c", 2)
        assert "missing row of p" in err.value.message
        assert snapshot("sqlite", target) == was


def test_a_rebuild_keeps_rowids_storage_classes_and_the_counter(
    tmp_path: Path, pg_server: str
) -> None:
    before = (
        "CREATE TABLE plain (a INTEGER, b TEXT);\n"
        "CREATE TABLE auto (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER)"
    )
    after = (
        "CREATE TABLE plain (a INTEGER NOT NULL DEFAULT 0, b TEXT);\n"
        "CREATE TABLE auto (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER CHECK (n <> 0))"
    )
    with pair("sqlite", tmp_path, pg_server, before, after, {}) as (desired, target):
        with sqlite3.connect(target) as conn:
            conn.execute("INSERT INTO plain (rowid, a, b) VALUES (5, 1, 'x'), (9, 'text', 2)")
            conn.execute("INSERT INTO auto VALUES (50, 1)")
            conn.execute("DELETE FROM auto")
            conn.execute("INSERT INTO auto (n) VALUES ('abc'), (3.5)")
        rows = "SELECT rowid, a, typeof(a), b, typeof(b) FROM plain ORDER BY rowid"
        with sqlite3.connect(target) as conn:
            kept = conn.execute(rows).fetchall()
            autos = conn.execute("SELECT id, n, typeof(n) FROM auto ORDER BY id").fetchall()
        af.sync_schema(desired, target, apply=True)
        converged(desired, target)
        with sqlite3.connect(target) as conn:
            assert conn.execute(rows).fetchall() == kept
            assert conn.execute("SELECT id, n, typeof(n) FROM auto ORDER BY id").fetchall() == autos
            assert conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'auto'"
            ).fetchall() == [(52,)]
            conn.execute("INSERT INTO auto (n) VALUES (1)")
            assert conn.execute("SELECT max(id) FROM auto").fetchone() == (53,)


def test_schemas_alone_give_sql_but_cannot_be_applied(tmp_path: Path, pg_server: str) -> None:
    with pair("sqlite", tmp_path, pg_server, BEFORE, AFTER, ROWS) as (desired, target):
        wanted, have = af.inspect_schema(desired), af.inspect_schema(target)
        result = af.sync_schema(wanted, have, allow_destructive=True)
        assert any(s.startswith("DROP TABLE") for s in result.sql_statements)
        assert "DROP TABLE" in str(result) and "<table>" in result._repr_html_()
        json.dumps(result.to_dict())
        with pytest.raises(BadInputError):
            af.sync_schema(wanted, have, apply=True)
        with pytest.raises(BadInputError):
            af.sync_schema(desired, target, generate_sql=False)


def test_migration_sync_schema(tmp_path: Path, pg_url: str) -> None:
    with database("sqlite", tmp_path, pg_url, AFTER) as desired:
        insert("sqlite", desired, {"t": [(1, "x", 2)]})
        migration = af.Migration(desired, pg_url)
        assert migration.sync_schema().sql_statements
        assert migration.sync_schema(apply=True).applied
        assert migration.compare_schemas().identical
