"""SQLite virtual tables (issue 11, item 9): FTS and R-tree rows are copied through the
virtual table into plain tables, shadow tables are skipped by name, and a table whose
module is missing is that table's error, never the run's."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as sqlite_adbc
import pytest

import arrowferry as af
from tests.conftest import make_sqlite, pg_tables, sql
from tests.integration._cli_helpers import cli
from tests.integration._compare import pg_column_types, pg_query, values_equal

FTS_ROWS = [
    (10, "ann@example.org", "Quarterly report", "numbers inside"),
    (20, "bob@example.org", 3, 4.5),  # FTS5 columns are untyped: numbers stay numbers
    (35, None, "no sender", "ünïcode body"),
]
BOXES = [(1, 0.5, 1.5, -2.0, 3.25), (2, -1e10, 1e10, 0.0, 0.0)]


def _virtual_file(path: Path) -> Path:
    """FTS5, FTS4, R-tree and R-tree int32 tables beside a plain table (stdlib 3.40 has
    all four modules, so shadow tables are what SQLite itself calls shadow tables)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT);
            CREATE VIRTUAL TABLE email USING fts5(sender, title, body);
            CREATE VIRTUAL TABLE notes USING fts4(body);
            CREATE VIRTUAL TABLE box USING rtree(id, minx, maxx, miny, maxy);
            CREATE VIRTUAL TABLE grid USING rtree_i32(id, x0, x1, +label TEXT);
            """
        )
        conn.execute("INSERT INTO person VALUES (1, 'Ann')")
        conn.executemany(
            "INSERT INTO email (rowid, sender, title, body) VALUES (?, ?, ?, ?)", FTS_ROWS
        )
        conn.execute("INSERT INTO notes (docid, body) VALUES (7, 'seven')")
        conn.executemany("INSERT INTO box VALUES (?, ?, ?, ?, ?)", BOXES)
        conn.execute("INSERT INTO grid VALUES (4, -3, 9, 'cell')")
        conn.commit()
    return path


def _through_module(path: Path, table: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid').fetchall()


def _shadow_tables(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [
            r[0] for r in conn.execute("SELECT name FROM pragma_table_list WHERE type = 'shadow'")
        ]


def test_fts_and_rtree_rows_arrive_as_plain_tables(tmp_path: Path, pg_url: str) -> None:
    source = _virtual_file(tmp_path / "virtual.db")
    shadows = _shadow_tables(source)
    assert {"email_data", "email_content", "notes_segdir", "box_node", "grid_rowid"} <= set(shadows)

    result = af.migrate(source, pg_url)

    assert result.success, result.errors
    assert pg_tables(pg_url) == ["box", "email", "grid", "notes", "person"]
    # the FTS rowid (the document id other tables refer to) is kept, as the key
    email = pg_query(pg_url, "SELECT rowid, sender, title, body FROM email ORDER BY rowid")
    expected = [
        (r, s, None if t is None else str(t), None if b is None else str(b))
        for r, s, t, b in FTS_ROWS
    ]
    assert [tuple(r.values()) for r in email] == expected
    assert pg_column_types(pg_url, "email") == {
        "rowid": "bigint",
        "sender": "text",
        "title": "text",
        "body": "text",
    }
    assert sql(
        pg_url,
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'email'::regclass AND i.indisprimary",
    ) == [("rowid",)]
    assert [tuple(r.values()) for r in pg_query(pg_url, "SELECT rowid, body FROM notes")] == [
        (7, "seven")
    ]
    # R-tree: an integer id and REAL (or INT32) bounds, read through the module
    boxes = pg_query(pg_url, "SELECT id, minx, maxx, miny, maxy FROM box ORDER BY id")
    stored = [row[1:] for row in _through_module(source, "box")]
    assert len(boxes) == len(stored) == 2
    for got, want in zip(boxes, stored, strict=True):
        assert all(values_equal(w, g) for w, g in zip(want, got.values(), strict=True)), (got, want)
    assert pg_column_types(pg_url, "box")["minx"] == "double precision"
    assert [tuple(r.values()) for r in pg_query(pg_url, "SELECT id, x0, x1, label FROM grid")] == [
        (4, -3, 9, "cell")
    ]
    # every shadow table skipped, by name, and the indexes said to be gone
    for name in shadows:
        assert any(repr(name) in w and "shadow" in w for w in result.warnings), name
    fts = next(w for w in result.warnings if "virtual table 'email' (fts5)" in w)
    assert "full-text index is not rebuilt" in fts
    assert any(
        "virtual table 'box' (rtree)" in w and "R-tree index is not rebuilt" in w
        for w in result.warnings
    )
    # the full-text index the warning proposes builds, and finds the document
    create = re.search(r"(CREATE INDEX ON .*?\)\)\)) and query", fts)
    assert create is not None, fts
    sql(pg_url, create.group(1))
    found = sql(
        pg_url,
        "SELECT rowid FROM email WHERE to_tsvector('simple', coalesce(sender, '') || ' ' || "
        "coalesce(title, '') || ' ' || coalesce(body, '')) @@ websearch_to_tsquery('simple', 'quarterly')",
    )
    assert found == [(10,)]


def test_include_names_a_virtual_table(tmp_path: Path, pg_url: str) -> None:
    source = _virtual_file(tmp_path / "virtual.db")
    outcome = cli("migrate", str(source), pg_url, "--include", "email")
    assert outcome.exit_code == 0, outcome.everything
    assert pg_tables(pg_url) == ["email"]
    assert sql(pg_url, "SELECT count(*) FROM email") == [(3,)]


def test_fts5_options_only_the_driver_knows(tmp_path: Path, pg_url: str) -> None:
    """FTS5 options newer than the standard library's SQLite 3.40 (tokendata, 3.45;
    contentless_delete, 3.43): the metadata is asked of the driver's SQLite."""
    path = tmp_path / "newer.db"
    with (
        closing(sqlite_adbc.connect(str(path), autocommit=True)) as conn,
        closing(conn.cursor()) as cur,
    ):
        cur.execute("CREATE VIRTUAL TABLE tagged USING fts5(body, tokendata=1)")
        cur.execute("INSERT INTO tagged (rowid, body) VALUES (5, 'token data'), (9, 'second')")
        cur.execute("CREATE VIRTUAL TABLE gone USING fts5(a, content='', contentless_delete=1)")
        cur.execute("INSERT INTO gone (rowid, a) VALUES (3, 'not kept')")
    with closing(sqlite3.connect(path)) as conn:  # the standard library cannot read them
        try:
            conn.execute("SELECT * FROM tagged").fetchall()
            raise AssertionError("sqlite3 3.40 read a tokendata table")
        except sqlite3.OperationalError as err:
            assert "tokendata" in str(err)

    result = af.migrate(path, pg_url)

    assert result.success, result.errors
    assert sql(pg_url, "SELECT rowid, body FROM tagged ORDER BY rowid") == [
        (5, "token data"),
        (9, "second"),
    ]
    assert sql(pg_url, "SELECT rowid, a FROM gone") == [(3, None)]
    assert any("'gone'" in w and "contentless" in w for w in result.warnings), result.warnings


