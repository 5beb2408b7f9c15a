"""Issue 11, "done when": a dirty database holding one trap of every class in its own table
migrates every table and every value, without ``continue_on_error``.

Each class was found on databases nobody here wrote, and each used to stop the run or
change values without a word: a numeric that overflows only once rounded, an unbounded
NUMERIC wider than any Arrow decimal, a declared size SQLite never enforced, defaults
PostgreSQL refuses or reads otherwise, a virtual table, text in a BLOB column, numbers in a
DATETIME column. Every value is compared with what SQLite holds, and every change is said.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.errors import SchemaError
from tests.conftest import make_sqlite, pg_tables, sql

SCHEMA = """
CREATE TABLE money (id INTEGER PRIMARY KEY, v NUMERIC(10,2));
INSERT INTO money VALUES (1, 99999999.995), (2, 1.5), (3, -0.005);
CREATE TABLE wide (id INTEGER PRIMARY KEY, v NUMERIC);
INSERT INTO wide VALUES (1, 1.5e300), (2, 4e-320), (3, 7);
CREATE TABLE dec (id INTEGER PRIMARY KEY, v DECIMAL(10,5), note TEXT);
INSERT INTO dec VALUES (1, 12345678.9, 'kept'), (2, 0.12345, 'small');
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    StartTime DATETIME DEFAULT 0,
    is_public integer default '"0"',
    code TEXT DEFAULT 010,
    label TEXT DEFAULT ""
);
INSERT INTO events (id, StartTime, is_public) VALUES (1, 2460000.5, 1), (2, '2024-02-29 12:00:00', 0);
CREATE VIRTUAL TABLE docs USING fts5(body);
INSERT INTO docs (rowid, body) VALUES (10, 'the quick brown fox'), (20, 'lazy dogs');
CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB);
INSERT INTO blobs VALUES (1, 'abc'), (2, x'00ff');
"""


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    return make_sqlite(tmp_path / "dirty.sqlite", SCHEMA)


def _said(warnings: list[str], *parts: str) -> bool:
    return any(all(p in w for p in parts) for w in warnings)


def test_every_table_and_every_value_of_a_dirty_database(
    dirty: Path, pg_url: str, tmp_path: Path
) -> None:
    result = af.migrate(dirty, pg_url, reject_dir=str(tmp_path / "rejects"))

    assert result.errors == [] and result.not_attempted == [], result.to_dict()
    assert result.rows_rejected == 0 and result.success
    assert sorted(pg_tables(pg_url)) == ["blobs", "dec", "docs", "events", "money", "wide"]

    # numeric(10,2): 99999999.995 rounds (half away from zero) to 100000000.00, so the
    # column is widened and nothing is lost
    assert sql(pg_url, "SELECT id, v::text FROM money ORDER BY id") == [
        (1, "100000000.00"),
        (2, "1.50"),
        (3, "-0.01"),
    ]
    assert _said(result.warnings, "money.v", "NUMERIC(10,2)", "numeric(11,2)")
    # unbounded NUMERIC past 76 digits: each REAL SQLite stored, as its shortest
    # round-trip text (the ledger's rule for REAL into numeric), exactly
    wide = dict(sql(pg_url, "SELECT id, v::text FROM wide ORDER BY id"))
    assert Decimal(wide[1]) == Decimal("1.5e300") and Decimal(wide[2]) == Decimal("4e-320")
    assert float(wide[1]) == 1.5e300 and float(wide[2]) == 4e-320
    assert wide[3] == "7"
    # decimal(10,5) holding 12345678.9: numeric(13,5), the row kept whole
    assert sql(pg_url, "SELECT id, v::text, note FROM dec ORDER BY id") == [
        (1, "12345678.90000", "kept"),
        (2, "0.12345", "small"),
    ]
    assert _said(result.warnings, "dec.v", "numeric(13,5)")

    # events: julian day and ISO text both read, the number counted as a julian day
    assert sql(pg_url, 'SELECT id, "StartTime" FROM events ORDER BY id') == [
        (1, datetime(2023, 2, 25, 0, 0)),  # datetime(2460000.5) in SQLite
        (2, datetime(2024, 2, 29, 12, 0)),
    ]
    ledger = {(e["table"], e["column"]): e for e in result.ledger}
    assert ledger[("events", "StartTime")]["interpreted"] == {"julian_day": 1}
    # defaults: the one PostgreSQL cannot hold is dropped with a warning, the others give
    # new rows what SQLite gives them ('10' for TEXT DEFAULT 010, '' for DEFAULT "")
    assert _said(result.warnings, "events.is_public")
    # (the rows keep their is_public: a row that took '"0"' would be text in an INTEGER
    # column, a bad value)
    sql(pg_url, "INSERT INTO events (id) VALUES (3)")
    with closing(sqlite3.connect(dirty)) as conn:
        conn.execute("INSERT INTO events (id) VALUES (3)")
        lite = conn.execute("SELECT code, label FROM events WHERE id = 3").fetchone()
    assert lite == ("10", "")
    assert sql(pg_url, "SELECT code, label FROM events WHERE id = 3") == [lite]

    # the FTS table: its rows, its rowid kept as the key, and the index not rebuilt said
    assert sql(pg_url, "SELECT rowid, body FROM docs ORDER BY rowid") == [
        (10, "the quick brown fox"),
        (20, "lazy dogs"),
    ]
    assert _said(result.warnings, "docs", "to_tsvector")

    # text stored in a BLOB column becomes the bytes of its text, counted and said
    assert sql(pg_url, "SELECT id, b FROM blobs ORDER BY id") == [(1, b"abc"), (2, b"\x00\xff")]
    assert ledger[("blobs", "b")]["interpreted"] == {"text_as_bytes": 1}
    assert _said(result.warnings, "blobs.b", "1 text value", "bytes")


def test_a_planning_error_stops_before_drop_tables_drops_anything(
    tmp_path: Path, pg_url: str
) -> None:
    """A table that cannot be planned stops the run (no continue_on_error) before anything
    is written: the target's tables of the same names, which drop_tables would replace,
    keep their rows."""
    from tests.integration.test_virtual_tables import _with_unknown_module

    source = _with_unknown_module(tmp_path / "vec.db")
    sql(pg_url, "CREATE TABLE person (id bigint, name text)")
    sql(pg_url, "INSERT INTO person VALUES (7, 'precious')")
    result = af.migrate(source, pg_url, drop_tables=True)
    assert [(e.table, e.fatal) for e in result.errors] == [("vectors", True)]
    assert sorted(result.not_attempted) == ["person", "zeta"] and not result.success
    assert sql(pg_url, "SELECT id, name FROM person") == [(7, "precious")]
    assert pg_tables(pg_url) == ["person"]


def test_a_planning_error_leaves_an_existing_sqlite_file_as_it_was(
    tmp_path: Path, pg_url: str
) -> None:
    sql(pg_url, 'CREATE TABLE "Users" (id int)')
    sql(pg_url, "CREATE TABLE users (id int)")
    sql(pg_url, "CREATE TABLE orders (id int)")
    target = tmp_path / "t.sqlite"
    make_sqlite(target, "CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (1), (2);")
    # two tables SQLite would give one name refuse the run (one naming rule, issue 12)
    with pytest.raises(SchemaError, match="case"):
        af.migrate(pg_url, target, drop_tables=True)
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT id FROM orders ORDER BY id").fetchall() == [(1,), (2,)]
