"""A run of some tables creates the views that read only those, and names the others
with what they read, before trying them: it used to try each one and report the target's
own error (``relation "b" does not exist``, ``no such table: main.b``), and a SQLite copy
created views over tables it left out, which then failed when read."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import arrowferry as af
from tests.conftest import make_sqlite, sql

SCRIPT = (
    "CREATE TABLE a (id INTEGER PRIMARY KEY, n INTEGER);"
    "CREATE TABLE b (id INTEGER PRIMARY KEY, n INTEGER);"
    "CREATE VIEW va AS SELECT id, n FROM a WHERE n > 1;"
    "CREATE VIEW vb AS SELECT id FROM b;"
    "CREATE VIEW vab AS SELECT a.id FROM a JOIN b USING (id);"
    "CREATE VIEW on_vb AS SELECT id FROM vb;"
    "CREATE VIEW with_cte AS WITH b AS (SELECT id FROM a) SELECT id FROM b;"
)
ROWS = {"a": [(1, 1), (2, 2), (3, 3)], "b": [(1, 5)]}
REASONS = {
    "vb": "it reads b, which this run does not migrate",
    "vab": "it reads b, which this run does not migrate",
    "on_vb": "it reads view vb, which is not created",
}


def _named(warnings: list[str]) -> dict[str, str]:
    out = {}
    for w in warnings:
        for view, why in REASONS.items():
            if w.startswith((f"view '{view}' not created", f"view {view} is not created")):
                out[view] = why if why in w else w
    return out


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_sqlite(tmp_path / "app.db", SCRIPT, ROWS)


def test_sqlite_to_postgresql(source: Path, pg_url: str) -> None:
    result = af.migrate(source, pg_url, include_tables=["a"])
    assert result.success, result.to_dict()
    assert _named(result.warnings) == REASONS, result.warnings
    assert not [w for w in result.warnings if "does not exist" in w], result.warnings
    assert sql(pg_url, "SELECT id FROM va ORDER BY id") == [(2,), (3,)]
    assert sql(pg_url, "SELECT id FROM with_cte ORDER BY id") == [(1,), (2,), (3,)]


def test_sqlite_to_sqlite(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy.db"
    result = af.migrate(source, out, include_tables=["a"])
    assert result.success, result.to_dict()
    assert _named(result.warnings) == REASONS, result.warnings
    with sqlite3.connect(out) as conn:
        views = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
        assert views == {"va", "with_cte"}
        for view in views:  # each one created can be read
            conn.execute(f"SELECT * FROM {view}").fetchall()


def test_postgresql_to_sqlite(source: Path, pg_url: str, tmp_path: Path) -> None:
    assert af.migrate(source, pg_url).success
    out = tmp_path / "back.db"
    result = af.migrate(pg_url, out, include_tables=["a"])
    assert result.success, result.to_dict()
    assert _named(result.warnings) == REASONS, result.warnings
    assert not [w for w in result.warnings if "no such table" in w], result.warnings
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT id FROM va ORDER BY id").fetchall() == [(2,), (3,)]
