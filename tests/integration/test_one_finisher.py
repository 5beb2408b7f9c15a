"""One Finisher serves both targets; each target says how its statements run.

Driven by hand on real databases: a SQLite file whose rows were loaded with its CHECK
unenforced (as the PostgreSQL -> SQLite load does), and a PostgreSQL database with
orphan rows, each given to the same Finisher with its own target. SQLite counts the
CHECK (it cannot add one after the load) and runs statements in the order given;
PostgreSQL falls back to a NOT VALID foreign key and counts the orphans. Views go
through the one retry loop on both, in dependency order, a view that cannot be read
named and left out.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.base import FinishTarget
from arrowferry.dialects.postgresql.target import PostgresFinishing
from arrowferry.dialects.sqlite import write as sqlw
from arrowferry.dialects.sqlite.target import SqliteFinishing
from arrowferry.model import ForeignKey, View
from arrowferry.plan import Statement
from arrowferry.progress import NullReporter
from arrowferry.result import Summary
from arrowferry.transfer.finish import Finisher
from arrowferry.urls import parse_url
from tests.conftest import sql


def _finish(
    target: FinishTarget, workers: int, statements: list[Statement], views: list[Statement]
) -> tuple[Finisher, Summary, list[str], list[str]]:
    """Run ``statements`` then ``views``; the finisher, its summary, warnings, views created."""
    summary, warnings, created = Summary(), [], []
    finisher = Finisher(
        target, workers, NullReporter(), summary, warnings.append, on_view=created.append
    )
    for table in {t for s in statements for t in (s.table, *s.depends) if t is not None}:
        finisher.table_loaded(table)
    finisher.add(statements)
    finisher.loading_done(set())
    finisher.close(views)
    return finisher, summary, warnings, created


def _sqlite_file(path: Path) -> Any:
    """The writer connection, with rows in ``t`` that its CHECK would refuse."""
    conn = sqlw.connect(path, fresh=True)  # CHECKs unenforced, as during a load
    sqlw.execute(conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0), tag TEXT)")
    sqlw.execute(
        conn, "INSERT INTO t VALUES (1, 5, 'a'), (2, -1, 'a'), (3, 0, 'b'), (4, NULL, 'c')"
    )
    return conn


def test_sqlite_counts_a_check_and_runs_statements_in_the_order_given(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    conn = _sqlite_file(path)
    statements = [
        Statement("check", sqlw.check_violations_sql("t", "n > 0"), "t", "n > 0"),
        Statement(
            "unique", sqlw.index_sql("t", "t_id_key", ['"id"'], unique=True), "t", "t_id_key"
        ),
        Statement("index", sqlw.index_sql("t", "t_x_idx", ["x"], unique=False), "t", "t_x_idx"),
        Statement("index", sqlw.index_sql("t", "t_n_idx", ['"n"'], unique=False), "t", "t_n_idx"),
        Statement("analyze", "ANALYZE", None, "ANALYZE"),
    ]
    try:
        finisher, summary, warnings, _ = _finish(SqliteFinishing(conn, []), 1, statements, [])
    finally:
        conn.close()
    assert finisher.outcome == {
        "n > 0": "weaker",
        "t_id_key": "ok",
        "t_x_idx": "failed",
        "t_n_idx": "ok",
        "ANALYZE": "ok",
    }
    # in the order given: PostgreSQL's stages would have built the indexes before the CHECK
    assert warnings == [
        "CHECK (n > 0) on t: 2 rows break its SQLite form (the expression means something "
        "else in SQLite, or the data changed); SQLite keeps the constraint and will refuse "
        "updates of those rows",
        "index 't_x_idx' on t not created: no such column: x",
    ]
    assert finisher.issues == [{"table": "t", "constraint": "n > 0", "kind": "check", "rows": 2}]
    # the unique index is an index and a constraint; the CHECK counted is a constraint
    assert (summary.constraints_applied, summary.indexes_created) == (2, 2)
    with sqlite3.connect(path) as check:
        indexes = check.execute("SELECT name FROM sqlite_schema WHERE type = 'index'").fetchall()
        stats = check.execute("SELECT tbl, idx FROM sqlite_stat1").fetchall()
    assert sorted(indexes) == [("t_id_key",), ("t_n_idx",)]
    assert sorted(stats) == [("t", "t_id_key"), ("t", "t_n_idx")]


def test_postgresql_foreign_key_falls_back_to_not_valid(pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE parent (id int PRIMARY KEY)")
    sql(pg_url, "CREATE TABLE child (id int, p_id int)")
    sql(pg_url, "INSERT INTO parent VALUES (1), (2)")
    sql(pg_url, "INSERT INTO child VALUES (1, 1), (2, 7), (3, NULL), (4, 9)")
    fk = ForeignKey(("p_id",), "parent", ("id",), name="child_p_fk")
    name = "child(p_id) -> parent"
    statements = [
        Statement(
            "foreign_key",
            pg.foreign_key_sql("public", "child", fk),
            "child",
            name,
            fallback_sql=pg.foreign_key_sql("public", "child", fk, valid=False),
            diagnose_sql=pg.orphans_sql("public", "child", fk),
            depends=("child", "parent"),
        ),
        Statement("index", "CREATE INDEX child_p_idx ON child (p_id)", "child", "child_p_idx"),
    ]
    finisher, summary, warnings, _ = _finish(
        PostgresFinishing(parse_url(pg_url)), 2, statements, []
    )
    assert finisher.outcome == {"child_p_idx": "ok", name: "weaker"}
    [warning] = warnings
    assert warning.startswith(
        f"foreign key {name} created NOT VALID: existing rows violate it; "
        "2 offending rows or keys, e.g. "
    )
    [issue] = finisher.issues
    assert {k: v for k, v in issue.items() if k != "examples"} == {
        "kind": "foreign_key",
        "name": name,
        "table": "child",
        "rows": 2,
    }
    assert sorted(issue["examples"]) == ["7", "9"]
    assert sql(pg_url, "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f'") == [
        ("child_p_fk", False)
    ]
    assert (summary.foreign_keys_created, summary.constraints_applied) == (1, 1)
    assert summary.indexes_created == 1


def _views(target: str) -> list[Statement]:
    """v2 reads v1 but comes first; broken reads a table that does not exist."""
    bodies = [
        ("v2", "SELECT n FROM v1"),
        ("v1", "SELECT n FROM t"),
        ("broken", "SELECT * FROM nowhere"),
    ]
    if target == "sqlite":
        return [Statement("view", sqlw.create_view_sql(v, body), None, v) for v, body in bodies]
    return [
        Statement("view", pg.create_view_sql("public", View(v, body)), None, v)
        for v, body in bodies
    ]


@pytest.mark.parametrize("target", ["sqlite", "postgresql"])
def test_views_are_retried_in_dependency_order(
    target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    path = tmp_path / "v.db"
    if target == "sqlite":
        conn = _sqlite_file(path)
        finishing: FinishTarget = SqliteFinishing(conn, [])
    else:
        pg_url: str = request.getfixturevalue("pg_url")
        sql(pg_url, "CREATE TABLE t (n int)")
        finishing = PostgresFinishing(parse_url(pg_url))
    try:
        finisher, summary, warnings, created = _finish(finishing, 1, [], _views(target))
    finally:
        if target == "sqlite":
            conn.close()
    assert created == ["v1", "v2"]
    assert summary.views_created == 2
    assert finisher.outcome == {"v1": "ok", "v2": "ok"}
    [warning] = warnings
    assert warning.startswith("view 'broken' not created: ") and "nowhere" in warning, warning
    if target == "sqlite":
        # SQLite accepts CREATE VIEW over a missing table; the probe found it, and it is gone
        with sqlite3.connect(path) as check:
            names = check.execute("SELECT name FROM sqlite_schema WHERE type = 'view'").fetchall()
        assert sorted(names) == [("v1",), ("v2",)]
    else:
        assert sql(
            pg_url, "SELECT viewname FROM pg_views WHERE schemaname = 'public' ORDER BY 1"
        ) == [
            ("v1",),
            ("v2",),
        ]