def _with_unknown_module(path: Path) -> Path:
    """A file whose schema holds a virtual table of a module no SQLite here has."""
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(
            """
            CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT);
            INSERT INTO person VALUES (1, 'Ann'), (2, 'Bob');
            CREATE TABLE zeta (z INTEGER);
            INSERT INTO zeta VALUES (26);
            PRAGMA writable_schema = ON;
            INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES
              ('table', 'vectors', 'vectors', 0, 'CREATE VIRTUAL TABLE vectors USING vec0(v float[4])');
            PRAGMA writable_schema = OFF;
            """
        )
    return path


def test_a_missing_module_is_that_tables_error(tmp_path: Path, pg_url: str) -> None:
    source = _with_unknown_module(tmp_path / "vec.db")

    # without continue_on_error the run stops at that table's error, as at any failure,
    # before anything is written, and names the tables it never attempted
    stopped = af.migrate(source, pg_url)
    assert not stopped.success
    assert [(e.table, e.fatal) for e in stopped.errors] == [("vectors", True)]
    assert "module 'vec0'" in stopped.errors[0].message
    assert sorted(stopped.not_attempted) == ["person", "zeta"] and pg_tables(pg_url) == []

    result = af.migrate(source, pg_url, continue_on_error=True)  # only that table fails
    assert not result.success
    assert [(e.table, e.fatal) for e in result.errors] == [("vectors", False)]
    assert "module 'vec0'" in result.errors[0].message
    assert pg_tables(pg_url) == ["person", "zeta"]  # tables before and after it in name order
    assert sql(pg_url, "SELECT id, name FROM person ORDER BY id") == [(1, "Ann"), (2, "Bob")]

    outcome = cli("migrate", str(source), "--dry-run", "--include", "vectors")
    assert outcome.exit_code == 1, outcome.everything
    assert outcome.exception is None and "vec0" in outcome.stdout


