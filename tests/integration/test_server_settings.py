"""A PostgreSQL server, database or role whose settings differ from PostgreSQL's defaults
changes nothing arrowferry writes, reads or compares: every session it opens sets what its
SQL text depends on (``connection._session``). Here, ``standard_conforming_strings = off``
(a legacy setting under which a backslash in a literal is an escape) on both sides of a
migration; exact floats and the catalog's date styles have tests of their own
(``test_sync_cross``, ``test_incremental_more``, ``test_compare_schemas``).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import arrowferry as af
from arrowferry.urls import parse_url
from tests.conftest import make_sqlite, sql

BACKSLASHES = r"C:\new\table"  # \n and \t: a newline and a tab, read as escapes


def _legacy_strings(url: str) -> None:
    database = parse_url(url).database
    sql(url, f'ALTER DATABASE "{database}" SET standard_conforming_strings = off')


def test_backslashes_in_defaults_and_checks_arrive_into_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    _legacy_strings(pg_url)
    app = make_sqlite(
        tmp_path / "app.db",
        f"CREATE TABLE p (id INTEGER PRIMARY KEY, path TEXT DEFAULT '{BACKSLASHES}', "
        r"k TEXT CHECK (k <> 'a\b'))",
        {"p": [(1, BACKSLASHES, r"x\y")]},
    )
    assert af.migrate(app, pg_url).success
    # the server's own reading of what was created, in a session of standard strings
    defaults = sql(
        pg_url,
        "SELECT set_config('standard_conforming_strings', 'on', false), "
        "(SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'p'::regclass), "
        "(SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'p'::regclass "
        "AND contype = 'c')",
    )
    assert defaults == [("on", f"'{BACKSLASHES}'::text", r"CHECK ((k <> 'a\b'::text))")]
    assert af.compare_schemas(app, pg_url).identical
    assert af.verify(app, pg_url).ok
    sql(pg_url, "INSERT INTO p (id, k) VALUES (2, 'z')")  # the default, as PostgreSQL applies it
    rows = sql(pg_url, "SELECT id, path, k FROM p ORDER BY id")
    assert rows == [(1, BACKSLASHES, r"x\y"), (2, BACKSLASHES, "z")]


def test_backslashes_in_defaults_and_checks_arrive_into_sqlite(tmp_path: Path, pg_url: str) -> None:
    sql(
        pg_url,
        f"CREATE TABLE p (id bigint PRIMARY KEY, path text DEFAULT '{BACKSLASHES}', "
        r"k text CHECK (k <> 'a\b'))",
    )
    sql(pg_url, f"INSERT INTO p (id, k) VALUES (1, '{BACKSLASHES}')")
    _legacy_strings(pg_url)  # set after: the table was made as written above
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy).success
    with closing(sqlite3.connect(copy)) as conn:
        conn.execute("INSERT INTO p (id, k) VALUES (2, 'z')")
        rows = conn.execute("SELECT id, path, k FROM p ORDER BY id").fetchall()
        refused = conn.execute(r"SELECT count(*) FROM p WHERE NOT (k <> 'a\b')").fetchone()
        try:
            conn.execute(r"INSERT INTO p (id, k) VALUES (3, 'a\b')")
            checked = False
        except sqlite3.IntegrityError:
            checked = True
    assert rows == [(1, BACKSLASHES, BACKSLASHES), (2, BACKSLASHES, "z")]
    assert refused == (0,)
    assert checked  # the CHECK refuses the backslash text itself, not a backspace
    # a key without an identity becomes SQLite's rowid, which numbers rows by itself: the
    # one difference such a copy has, whatever the server's settings
    found = af.compare_schemas(pg_url, copy).differences
    assert [(d.kind, d.name) for d in found] == [("default", "id")]
    assert af.verify(pg_url, copy).ok
