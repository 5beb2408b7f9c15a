"""SQLite catalogs -> the neutral model (no PostgreSQL needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrowferry import inspect_schema
from arrowferry.dialects import sqlite
from arrowferry.model import Check, ForeignKey, IndexKey, UniqueConstraint
from tests.conftest import make_sqlite

SCHEMA = """
CREATE TABLE parent (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  code TEXT NOT NULL COLLATE NOCASE,
  qty INTEGER DEFAULT 1 CHECK (qty > 0),
  created DATETIME DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT parent_code_uq UNIQUE (code),
  CONSTRAINT qty_small CHECK (qty < 1000)
);
CREATE TABLE child (
  a TEXT, b INTEGER,
  parent_id INTEGER REFERENCES parent ON DELETE CASCADE ON UPDATE SET NULL,
  PRIMARY KEY (a, b),
  FOREIGN KEY (b) REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;
CREATE INDEX child_expr ON child (lower(a), b DESC) WHERE b > 10;
CREATE UNIQUE INDEX child_b ON child (b);
CREATE TABLE gen (x INTEGER, y INTEGER GENERATED ALWAYS AS (x * 2) STORED);
CREATE VIRTUAL TABLE docs USING fts5(body);
CREATE TRIGGER trg AFTER INSERT ON parent BEGIN SELECT 1; END;
CREATE VIEW v AS SELECT id, code FROM parent;
INSERT INTO parent (code) VALUES ('a');
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_sqlite(tmp_path / "s.db", SCHEMA)


def test_tables_skip_internal_virtual_and_shadow(db: Path) -> None:
    schema = inspect_schema(db)
    assert schema.table_names == ("child", "gen", "parent")
    notes = " ".join(schema.notes)
    assert "virtual table 'docs'" in notes and "shadow" in notes
    assert "sqlite_sequence" not in notes  # SQLite's bookkeeping is not the user's to hear of
    assert "trigger" in notes
    assert [v.name for v in schema.views] == ["v"] and schema.views[0].sql.startswith("SELECT")


def test_columns_keys_and_checks(db: Path) -> None:
    parent = inspect_schema(db).table("parent")
    ident = parent.column("id")
    assert ident.identity and ident.autoincrement and not ident.nullable
    code = parent.column("code")
    assert not code.nullable and code.collation == "NOCASE"
    assert parent.column("qty").default == "1"
    assert parent.column("created").default == "CURRENT_TIMESTAMP"
    assert parent.uniques == (UniqueConstraint(("code",), name="parent_code_uq"),)
    assert parent.uniques[0].name == "parent_code_uq"
    assert set(parent.checks) == {Check("qty > 0"), Check("qty < 1000", name="qty_small")}
    assert {c.name for c in parent.checks} == {None, "qty_small"}


def test_without_rowid_indexes_and_foreign_keys(db: Path) -> None:
    child = inspect_schema(db).table("child")
    assert child.without_rowid
    assert child.primary_key is not None and child.primary_key.columns == ("a", "b")
    assert not child.column("b").identity  # only the INTEGER PRIMARY KEY rowid alias is
    by_name = {i.name: i for i in child.indexes}
    expr = by_name["child_expr"]
    assert expr.keys == (IndexKey("lower(a)", is_expression=True), IndexKey("b", descending=True))
    assert expr.where == "b > 10" and not expr.unique
    assert by_name["child_b"].unique
    fks = set(child.foreign_keys)
    assert (
        ForeignKey(("parent_id",), "parent", ("id",), "CASCADE", "SET NULL") in fks
    )  # PK resolved
    deferred = next(fk for fk in fks if fk.columns == ("b",))
    assert deferred.deferrable and deferred.initially_deferred


def test_generated_columns(db: Path) -> None:
    gen = inspect_schema(db).table("gen")
    assert gen.column("y").generated == "x * 2" and gen.column("y").generated_stored


def test_profile_counts_storage_classes(tmp_path: Path) -> None:
    path = make_sqlite(
        tmp_path / "p.db",
        "CREATE TABLE t (v);",
        {"t": [(1,), (2.5,), ("x",), (b"\x00",), (None,), ("long text",)]},
    )
    with sqlite.connect_metadata_ctx(path) as conn:
        rows, prof = sqlite.profile(conn, "t", ["v"], extras={"v"})
        _, lean = sqlite.profile(conn, "t", ["v"])
    assert rows == 6
    p = prof["v"]
    assert (p.integers, p.reals, p.texts, p.blobs, p.nulls) == (1, 1, 2, 1, 1)
    assert p.max_text_length == 9 and p.max_abs_number == 2.5
    assert p.classes == ("integer", "real", "text", "blob")
    assert lean["v"].classes == p.classes and lean["v"].nulls == 1
    assert lean["v"].max_text_length == 0  # measures only when asked