def test_postgresql_into_a_sqlite_file_that_holds_virtual_tables(
    tmp_path: Path, pg_url: str
) -> None:
    """The reverse direction lists the target's tables: virtual and shadow tables there
    must neither break it nor be touched unless asked."""
    sql(pg_url, "CREATE TABLE orders (id integer PRIMARY KEY, item text)")
    sql(pg_url, "INSERT INTO orders VALUES (1, 'pen'), (2, 'ink')")
    sql(pg_url, "CREATE TABLE email (id integer PRIMARY KEY, subject text)")
    sql(pg_url, "INSERT INTO email VALUES (8, 'from postgres')")
    target = _virtual_file(tmp_path / "target.db")

    result = af.migrate(pg_url, target, include_tables=["orders"])
    assert result.success, result.errors
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT id, item FROM orders ORDER BY id").fetchall() == [
            (1, "pen"),
            (2, "ink"),
        ]
        hits = conn.execute("SELECT rowid FROM email WHERE email MATCH 'quarterly'").fetchall()
        assert hits == [(10,)]  # the FTS table and its index are untouched
        assert conn.execute("SELECT id FROM box WHERE minx <= 1 AND maxx >= 1").fetchall() == [
            (1,),
            (2,),
        ]

    refused = cli("migrate", pg_url, str(target), "--include", "email")
    assert refused.exit_code != 0 and "already exist" in refused.everything, refused.everything

    replaced = af.migrate(pg_url, target, include_tables=["email"], drop_tables=True)
    assert replaced.success, replaced.errors
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT id, subject FROM email").fetchall() == [(8, "from postgres")]
        left = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert not any(name.startswith("email_") for name in left), (
        left
    )  # its shadow tables went with it


def test_postgresql_into_a_file_with_a_module_sqlite_lacks(tmp_path: Path, pg_url: str) -> None:
    sql(pg_url, "CREATE TABLE vectors (id integer PRIMARY KEY)")
    sql(pg_url, "CREATE TABLE other (id integer PRIMARY KEY)")
    target = _with_unknown_module(tmp_path / "target.db")

    ok = af.migrate(pg_url, target, include_tables=["other"])
    assert ok.success, ok.errors

    clash = cli("migrate", pg_url, str(target), "--include", "vectors", "--drop-tables")
    assert clash.exit_code == 2 and clash.exception is None, clash.everything
    assert (
        "'vectors'" in clash.everything
        and "vec0" in clash.everything
        and "Traceback" not in clash.everything
    )


def test_a_large_file_checks_only_real_tables(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the quick_check size a file's tables are probed one by one: a virtual table
    (no b-tree of its own, its module perhaps missing) must not fail the whole file."""
    monkeypatch.setattr("arrowferry.dialects.sqlite.catalog.QUICK_CHECK_MAX_BYTES", 0)
    source = _with_unknown_module(tmp_path / "vec.db")

    result = af.migrate(source, pg_url, continue_on_error=True)

    assert [e.table for e in result.errors] == ["vectors"]
    assert pg_tables(pg_url) == ["person", "zeta"]
    assert any("quick_check was skipped" in w for w in result.warnings)


def test_external_content_fts_reads_its_content_table(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "external.db",
        """
        CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT);
        INSERT INTO docs VALUES (3, 'alpha beta'), (8, 'gamma');
        CREATE VIRTUAL TABLE docs_fts USING fts5(body, content=docs, content_rowid=id);
        INSERT INTO docs_fts (docs_fts) VALUES ('rebuild');
        """,
    )
    result = af.migrate(source, pg_url)
    assert result.success, result.errors
    assert sql(pg_url, "SELECT rowid, body FROM docs_fts ORDER BY rowid") == [
        (3, "alpha beta"),
        (8, "gamma"),
    ]
    note = next(w for w in result.warnings if "virtual table 'docs_fts' (fts5)" in w)
    assert "read from table 'docs' (external content)" in note
