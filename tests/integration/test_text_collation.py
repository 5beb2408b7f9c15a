"""Text compares in PostgreSQL as it did in SQLite, whatever the database's locale.

SQLite compares text byte by byte (BINARY); a PostgreSQL database at a locale such as
en-US (the official Docker image's en_US.utf8, most distributions' default) puts 'apple'
before 'Banana' and '_x' before 'apple'. Without ``COLLATE "C"`` on the columns a
migration creates, every view below and the CHECK gave other rows in PostgreSQL than in
SQLite, with the migration reporting success. The server is Debian's PostgreSQL with an
ICU en-US default collation (the pgserver wheel's server has no ICU and only C locales, so
no difference could show there).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

import arrowferry as af
from tests.integration._throwaway_pg import ThrowawayServer

NAMES = ["apple", "Banana", "cherry", "Date", "éclair", "_x", "Zebra", "zebra", "ábaco", "10", "9"]
VIEWS = {
    "late": "SELECT name FROM t WHERE name > 'M'",
    "firsts": "SELECT name FROM t ORDER BY name LIMIT 4",
    "extremes": "SELECT max(name) AS hi, min(name) AS lo FROM t",
    "ranked": "SELECT name, (SELECT count(*) FROM t u WHERE u.name < t.name) AS below FROM t",
    "middle": "SELECT name FROM t WHERE name BETWEEN 'B' AND 'd'",
}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("collation") / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "code VARCHAR(2) CHECK (code BETWEEN 'A' AND 'Z'), tag TEXT COLLATE NOCASE)"
        )
        conn.executemany(
            "INSERT INTO t (name, code, tag) VALUES (?, ?, ?)",
            [(n, n[0].upper() if n[0].isascii() and n[0].isalpha() else None, n) for n in NAMES],
        )
        for name, sql in VIEWS.items():
            conn.execute(f"CREATE VIEW {name} AS {sql}")
    return path


def _sqlite(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return [tuple(r) for r in conn.execute(sql)]


def _pg(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(sql)]


def _views(source: Path, url: str) -> dict[str, tuple[list[object], list[object]]]:
    """Each view's rows in SQLite and in PostgreSQL, as sorted multisets (by Python's
    own order, the same for both)."""
    return {
        name: (
            sorted(_sqlite(source, f"SELECT * FROM {name}")),
            sorted(_pg(url, f"SELECT * FROM {name}")),
        )
        for name in VIEWS
    }


def test_the_server_sorts_by_its_locale(icu_server: ThrowawayServer) -> None:
    """What makes the other tests able to fail: this database does not compare bytes."""
    url = icu_server.new_database("probe")
    assert _pg(url, "SELECT 'apple' < 'Banana', 'apple' < 'Banana' COLLATE \"C\"") == [
        (True, False)
    ]


def test_views_checks_and_order_match_sqlite(source: Path, icu_server: ThrowawayServer) -> None:
    url = icu_server.new_database("exact")
    result = af.migrate(source, url)
    assert result.success, result.errors
    assert result.summary.views_created == len(VIEWS)
    for name, (in_sqlite, in_pg) in _views(source, url).items():
        assert in_pg == in_sqlite, name
    # the application's own ORDER BY, and the rows a CHECK lets in
    assert _pg(url, "SELECT name FROM t ORDER BY name") == _sqlite(
        source, "SELECT name FROM t ORDER BY name"
    )
    with pytest.raises(sqlite3.IntegrityError):
        _sqlite_insert(source, "b")
    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO t (name, code) VALUES ('x', 'b')")
    # the NOCASE column keeps the database's default collation and says so
    assert any("tag" in w and "NOCASE" in w for w in result.warnings)
    collations = dict(
        _pg(
            url,
            "SELECT a.attname, coalesce(c.collname, '') FROM pg_attribute a LEFT JOIN pg_collation c "
            "ON c.oid = a.attcollation WHERE a.attrelid = 't'::regclass AND a.attnum > 0",
        )
    )
    assert collations == {"id": "", "name": "C", "code": "C", "tag": "default"}


def _sqlite_insert(source: Path, code: str) -> None:
    conn = sqlite3.connect(source)
    try:
        conn.execute("INSERT INTO t (name, code) VALUES ('x', ?)", (code,))
    finally:
        conn.rollback()
        conn.close()


def test_default_collation_when_asked(source: Path, icu_server: ThrowawayServer) -> None:
    """``text_collation="default"`` leaves the columns to the database's collation: the
    views then sort as the locale does (what the option's user asked for)."""
    url = icu_server.new_database("localized")
    result = af.migrate(source, url, text_collation="default")
    assert result.success, result.errors
    differing = [n for n, (a, b) in _views(source, url).items() if a != b]
    assert set(differing) == {"late", "firsts", "extremes", "ranked", "middle"}
    assert _pg(url, "SELECT count(*) FROM t WHERE name > 'M'") == [
        (2,)
    ]  # Zebra, zebra... by locale


def test_sync_adds_text_columns_that_compare_as_sqlite(
    source: Path, icu_server: ThrowawayServer, tmp_path: Path
) -> None:
    url = icu_server.new_database("synced")
    assert af.migrate(source, url).success
    grown = tmp_path / "grown.db"
    with sqlite3.connect(source) as a, sqlite3.connect(grown) as b:
        a.backup(b)
        b.execute("ALTER TABLE t ADD COLUMN nick TEXT")
        b.execute("UPDATE t SET nick = name")
    af.sync_schema(grown, url, apply=True)
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE t SET nick = name")
    assert _pg(url, "SELECT nick FROM t WHERE nick > 'M' ORDER BY nick") == _sqlite(
        grown, "SELECT nick FROM t WHERE nick > 'M' ORDER BY nick"
    )


def test_an_unknown_collation_is_refused_before_writing(
    source: Path, icu_server: ThrowawayServer
) -> None:
    """Refused by the target check, before --drop-tables drops what is there."""
    url = icu_server.new_database("unknown")
    assert af.migrate(source, url).success
    before = _pg(url, "SELECT * FROM t ORDER BY id")
    with pytest.raises(af.BadInputError) as caught:
        af.migrate(source, url, text_collation="no_such_collation", drop_tables=True)
    assert "'no_such_collation'" in str(caught.value) and "nothing was written" in str(caught.value)
    assert _pg(url, "SELECT * FROM t ORDER BY id") == before
    assert len(_pg(url, "SELECT viewname FROM pg_views WHERE schemaname = 'public'")) == len(VIEWS)
    # a collation the database has is used as given
    assert af.migrate(source, url, text_collation="und-x-icu", drop_tables=True).success
    assert _pg(
        url,
        "SELECT collname FROM pg_attribute a JOIN pg_collation c ON c.oid = "
        "a.attcollation WHERE a.attrelid = 't'::regclass AND a.attname = 'name'",
    ) == [("und-x-icu",)]


def test_an_empty_collation_is_refused() -> None:
    with pytest.raises(af.BadInputError, match="--text-collation"):
        af.MigrationOptions(text_collation=" ")


# --- PostgreSQL -> SQLite: what SQLite cannot compute the same is named --------------------

PG_VIEWS = {
    "by_locale": "SELECT name FROM p WHERE name > 'M'",
    "by_bytes": "SELECT code FROM p WHERE code > 'M'",  # a COLLATE "C" column
    "numbers": "SELECT id FROM p WHERE id > 2 ORDER BY id",
    "firsts": "SELECT name FROM p ORDER BY name LIMIT 2",
    "folded": "SELECT lower(name) AS low FROM p",
    "plain": "SELECT name, code FROM p WHERE name = 'apple'",
}


def _pg_source(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute('CREATE TABLE p (id int PRIMARY KEY, name text, code text COLLATE "C")')
        conn.execute(
            "INSERT INTO p VALUES (1, 'apple', 'a'), (2, 'Banana', 'B'), (3, 'Éclair', 'É'), "
            "(4, '_x', '_')"
        )
        for name, sql in PG_VIEWS.items():
            conn.execute(f"CREATE VIEW {name} AS {sql}")


def test_views_that_compare_by_locale_are_named_into_sqlite(
    icu_server: ThrowawayServer, tmp_path: Path
) -> None:
    url = icu_server.new_database("pgsource")
    _pg_source(url)
    out = tmp_path / "out.db"
    result = af.migrate(url, out)
    assert result.success, result.errors
    said = {
        name: [w for w in result.warnings if f"view {name!r} may give other rows" in w]
        for name in PG_VIEWS
    }
    assert {n for n, w in said.items() if w} == {"by_locale", "firsts", "folded"}
    assert "en-US (ICU)" in said["by_locale"][0] and "byte by byte" in said["by_locale"][0]
    assert "folds only ASCII letters" in said["folded"][0]
    # what the warnings are about: those views do give other rows in SQLite, the others not
    for name in PG_VIEWS:
        in_pg = sorted(_pg(url, f"SELECT * FROM {name}"))
        in_sqlite = sorted(_sqlite(out, f"SELECT * FROM {name}"))
        assert (in_pg != in_sqlite) == bool(said[name]), name


def test_a_database_that_compares_bytes_names_only_case_folding(
    pg_url: str, tmp_path: Path
) -> None:
    """The shared test server's databases are at the C locale: no comparison is named."""
    url = pg_url
    _pg_source(url)
    result = af.migrate(url, tmp_path / "out.db")
    assert result.success, result.errors
    named = [w for w in result.warnings if "may give other rows" in w]
    assert len(named) == 1 and "'folded'" in named[0], named
