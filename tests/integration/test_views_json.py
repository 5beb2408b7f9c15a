"""JSON built in views, both directions: each created view returns, in the other engine,
the documents it returns in its own (parsed, numbers exact), NULLs in arrays kept; what
each engine would write differently (a timestamp, SQL/JSON's ABSENT ON NULL, jsonb's
sorted keys) is named in a warning instead of created.

sqlglot alone wrote SQLite's ``json_array(a, NULL)`` as PostgreSQL 16's ``JSON_ARRAY``,
which leaves the NULL out (and is a syntax error before 16), and could not bring
``json_build_object`` back to SQLite.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from tests.conftest import sql

ROWS = """
INSERT INTO items VALUES
  (1, 'a "quoted" name', 1, 3, 12.5, 0.1, '{"k": [1, 2.50, null]}', '2024-01-02 03:04:05'),
  (2, NULL, 0, NULL, 7, -1e20, '[]', NULL),
  (3, 'ünï', NULL, 0, NULL, NULL, NULL, '2024-02-29 00:00:00')
"""
# SQLite views: one value of each kind a migration carries differently
SQLITE_VIEWS = {
    "j_plain": "SELECT id, json_object('n', name, 'q', qty, 's', score, 'nil', NULL) AS j FROM items",
    "j_array_nulls": "SELECT id, json_array(name, NULL, qty, score) AS j FROM items",
    "j_flag": "SELECT id, json_object('f', flag) AS j FROM items",  # 0/1 in SQLite
    "j_price": "SELECT id, json_object('p', price) AS j FROM items",  # 12.5, not 12.50
    "j_doc": "SELECT id, json_object('d', doc) AS j FROM items",  # TEXT: a JSON string
    "j_nested": "SELECT id, json_object('a', json_array(qty, json_object('n', name))) AS j "
    "FROM items",
}
SQLITE_REFUSED = {"j_time": "SELECT id, json_object('t', at) AS j FROM items"}
# PostgreSQL views over the copy: its own constructors and types
PG_VIEWS = {
    "p_build": 'SELECT "id", json_build_object(\'f\', "flag", \'d\', "doc", \'n\', "name") '
    'AS j FROM "items"',
    "p_array": 'SELECT "id", json_build_array("flag", NULL, "doc", "qty") AS j FROM "items"',
    "p_sqljson": 'SELECT "id", JSON_OBJECT(\'n\' VALUE "name", \'f\' VALUE "flag") AS j '
    'FROM "items"',
}
PG_REFUSED = {
    "p_absent": 'SELECT "id", JSON_OBJECT(\'n\' VALUE "name" ABSENT ON NULL) AS j FROM "items"',
    "p_jsonb": 'SELECT "id", jsonb_build_object(\'n\', "name") AS j FROM "items"',
    "p_time": 'SELECT "id", json_build_object(\'t\', "at") AS j FROM "items"',
}


def _doc(text: str | None) -> Any:
    return None if text is None else json.loads(text, parse_float=Decimal)


def sqlite_docs(path: Path, view: str) -> dict[int, Any]:
    conn = sqlite3.connect(path)
    try:
        return {i: _doc(j) for i, j in conn.execute(f'SELECT id, j FROM "{view}"')}
    finally:
        conn.close()


def pg_docs(url: str, view: str) -> dict[int, Any]:
    return {i: _doc(j) for i, j in sql(url, f'SELECT "id", j::text FROM "{view}"')}


@pytest.fixture
def json_db(tmp_path: Path) -> Path:
    path = tmp_path / "json.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, flag BOOLEAN, qty INTEGER, "
        "price NUMERIC(10,2), score REAL, doc JSON, at DATETIME);" + ROWS
    )
    for name, body in {**SQLITE_VIEWS, **SQLITE_REFUSED}.items():
        conn.execute(f"CREATE VIEW {name} AS {body}")
    conn.commit()
    conn.close()
    return path


def test_json_views_both_ways(json_db: Path, pg_url: str, tmp_path: Path) -> None:
    into = af.migrate(json_db, pg_url)
    assert into.success, into.errors
    assert into.summary.views_created == len(SQLITE_VIEWS), into.warnings
    assert any("'j_time'" in w and "timestamp" in w for w in into.warnings), into.warnings
    for name in SQLITE_VIEWS:
        want = sqlite_docs(json_db, name)
        assert pg_docs(pg_url, name) == want, name
    # the kinds whose form differs really are in the data, as SQLite writes them
    assert sqlite_docs(json_db, "j_array_nulls")[2] == [None, None, None, Decimal("-1e20")]
    assert sqlite_docs(json_db, "j_flag")[1] == {"f": 1}
    assert sqlite_docs(json_db, "j_doc")[1] == {"d": '{"k": [1, 2.50, null]}'}

    for name, body in {**PG_VIEWS, **PG_REFUSED}.items():
        sql(pg_url, f'CREATE VIEW "{name}" AS {body}')
    back = tmp_path / "back.db"
    result = af.migrate(pg_url, back)
    assert result.success, result.errors
    for name in PG_REFUSED:
        assert any(f"'{name}'" in w for w in result.warnings), (name, result.warnings)
    assert result.summary.views_created == len(SQLITE_VIEWS) + len(PG_VIEWS), result.warnings
    for name in [*SQLITE_VIEWS, *PG_VIEWS]:
        assert sqlite_docs(back, name) == pg_docs(pg_url, name), name
    assert pg_docs(pg_url, "p_build")[1] == {
        "f": True,
        "d": {"k": [1, Decimal("2.50"), None]},
        "n": 'a "quoted" name',
    }
