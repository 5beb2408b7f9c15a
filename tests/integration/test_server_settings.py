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
from tests.conftest import database_defaults, make_sqlite, sql

BACKSLASHES = r"C:\new\table"  # \n and \t: a newline and a tab, read as escapes


def _legacy_strings(url: str) -> None:
    database_defaults(url, "standard_conforming_strings = off")


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


def test_a_timestamp_without_offset_in_a_check_is_utc_whatever_the_databases_zone(
    tmp_path: Path, pg_url: str
) -> None:
    """arrowferry reads a timestamp without an offset as UTC (the values of a column mapped
    to timestamptz); a CHECK's constant must mean the same instant, not 05:00 UTC because
    the database's TimeZone is New York (and its DateStyle day-first)."""
    database_defaults(pg_url, "TimeZone = 'America/New_York'", "DateStyle = 'SQL, DMY'")
    app = make_sqlite(
        tmp_path / "app.db",
        "CREATE TABLE e (id INTEGER PRIMARY KEY, "
        "k TIMESTAMP CHECK (k > '2020-01-01 00:00:00'), "
        "at TIMESTAMP DEFAULT '2024-01-01 00:00:00')",
        {"e": [(1, "2020-01-01 03:00:00", "2024-06-01 12:00:00")]},
    )
    done = af.migrate(app, pg_url, type_map=["e.k=timestamptz", "e.at=timestamptz"])
    assert done.success, done.errors  # 03:00 UTC passes a CHECK at 00:00 UTC (not 05:00)
    rows = sql(
        pg_url,
        "SELECT set_config('TimeZone', 'UTC', false), "
        "(SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'e'::regclass "
        "AND contype = 'c'), "
        "(SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'e'::regclass "
        "AND adnum = 3), "
        "(SELECT k::text FROM e)",
    )
    assert rows == [
        (
            "UTC",
            "CHECK ((k > '01/01/2020 00:00:00 UTC'::timestamp with time zone))",
            "'01/01/2024 00:00:00 UTC'::timestamp with time zone",
            "01/01/2020 03:00:00 UTC",
        )
    ]


def test_sql_hooks_run_in_the_users_own_settings(tmp_path: Path, pg_url: str) -> None:
    """arrowferry's statements run in fixed settings; a user's hook in the server's,
    database's and role's own (here: New York, day-first dates, legacy strings)."""
    database_defaults(
        pg_url,
        "TimeZone = 'America/New_York'",
        "DateStyle = 'SQL, DMY'",
        "standard_conforming_strings = off",
        "extra_float_digits = 0",
    )
    app = make_sqlite(tmp_path / "app.db", "CREATE TABLE t (id INTEGER PRIMARY KEY)", {"t": [(1,)]})
    hook = tmp_path / "before.sql"
    hook.write_text(
        "CREATE TABLE seen AS SELECT current_setting('TimeZone') AS tz, "
        "current_setting('DateStyle') AS ds, "
        "current_setting('standard_conforming_strings') AS scs, "
        "current_setting('extra_float_digits') AS efd, '01/02/2024'::date AS d;\n"
    )
    assert af.migrate(app, pg_url, before_sql=hook).success
    seen = sql(pg_url, "SELECT tz, ds, scs, efd, to_char(d, 'YYYY-MM-DD') FROM seen")
    assert seen == [("America/New_York", "SQL, DMY", "off", "0", "2024-02-01")]


def test_text_travels_as_utf8_whatever_the_databases_client_encoding(
    tmp_path: Path, pg_url: str
) -> None:
    """ADBC reads and writes text as UTF-8; a database whose client_encoding is LATIN1 had
    the server read a copied 'café' as LATIN1 bytes and store 'cafÃ©' (the migration said
    it succeeded; verify saw it). Both directions, a default and a hook's literal too."""
    text = "café ü € 字"
    sql(pg_url, "CREATE TABLE back (id bigint PRIMARY KEY, s text)")
    sql(pg_url, "INSERT INTO back VALUES (1, $1)", [text])  # written before the setting
    database_defaults(pg_url, "client_encoding = 'LATIN1'")
    app = make_sqlite(
        tmp_path / "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT DEFAULT 'café')",
        {"t": [(1, text)]},
    )
    hook = tmp_path / "after.sql"
    hook.write_text("INSERT INTO t (id, s) VALUES (2, 'hook: café');\n", encoding="utf-8")
    assert af.migrate(app, pg_url, include=["t"], after_sql=hook).success
    sql(pg_url, "INSERT INTO t (id) VALUES (3)")  # the default, as the server applies it
    rows = sql(
        pg_url,
        "SELECT set_config('client_encoding', 'UTF8', false), id, s, octet_length(s) FROM t "
        "ORDER BY id",
    )
    assert [r[1:] for r in rows] == [
        (1, text, len(text.encode())),
        (2, "hook: café", len("hook: café".encode())),
        (3, "café", 5),
    ]
    copy = tmp_path / "copy.db"
    assert af.migrate(pg_url, copy, include=["back"]).success
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT id, s FROM back").fetchall() == [(1, text)]
    assert af.verify(pg_url, copy, ["back"]).ok
