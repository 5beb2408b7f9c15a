"""diff and sync see how text compares (collations), in every pair of engines.

SQLite compares text byte by byte (BINARY) unless a column says NOCASE or RTRIM;
PostgreSQL by each column's collation, by default the database's (a locale such as
ICU en-US on most servers). Before, the PostgreSQL catalog left every column's collation
out, so ``diff`` called a SQLite table and a PostgreSQL table whose text sorts another
way the same, and ``sync`` had nothing to mend; a type change also dropped a column's own
``COLLATE "C"``. Each test checks the rows an ``ORDER BY`` gives in both engines, not only
what the diff says. The server is Debian's PostgreSQL with an ICU en-US default (the
pgserver wheel's has no ICU and only C locales).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg

import arrowferry as af
from tests.integration._throwaway_pg import ThrowawayServer

NAMES = ["apple", "Banana", "cherry", "Date", "éclair", "_x", "Zebra", "zebra", "ábaco", "10", "9"]
BYTES = sorted(NAMES, key=lambda n: n.encode())


def _sqlite(path: Path, *ddl: str) -> Path:
    with sqlite3.connect(path) as conn:
        for sql in ddl:
            conn.execute(sql)
    return path


def _fill_sqlite(path: Path, table: str = "t") -> None:
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO {table} (name) VALUES (?)", [(n,) for n in NAMES])


def _fill_pg(url: str, table: str = "t") -> None:
    with psycopg.connect(url) as conn:
        conn.cursor().executemany(f"INSERT INTO {table} (name) VALUES (%s)", [(n,) for n in NAMES])


def _pg_order(url: str, sql: str = "SELECT name FROM t ORDER BY name") -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(sql)]  # type: ignore[arg-type]


def _sqlite_order(path: Path, sql: str = "SELECT name FROM t ORDER BY name") -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute(sql)]


def _collations(found: af.SchemaComparison) -> list[tuple[str | None, str | None, bool]]:
    return [(d.table, d.name, d.lossless) for d in found.differences if d.kind == "collation"]


def test_sqlite_against_a_locale_database_then_sync(
    icu_server: ThrowawayServer, tmp_path: Path
) -> None:
    """A migration that kept the database's locale (``text_collation="default"``): the
    diff names each text column and the view over it; sync gives them ``COLLATE "C"``
    (the view dropped and made again), after which PostgreSQL sorts as SQLite does."""
    src = _sqlite(
        tmp_path / "app.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, code VARCHAR(8), n INTEGER)",
        "CREATE VIEW sorted AS SELECT name FROM t ORDER BY name",
        # ORDER BY an output name: pg_get_viewdef writes the expression (the diff called
        # such a view different from its own copy)
        "CREATE VIEW counted AS SELECT name, count(*) AS n FROM t GROUP BY name ORDER BY n DESC, name",
    )
    _fill_sqlite(src)
    url = icu_server.new_database("sq_locale")
    af.migrate(src, url, text_collation="default")
    assert _pg_order(url) != _sqlite_order(src) == BYTES  # the difference the diff must see

    found = af.compare_schemas(src, url)
    assert _collations(found) == [("t", "code", True), ("t", "name", True)]
    assert {d.kind for d in found.differences} == {"collation"}
    said = [d.detail for d in found.differences if d.kind == "collation"]
    assert "byte by byte in a" in said[1] and "en-US (ICU) in b" in said[1]

    result = af.sync_schema(src, url, apply=True)
    assert any('COLLATE "C"' in s.sql for s in result.statements)
    assert _pg_order(url) == BYTES
    assert _pg_order(url, "SELECT name FROM sorted") == BYTES  # the view came back
    assert af.compare_schemas(src, url).identical
    assert af.verify(src, url).ok


def test_sqlite_nocase_has_no_postgresql_form(icu_server: ThrowawayServer, tmp_path: Path) -> None:
    """NOCASE is shown against PostgreSQL's C; sync says it cannot mend it and changes
    nothing (the column keeps comparing bytes, the difference stays)."""
    src = _sqlite(
        tmp_path / "nocase.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE)"
    )
    _fill_sqlite(src)
    url = icu_server.new_database("sq_nocase")
    af.migrate(src, url)
    found = af.compare_schemas(src, url)
    assert _collations(found) == [("t", "name", True)]
    assert "NOCASE" in found.differences[0].detail
    result = af.sync_schema(src, url, apply=True)
    assert not result.statements or all("name" not in s.sql for s in result.statements)
    assert any("t.name" in note and "no collation" in note for note in result.notes)
    assert _collations(af.compare_schemas(src, url)) == [("t", "name", True)]


def test_postgresql_c_into_sqlite_nocase(icu_server: ThrowawayServer, tmp_path: Path) -> None:
    """A SQLite copy whose column ignores case against a PostgreSQL source that compares
    bytes: the unique key there would refuse 'Zebra' beside 'zebra' (not lossless); sync
    rebuilds the table without NOCASE, keeping every row."""
    url = icu_server.new_database(
        "pg_c",
        'CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text COLLATE "C" UNIQUE)',
    )
    dst = _sqlite(
        tmp_path / "copy.db",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE UNIQUE)",
        "INSERT INTO t (name) VALUES ('apple'), ('Banana')",
    )
    found = af.compare_schemas(url, dst)
    assert _collations(found) == [("t", "name", False)]
    af.sync_schema(url, dst, apply=True)
    assert af.compare_schemas(url, dst).identical
    with sqlite3.connect(dst) as conn:
        conn.executemany("INSERT INTO t (name) VALUES (?)", [("Apple",), ("BANANA",)])
    assert _sqlite_order(dst) == sorted(["apple", "Banana", "Apple", "BANANA"], key=str.encode)


def test_sqlite_to_sqlite_collation_is_synced(tmp_path: Path) -> None:
    """Between two SQLite files: the target's column gets the desired NOCASE (before, the
    rebuild kept the old collation, so the difference survived every sync)."""
    want = _sqlite(
        tmp_path / "want.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT COLLATE NOCASE)"
    )
    have = _sqlite(tmp_path / "have.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    _fill_sqlite(have)
    assert _collations(af.compare_schemas(want, have)) == [("t", "name", True)]
    af.sync_schema(want, have, apply=True)
    assert af.compare_schemas(want, have).identical
    assert _sqlite_order(have) == sorted(NAMES, key=lambda n: n.encode().lower())
    assert sorted(_sqlite_order(have)) == sorted(NAMES)  # every row kept


def test_postgresql_pairs(icu_server: ThrowawayServer) -> None:
    """PostgreSQL against PostgreSQL: an explicit C column against one at the database's
    locale is synced to C; the reverse (a column at its database's default locale) has no
    collation name to give, so sync says so; C and POSIX compare alike (no difference)."""
    a = icu_server.new_database(
        "pp_a",
        'CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text COLLATE "C", other text COLLATE "POSIX", '
        "loose varchar(10))",
        "CREATE VIEW v AS SELECT name FROM t",
    )
    b = icu_server.new_database(
        "pp_b",
        'CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, other text COLLATE "C", '
        'loose varchar(10) COLLATE "C")',
        "CREATE VIEW v AS SELECT name FROM t",
    )
    _fill_pg(b)
    found = af.compare_schemas(a, b)
    assert _collations(found) == [("t", "loose", True), ("t", "name", True)]
    result = af.sync_schema(a, b, apply=True)
    assert any("t.loose" in note and "no collation" in note for note in result.notes)
    assert _pg_order(b) == BYTES
    assert _collations(af.compare_schemas(a, b)) == [("t", "loose", True)]


def test_a_type_change_keeps_the_collation(icu_server: ThrowawayServer, tmp_path: Path) -> None:
    """SQLite's column widened from VARCHAR(4) to TEXT: the PostgreSQL column's new type
    keeps COLLATE "C" (PostgreSQL's own ALTER ... TYPE would give it the locale)."""
    src = _sqlite(tmp_path / "wide.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(4))")
    url = icu_server.new_database("sq_type")
    af.migrate(src, url)
    with sqlite3.connect(src) as conn:
        conn.execute("DROP TABLE t")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    kinds = {d.kind for d in af.compare_schemas(src, url).differences}
    assert kinds == {"column_type"}
    af.sync_schema(src, url, apply=True)
    assert af.compare_schemas(src, url).identical
    _fill_pg(url)
    assert _pg_order(url) == BYTES


def test_sync_keeps_a_chosen_database_collation(
    icu_server: ThrowawayServer, tmp_path: Path
) -> None:
    """A migration run with ``text_collation="default"`` chose the database's locale: a
    sync given the same choice (API and CLI) adds a column at that locale and leaves the
    existing ones as they are; without it, the sync makes them compare bytes again."""
    src = _sqlite(tmp_path / "kept.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    _fill_sqlite(src)
    url = icu_server.new_database("sq_kept")
    af.migrate(src, url, text_collation="default")
    with sqlite3.connect(src) as conn:
        conn.execute("ALTER TABLE t ADD COLUMN note TEXT")
    kept = af.sync_schema(src, url, text_collation="default")
    assert [s.reason for s in kept.statements if "COLLATE" in s.sql] == []
    assert any("ADD COLUMN" in s.sql for s in kept.statements)
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "arrowferry",
            "sync",
            str(src),
            url,
            "--text-collation",
            "default",
            "--apply",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert 'COLLATE "C"' not in cli.stdout and "ADD COLUMN" in cli.stdout
    assert _pg_order(url) != BYTES  # still the locale's order, as chosen
    assert _collations(af.compare_schemas(src, url)) == [("t", "name", True), ("t", "note", True)]
    af.sync_schema(src, url, apply=True)  # the default: compare as SQLite does
    assert _pg_order(url) == BYTES
    assert af.compare_schemas(src, url).identical
