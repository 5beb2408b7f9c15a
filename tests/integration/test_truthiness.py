"""SQLite reads a number as true or false where a condition goes (``WHERE is_admin`` on a
0/1 INTEGER column, ``CHECK (json_valid(profile))``, as Django writes a JSONField's check);
PostgreSQL wants a boolean and refused such views and CHECKs ("argument of WHERE must be
type boolean"). They are now written as SQLite reads them (``is_admin <> 0``,
``profile IS JSON``), and each gives in PostgreSQL the rows it gave in SQLite."""

from __future__ import annotations

from pathlib import Path

import adbc_driver_sqlite.dbapi as adbc_sqlite
import psycopg
import pytest

import arrowferry as af
from arrowferry.dialects.translate import Relation, translate_expression, translate_sqlite_view
from tests.conftest import make_sqlite, sql

VIEWS = {
    "admins": "SELECT id, email FROM users WHERE is_admin",
    "not_admins": "SELECT id FROM users WHERE NOT is_admin AND score",
    "labels": "SELECT id, CASE WHEN is_admin THEN 'admin' WHEN score - 1 THEN 'scored' END AS l FROM users",
    "valid": "SELECT id, json_valid(profile) AS ok FROM users",
    "joined": "SELECT a.id, b.id AS other FROM users a JOIN users b ON a.score * b.score",
}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    views = "".join(f"CREATE VIEW {name} AS {body};" for name, body in VIEWS.items())
    return make_sqlite(
        tmp_path / "app.db",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, is_admin INTEGER NOT NULL "
        "DEFAULT 0 CHECK (is_admin IN (0, 1)), score REAL, profile TEXT "
        'CHECK ((JSON_VALID("profile") OR "profile" IS NULL)), flag INTEGER CHECK (flag));'
        "CREATE INDEX scored ON users (id) WHERE score;" + views,
        {
            "users": [
                (1, "a@x", 1, 2.5, '{"k": 1}', 1),
                (2, "b@x", 0, 0.0, None, None),
                (3, "c@x", 0, 1.0, "[1, 2]", 5),
                (4, "d@x", 1, None, "3", -1),
            ]
        },
    )


def _rows(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return sorted(tuple(r) for r in rows)


def test_views_and_checks_read_numbers_as_sqlite_does(source: Path, pg_url: str) -> None:
    result = af.migrate(source, pg_url)
    assert result.success, result.to_dict()
    assert not [w for w in result.warnings if "not created" in w or "not migrated" in w]
    # SQLite as arrowferry reads it (the driver's own, 3.45 or newer: json_valid(NULL) is
    # NULL there, 0 in older ones such as Debian 12's 3.40)
    conn = adbc_sqlite.connect(str(source))
    try:
        for name in VIEWS:
            with conn.cursor() as cur:
                cur.execute(f"SELECT * FROM {name}")
                want = _rows(cur.fetchall())
            got = _rows(sql(pg_url, f"SELECT * FROM {name}"))
            assert got == want, (name, got, want)
    finally:
        conn.close()
    with psycopg.connect(pg_url) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO users (id, profile) VALUES (9, '{bad')")
        conn.rollback()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO users (id, flag) VALUES (9, 0)")
        conn.rollback()
        conn.execute("INSERT INTO users (id, profile, flag) VALUES (9, '{\"ok\": true}', 2)")
    predicate = sql(
        pg_url,
        "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'scored'::regclass",
    )
    assert predicate == [("(score <> (0)::double precision)",)]


@pytest.mark.parametrize(
    ("given", "condition", "written"),
    [
        ("is_admin", True, '("is_admin" <> 0)'),
        ("is_admin", False, '"is_admin"'),  # a default or an index key is no condition
        ("json_valid(p)", True, '("p" IS JSON)'),
        ("json_valid(p)", False, 'CAST(("p" IS JSON) AS INT)'),  # 1 or 0, as SQLite's
        ("flag AND p IS NOT NULL", True, '"flag" AND NOT "p" IS NULL'),  # a boolean stays
        ("email", True, '"email"'),  # text: SQLite's reading has no PostgreSQL form; refused there
    ],
)
def test_what_is_a_condition(given: str, condition: bool, written: str) -> None:
    kinds = {"is_admin": "int64", "p": "text", "flag": "boolean", "email": "text"}
    got = translate_expression(
        given, "sqlite", "postgresql", columns=list(kinds), kinds=kinds, condition=condition
    )
    assert got == written


def test_a_view_over_a_boolean_column_is_left_as_it_is() -> None:
    rel = {"t": Relation("t", {"flag": ("flag", "boolean"), "n": ("n", "int64")})}
    assert translate_sqlite_view("SELECT n FROM t WHERE flag OR n", rel) == (
        'SELECT "n" FROM "t" WHERE "flag" OR ("n" <> 0)'
    )


def test_a_diff_after_the_migration_finds_nothing(source: Path, pg_url: str) -> None:
    """The diff reads a CHECK and an index predicate as conditions too: SQLite's
    ``CHECK (flag)`` and the ``CHECK ((flag <> 0))`` its copy holds are one."""
    assert af.migrate(source, pg_url).success
    assert af.compare_schemas(source, pg_url).identical
