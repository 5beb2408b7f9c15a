"""Hostile and broken input (issue 15, item 4): a clear error or a correct migration, never
a traceback, in each direction it applies to.

Broken files (truncated, random bytes, a hot journal), a WAL database with its ``-wal``
beside it, empty databases and 0-row tables, a table of 2,000 columns, identifiers built to
break quoting, a target database that does not exist (``--create-db``), a login that does
not exist, and servers that refuse, cannot be named, or never answer.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.dialects import postgresql as pg
from arrowferry.dialects.facts import ColumnProfile
from arrowferry.dialects.postgresql import access
from arrowferry.dialects.postgresql import connection as pg_connection
from arrowferry.dialects.postgresql import read as pgread
from arrowferry.errors import (
    BadInputError,
    ConnectError,
    DatabaseMissingError,
    SchemaError,
    SourceError,
)
from arrowferry.urls import parse_url
from tests.conftest import fresh_database, sql, with_database
from tests.integration._cli_helpers import (
    REPO,
    assert_one_paragraph_error,
    cli,
    cli_subprocess,
    with_login,
)
from tests.integration._hostile import (
    BROKEN,
    assert_clean_failure,
    broken_file,
    expect_bad_input,
    fingerprint,
    pg_rows,
    pg_table_names,
    silent_server,
    sqlite_rows,
    sqlite_table_names,
    wal_database,
)
from tests.integration._pg_same import assert_same_database
from tests.integration._sqlite_same import assert_same_sqlite

# --- broken SQLite files, as a source and as a target ------------------------------------------


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
@pytest.mark.parametrize("kind", BROKEN)
def test_a_broken_source_file_is_one_paragraph(
    kind: str, into: str, chinook: Path, tmp_path: Path, pg_url: str
) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    source = broken_file(kind, chinook, folder / "broken.db")
    before = fingerprint(folder)
    target = pg_url if into == "postgresql" else str(tmp_path / "out.db")
    message = expect_bad_input(source, target, "broken.db", leaf=SourceError)
    if kind == "hot journal":
        assert "hot journal" in message and "broken.db-journal" in message
    assert fingerprint(folder) == before, "the broken source was modified"
    assert pg_table_names(pg_url) == set()
    assert not (tmp_path / "out.db").exists()
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["src", chinook.name]), "a partial file was left"


@pytest.mark.parametrize("source_kind", ["postgresql", "sqlite"])
@pytest.mark.parametrize("kind", ["truncated to half", "random bytes"])
def test_a_broken_target_file_is_refused_untouched(
    kind: str, source_kind: str, chinook: Path, tmp_path: Path, pg_url: str
) -> None:
    sql(pg_url, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    sql(pg_url, "INSERT INTO t VALUES (1, 'one')")
    folder = tmp_path / "dst"
    folder.mkdir()
    target = broken_file(kind, chinook, folder / "target.db")
    before = fingerprint(folder)
    source = pg_url if source_kind == "postgresql" else str(chinook)
    expect_bad_input(source, target, "target.db", "target", leaf=BadInputError)
    assert fingerprint(folder) == before


def test_the_cli_shows_no_traceback_for_a_broken_file(chinook: Path, tmp_path: Path) -> None:
    """The real process: nothing but the paragraph reaches the terminal."""
    source = broken_file("random bytes behind a SQLite header", chinook, tmp_path / "junk.db")
    outcome = cli_subprocess("migrate", str(source), str(tmp_path / "out.db"))
    assert_one_paragraph_error(outcome, "junk.db", "not a SQLite database")


# --- a WAL database with its -wal file beside it -------------------------------------------------


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
def test_rows_in_the_wal_arrive_and_the_source_is_not_touched(
    into: str, tmp_path: Path, pg_url: str
) -> None:
    source, expected = wal_database(tmp_path)
    before = fingerprint(source.parent)
    assert set(before) == {"app.db", "app.db-wal"}
    if into == "postgresql":
        result = af.migrate(source, pg_url)
        assert result.success, result.to_dict()
        arrived = {t: pg_rows(pg_url, t) for t in expected}
    else:
        out = tmp_path / "out.db"
        result = af.migrate(source, out)
        assert result.success, result.to_dict()
        arrived = {t: sqlite_rows(out, t) for t in expected}
    assert arrived == expected  # the WAL's updates, deletes, inserts and its new table
    after = fingerprint(source.parent)
    # never checkpointed, never written: the main file and the WAL are byte-identical
    # (SQLite may add the -shm index beside them, as any reader does)
    assert {k: v for k, v in after.items() if k != "app.db-shm"} == before


def test_a_wal_database_in_a_read_only_directory_is_explained(tmp_path: Path) -> None:
    """SQLite cannot read a WAL without creating its -shm index; in a directory it cannot
    write, the error says so and what to do. Run as an unprivileged user (root writes
    everywhere), in a directory that user can reach."""
    source, _ = wal_database(tmp_path)
    if os.geteuid() == 0:
        runner = shutil.which("setpriv")
        assert runner, "setpriv is needed to run the CLI as an unprivileged user"
        prefix = [runner, "--reuid=65534", "--regid=65534", "--clear-groups"]
    else:
        prefix = []
    shared = Path(tempfile.mkdtemp(prefix="af-ro-wal-"))
    try:
        folder = shared / "ro"
        folder.mkdir()
        for name in ("app.db", "app.db-wal"):
            shutil.copy(source.parent / name, folder / name)
            (folder / name).chmod(0o444)
        folder.chmod(0o555)
        shared.chmod(0o777)
        out = shared / "out.db"
        proc = subprocess.run(
            [
                *prefix,
                sys.executable,
                "-m",
                "arrowferry",
                "migrate",
                str(folder / "app.db"),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=str(REPO),
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
        err = proc.stderr.strip()
        assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
        for name in ("app.db-wal", "app.db-shm", "WAL", str(folder)):
            assert name in err, (name, err)
        assert sorted(p.name for p in folder.iterdir()) == ["app.db", "app.db-wal"]
    finally:
        for path in (shared / "ro", shared):
            if path.exists():
                path.chmod(stat.S_IRWXU)
        shutil.rmtree(shared)


# --- empty databases and 0-row tables --------------------------------------------------------------


def _empty_sqlite(path: Path, *, zero_bytes: bool) -> Path:
    if zero_bytes:
        path.write_bytes(b"")  # SQLite reads a 0-byte file as an empty database
    else:
        with closing(sqlite3.connect(path)) as conn:
            conn.execute("CREATE TABLE gone (a)")
            conn.execute("DROP TABLE gone")
    return path


def _assert_empty_run(source: str, target: str, out: Path, *said: str) -> None:
    """Every pair, one outcome: a successful run (exit 0) that creates no table and warns
    'no tables to migrate', naming the source; through the CLI and the API alike."""
    outcome = cli("migrate", source, target)
    assert outcome.exit_code == 0 and outcome.exception is None, outcome.everything
    assert "Traceback" not in outcome.everything
    warning = next(ln for ln in outcome.stdout.splitlines() if "no tables to migrate" in ln)
    assert all(name in warning for name in said), (said, warning)
    result = af.migrate(source, target)
    assert result.success and result.tables_processed == 0, result.to_dict()
    assert [w for w in result.warnings if "no tables to migrate" in w] == [warning[4:]]
    if target == str(out):  # a SQLite target is an empty database
        assert sqlite_table_names(out) == set()
    else:
        assert pg_table_names(target) == set()


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
@pytest.mark.parametrize("zero_bytes", [True, False], ids=["0-byte file", "no tables"])
def test_an_empty_sqlite_database(zero_bytes: bool, into: str, tmp_path: Path, pg_url: str) -> None:
    source = _empty_sqlite(tmp_path / "empty.db", zero_bytes=zero_bytes)
    out = tmp_path / "out.db"
    target = pg_url if into == "postgresql" else str(out)
    _assert_empty_run(str(source), target, out, "empty.db")


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
def test_an_empty_postgresql_schema(into: str, tmp_path: Path, pg_url: str, pg_server: str) -> None:
    out = tmp_path / "out.db"
    with fresh_database(pg_server) as other:
        target = other if into == "postgresql" else str(out)
        _assert_empty_run(pg_url, target, out, parse_url(pg_url).database, "schema 'public'")


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
@pytest.mark.parametrize("source_kind", ["postgresql", "sqlite"])
def test_filters_that_leave_no_table_are_refused_by_pattern(
    source_kind: str, into: str, tmp_path: Path, pg_url: str, pg_server: str
) -> None:
    """A source with tables, and --include/--exclude that leave none of them: bad input
    naming the patterns and the tables there are, in every pair, nothing written."""
    sql(pg_url, "CREATE TABLE kept (id int PRIMARY KEY)")
    path = tmp_path / "src.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY)")
    source = pg_url if source_kind == "postgresql" else str(path)
    out = tmp_path / "out.db"
    with fresh_database(pg_server) as other:
        target = other if into == "postgresql" else str(out)
        expect_bad_input(
            source,
            target,
            "--include 'k*' --exclude 'kep*' --exclude 'ke*'",
            "leave no table",
            "'kept'",
            leaf=BadInputError,
            cli_args=["--include", "k*", "--exclude", "kep*", "--exclude", "ke*"],
            include_tables=["k*"],
            exclude_tables=["kep*", "ke*"],
        )
        assert pg_table_names(other) == set()
    assert not out.exists()


ZERO_ROWS = """
CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, price NUMERIC(10,2));
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id),
                    at TIMESTAMP, flag BOOLEAN, raw BLOB, untyped);
CREATE INDEX child_parent ON child (parent_id);
CREATE TABLE no_key (a TEXT, b REAL);
CREATE VIEW v AS SELECT p.name, c.at FROM parent p JOIN child c ON c.parent_id = p.id;
"""


def test_zero_row_tables_in_every_pair(tmp_path: Path, pg_url: str, pg_server: str) -> None:
    source = tmp_path / "zero.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.executescript(ZERO_ROWS)
    copy = tmp_path / "copy.db"
    assert af.migrate(source, copy).success
    assert_same_sqlite(source, copy)

    result = af.migrate(source, pg_url)
    assert result.success and result.rows_migrated == 0, result.to_dict()
    tables = {"parent", "child", "no_key"}
    assert pg_table_names(pg_url) == tables
    assert all(pg_rows(pg_url, t) == [] for t in tables)
    keys = sql(
        pg_url,
        "SELECT conname FROM pg_constraint WHERE contype IN ('p', 'f', 'u') "
        "AND connamespace = 'public'::regnamespace",
    )
    assert len(keys) == 4, keys  # two primary keys, the unique name, the foreign key
    assert sql(pg_url, "SELECT count(*) FROM v") == [(0,)]

    back = tmp_path / "back.db"
    assert af.migrate(pg_url, back).success
    assert sqlite_table_names(back) == tables
    assert all(sqlite_rows(back, t) == [] for t in tables)
    with fresh_database(pg_server) as other:
        assert af.migrate(pg_url, other).success
        assert_same_database(pg_url, "public", other, "public")


# --- 2,000 columns ----------------------------------------------------------------------------------


def _wide(path: Path, columns: int, rows: list[dict[int, int]]) -> Path:
    """``wide`` with ``columns`` columns (``c0`` the key) and a small table beside it."""
    with closing(sqlite3.connect(path)) as conn:
        names = ", ".join(f"c{i} INTEGER" for i in range(1, columns))
        conn.execute(f"CREATE TABLE wide (c0 INTEGER PRIMARY KEY, {names})")
        for row in rows:
            cols = ", ".join(f"c{i}" for i in row)
            conn.execute(
                f"INSERT INTO wide ({cols}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
        conn.execute("CREATE TABLE small (id INTEGER PRIMARY KEY, v TEXT)")
        conn.execute("INSERT INTO small VALUES (1, 'kept')")
        conn.commit()
    return path


def test_2000_columns_into_postgresql_is_refused_by_name(tmp_path: Path, pg_url: str) -> None:
    source = _wide(tmp_path / "wide.db", 2000, [{0: 1, 1: 10, 1999: 19990}])
    message = expect_bad_input(source, pg_url, "'wide'", "2,000 columns", "1,600", leaf=SchemaError)
    assert "--exclude" in message
    assert pg_table_names(pg_url) == set(), "nothing may be written"
    # told to go on, the other tables arrive and the wide one fails alone, by name
    outcome = cli("migrate", str(source), pg_url, "--continue-on-error")
    assert_clean_failure(outcome, "wide", "1600")
    assert pg_table_names(pg_url) == {"small"}
    assert pg_rows(pg_url, "small") == [(1, "kept")]


def test_1600_columns_is_postgresqls_limit_and_arrives(tmp_path: Path, pg_url: str) -> None:
    rows = [{0: 1, 1: 7, 800: 8, 1599: 9}, {0: 2, 2: -1}]
    source = _wide(tmp_path / "wide.db", 1600, rows)
    assert af.migrate(source, pg_url).success
    expected = sqlite_rows(source, "wide")
    assert pg_rows(pg_url, "wide") == expected
    back = tmp_path / "back.db"
    assert af.migrate(pg_url, back).success
    assert sqlite_rows(back, "wide") == expected


def test_2000_columns_dry_run_says_so(tmp_path: Path, pg_url: str) -> None:
    source = _wide(tmp_path / "wide.db", 2000, [{0: 1}])
    with pytest.raises(SchemaError, match="1,600"):
        af.migrate(source, pg_url, dry_run=True)


def test_2000_columns_sqlite_to_sqlite(tmp_path: Path) -> None:
    source = _wide(tmp_path / "wide.db", 2000, [{0: 1, 1: 10, 1999: 19990}])
    out = tmp_path / "out.db"
    assert af.migrate(source, out).success
    assert sqlite_rows(out, "wide") == sqlite_rows(source, "wide")


MIXED = [
    (1, 10, "text", 2.5, b"\x00", None, "12345.678"),
    (2, -(2**63), 1.5, "x" * 40, 7, 3, "99999.99"),
    (3, None, None, None, None, 0.0, "-1234567"),
    (4, 2**62, "abc", b"blob", 1e300, "t", 5),
]


def test_a_profile_in_several_scans_is_the_profile_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wide table is profiled a run of columns at a time: the same counts, sizes and
    numeric(p,s) overflows as one scan, for the plan's profile and the SQLite copy's."""
    from arrowferry.dialects.sqlite.replica import TableProfile, read_replica
    from arrowferry.dialects.sqlite.replica_rows import profile_table

    path = tmp_path / "mixed.db"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE m (id INTEGER PRIMARY KEY, a INTEGER, b, c TEXT, d BLOB, e REAL, "
            "f NUMERIC(6,2))"
        )
        conn.executemany("INSERT INTO m VALUES (?, ?, ?, ?, ?, ?, ?)", MIXED)
        conn.commit()
    columns = ["id", "a", "b", "c", "d", "e"]
    # the module (the package's name 'profile' is its function)
    sqlite_profile = importlib.import_module("arrowferry.dialects.sqlite.profile")

    def both() -> tuple[tuple[int, dict[str, ColumnProfile]], TableProfile]:
        with closing(sqlite3.connect(path)) as conn:
            plan = sqlite_profile.profile(conn, "m", columns, {"b", "c", "e"}, {"f": (6, 2)})
            assert not conn.in_transaction
            copy = profile_table(conn, read_replica(conn, ["m"]).tables[0])
        return plan, copy

    one = both()
    monkeypatch.setattr(sqlite_profile, "COLUMNS_PER_SCAN", 2)
    assert both() == one
    rows, found = one[0]
    assert rows == 4 and found["f"].over_limit == 3 and found["b"].texts == 2


# --- identifiers built to break quoting ------------------------------------------------------------

# Each is a table name and a column name at once: quotes of both kinds, statement ends,
# comments, placeholders of every driver style, reserved words, spaces, Unicode, and rich
# markup (the CLI's summary is printed with rich)
NASTY = [
    'x"; DROP TABLE victim; --',
    "it's'); DELETE FROM victim; --",
    "select",
    "Ünïcødé 表 名 🚀",
    " spaced  out ",
    "semi;colon",
    '"',
    "a.b",
    "$1 ? %s %(x)s :name",
    "back\\slash",
    "[bold red]x[/]",
    "Order",
]
VALUES = ["'); DROP TABLE victim; --", 'say "hi"', "ünï 😀", None]


def _nasty_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for n, name in enumerate(NASTY):
            other = NASTY[(n + 1) % len(NASTY)]
            conn.execute(
                f"CREATE TABLE {_q(name)} (id INTEGER PRIMARY KEY, {_q(other)} TEXT, "
                f"{_q(name + ' ref')} INTEGER REFERENCES {_q(NASTY[0])}(id))"
            )
            conn.execute(f"CREATE INDEX {_q('ix ' + name)} ON {_q(name)} ({_q(other)})")
            conn.executemany(
                f"INSERT INTO {_q(name)} VALUES (?, ?, ?)",
                [(i, v, 1 if i else None) for i, v in enumerate(VALUES)],
            )
        conn.commit()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _victim_pg(url: str) -> None:
    sql(url, "CREATE TABLE victim (v text)")
    sql(url, "INSERT INTO victim VALUES ('still here')")


def _victim_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE victim (v TEXT)")
        conn.execute("INSERT INTO victim VALUES ('still here')")
        conn.commit()


def test_nasty_identifiers_sqlite_to_postgresql_and_back(
    tmp_path: Path, pg_url: str, pg_server: str
) -> None:
    source = tmp_path / "nasty.db"
    _nasty_sqlite(source)
    _victim_pg(pg_url)
    outcome = cli("migrate", str(source), pg_url)  # through the CLI: its summary prints them
    assert outcome.exit_code == 0 and outcome.exception is None, outcome.everything
    assert pg_table_names(pg_url) == {*NASTY, "victim"}
    assert pg_rows(pg_url, "victim") == [("still here",)]
    for name in NASTY:
        assert pg_rows(pg_url, name) == sqlite_rows(source, name), name
    fks = sql(pg_url, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'")
    assert fks == [(len(NASTY),)]

    back = tmp_path / "back.db"
    _victim_sqlite(back)
    assert af.migrate(pg_url, back, exclude=["victim"]).success
    assert sqlite_table_names(back) == {*NASTY, "victim"}
    assert sqlite_rows(back, "victim") == [("still here",)]
    for name in NASTY:
        assert sqlite_rows(back, name) == sqlite_rows(source, name), name

    with fresh_database(pg_server) as other:
        _victim_pg(other)
        assert af.migrate(pg_url, other, exclude=["victim"]).success
        assert pg_rows(other, "victim") == [("still here",)]
        assert_same_database(pg_url, "public", other, "public")


def test_nasty_identifiers_sqlite_to_sqlite(tmp_path: Path) -> None:
    source = tmp_path / "nasty.db"
    _nasty_sqlite(source)
    copy = tmp_path / "copy.db"
    assert af.migrate(source, copy).success
    assert_same_sqlite(source, copy)


def test_an_empty_name_is_refused_by_name_for_postgresql(tmp_path: Path, pg_url: str) -> None:
    """SQLite takes ``""`` as a table or column name; PostgreSQL has no such name."""
    source = tmp_path / "empty_names.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute('CREATE TABLE "" ("" INTEGER, b TEXT)')
        conn.execute("INSERT INTO \"\" VALUES (1, 'a')")
        conn.execute('CREATE TABLE t ("" INTEGER)')
        conn.commit()
    expect_bad_input(source, pg_url, "table ''", "empty", leaf=SchemaError)
    assert pg_table_names(pg_url) == set()
    copy = tmp_path / "copy.db"
    assert af.migrate(source, copy).success  # SQLite -> SQLite keeps them
    assert_same_sqlite(source, copy)


# --- a target database that does not exist ---------------------------------------------------------


@pytest.fixture
def missing_database(pg_server: str) -> Iterator[str]:
    """A URL naming a database that does not exist, with a name built to break quoting;
    dropped afterwards if a test created it."""
    name = f'af new "db"; DROP DATABASE postgres; -- {uuid.uuid4().hex[:6]}'
    yield with_database(pg_server, name)
    sql(pg_server, f'DROP DATABASE IF EXISTS "{name.replace(chr(34), chr(34) * 2)}" WITH (FORCE)')


def test_a_missing_target_database_suggests_create_db(chinook: Path, missing_database: str) -> None:
    message = expect_bad_input(
        chinook, missing_database, "does not exist", "--create-db", leaf=DatabaseMissingError
    )
    assert "af new" in message


def test_create_db_creates_the_database_with_its_exact_name(
    chinook: Path, missing_database: str, pg_server: str
) -> None:
    name = missing_database
    dry = af.migrate(chinook, missing_database, create_db=True, dry_run=True)
    assert dry.success and any("--create-db" in w for w in dry.warnings), dry.warnings
    exists = "SELECT count(*) FROM pg_database WHERE datname LIKE 'af new %'"
    assert sql(pg_server, exists) == [(0,)], "a dry run created the database"
    outcome = cli("migrate", str(chinook), name, "--create-db")
    assert outcome.exit_code == 0, outcome.everything
    assert sql(pg_server, exists) == [(1,)]
    assert sql(pg_server, "SELECT count(*) FROM pg_database WHERE datname = 'postgres'") == [(1,)]
    assert pg_rows(missing_database, "Album") == sqlite_rows(chinook, "Album")
    # a second run with --create-db into the now existing database: refused for its tables
    again = cli("migrate", str(chinook), name, "--create-db")
    assert_one_paragraph_error(again, "already exist", "--drop-tables")


def test_a_missing_source_database_is_not_offered_create_db(
    tmp_path: Path, missing_database: str
) -> None:
    message = expect_bad_input(
        missing_database, tmp_path / "out.db", "does not exist", leaf=DatabaseMissingError
    )
    assert "--create-db" not in message


# --- logins and servers that do not answer ----------------------------------------------------------


@pytest.mark.parametrize("direction", ["into", "from"])
def test_a_login_that_does_not_exist(
    direction: str, chinook: Path, pg_url: str, tmp_path: Path
) -> None:
    nobody = with_login(pg_url, f"af_no_such_role_{uuid.uuid4().hex[:6]}", None)
    if direction == "into":
        expect_bad_input(chinook, nobody, "af_no_such_role", "does not exist", leaf=ConnectError)
    else:
        expect_bad_input(nobody, tmp_path / "out.db", "af_no_such_role", leaf=ConnectError)
        assert list(tmp_path.iterdir()) == [tmp_path / chinook.name]


@pytest.mark.parametrize("direction", ["into", "from"])
@pytest.mark.parametrize(
    ("where", "names"),
    [
        ("127.0.0.1:1", ("127.0.0.1", "refused")),
        ("no-such-host.invalid", ("no-such-host.invalid",)),
    ],
)
def test_a_server_that_cannot_be_reached(
    where: str, names: tuple[str, ...], direction: str, chinook: Path, tmp_path: Path
) -> None:
    url = f"postgresql://u:pw@{where}/db"
    if direction == "into":
        expect_bad_input(chinook, url, *names, leaf=ConnectError)
    else:
        expect_bad_input(url, tmp_path / "out.db", *names, leaf=ConnectError)


@pytest.mark.parametrize("direction", ["into", "from"])
def test_a_server_that_never_answers_is_given_up_on(
    direction: str, chinook: Path, tmp_path: Path
) -> None:
    with silent_server() as port:
        url = f"postgresql://u:pw@127.0.0.1:{port}/db?connect_timeout=2"
        start = time.monotonic()
        if direction == "into":
            expect_bad_input(chinook, url, "timeout", "connect_timeout=2", leaf=ConnectError)
        else:
            expect_bad_input(url, tmp_path / "out.db", "timeout", leaf=ConnectError)
        assert time.monotonic() - start < 2 * 2 + 8  # two runs (CLI and API) of ~2 s each


def test_the_default_wait_is_bounded(chinook: Path) -> None:
    """No connect_timeout in the URL: a hung server is given up on after the default."""
    assert 2 <= pg_connection.DEFAULT_CONNECT_TIMEOUT <= 10
    env = {k: v for k, v in os.environ.items() if k != "PGCONNECT_TIMEOUT"}
    with silent_server() as port:
        start = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "arrowferry",
                "migrate",
                str(chinook),
                f"postgresql://u:pw@127.0.0.1:{port}/db",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=str(REPO),
        )
        waited = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert "timeout expired" in proc.stderr and "Traceback" not in proc.stderr
    assert (
        pg_connection.DEFAULT_CONNECT_TIMEOUT - 1
        <= waited
        <= pg_connection.DEFAULT_CONNECT_TIMEOUT + 15
    )


# rich markup, an emoji code, and the trailing backslash rich's own escape() doubles
MARKUP = ["[/nope]", "[bold]x[/]", "ends with \\", "a :smile: b"]


def _markup_sqlite(path: Path) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        for n, name in enumerate(MARKUP):
            conn.execute(f"CREATE TABLE {_q(name)} ({_q(MARKUP[n - 1])} INTEGER)")
            conn.execute(f"INSERT INTO {_q(name)} VALUES (1)")
        conn.commit()
    return path


@pytest.mark.parametrize("dry_run", [False, True], ids=["summary", "dry run"])
def test_names_that_look_like_markup_are_printed_as_they_are(dry_run: bool, tmp_path: Path) -> None:
    source = _markup_sqlite(tmp_path / "markup.db")
    outcome = cli("migrate", str(source), str(tmp_path / "out.db"), *(["--dry-run"] * dry_run))
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 0, outcome.everything
    lines = outcome.stdout.splitlines()
    for n, name in enumerate(MARKUP):
        if dry_run:  # the table, then its one column
            at = lines.index(f"{name} -> main.{name}: 1 row")
            assert lines[at + 1].startswith(f"  {MARKUP[n - 1]}: INTEGER -> INTEGER  ("), lines
        else:  # its row of the summary's table
            assert any(line.startswith(f"│ {name} ") for line in lines), (name, lines)


def test_the_progress_bar_shows_names_as_they_are(tmp_path: Path) -> None:
    """The board draws each table's name from the run's own events, as it is: never read
    as rich markup ('[/x]' would be a closing tag) nor as an emoji code."""
    from io import StringIO

    from rich.console import Console

    from arrowferry.progress_display import Board

    source = _markup_sqlite(tmp_path / "markup.db")
    events: list[af.MigrationProgress] = []
    result = af.migrate(source, tmp_path / "out.db", on_progress=events.append)
    assert result.success, result.to_dict()
    board = Board()
    started = [e for e in events if e.table is not None and e.status == "started"]
    assert sorted({e.table for e in started}) == sorted(MARKUP)
    for event in started:  # each table as the board shows it once it starts loading
        board.update(event)
    console = Console(file=StringIO(), width=200, emoji=False, record=True)
    console.print(board)
    lines = console.export_text().splitlines()
    for name in MARKUP:  # each table's name, then its row count
        assert any(line.startswith(f"{name} ") and "rows" in line for line in lines), (name, lines)


def test_a_failed_table_named_like_markup_is_named_as_it_is(tmp_path: Path, pg_url: str) -> None:
    name = "[/wide] :smile: \\"
    source = tmp_path / "wide.db"
    with closing(sqlite3.connect(source)) as conn:
        columns = ", ".join(f"c{i} INTEGER" for i in range(1601))  # past PostgreSQL's 1,600
        conn.execute(f"CREATE TABLE {_q(name)} ({columns})")
        conn.execute("CREATE TABLE small (id INTEGER PRIMARY KEY)")
        conn.commit()
    outcome = cli("migrate", str(source), pg_url, "--continue-on-error")
    assert_clean_failure(outcome, f"error in table {name!r}: ")
    assert pg_table_names(pg_url) == {"small"}


GRANTS = """
CREATE TABLE open_to_all (id int PRIMARY KEY, v text);
INSERT INTO open_to_all VALUES (1, 'one'), (2, 'two');
CREATE TABLE forbidden (id int PRIMARY KEY);
CREATE TABLE some_columns (id int PRIMARY KEY, secret text);
CREATE TABLE counted (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
INSERT INTO counted (v) VALUES ('a'), ('b'), ('c');
DELETE FROM counted WHERE id = 3;
GRANT SELECT ON open_to_all, counted TO "{role}";
GRANT SELECT (id) ON some_columns TO "{role}";
"""


@pytest.fixture
def reader(pg_url: str, pg_server: str) -> Iterator[str]:
    """A login that may read open_to_all and counted (not its counter's sequence), only
    the id of some_columns, and nothing of forbidden."""
    role = f"af_reader_{uuid.uuid4().hex[:8]}"
    sql(pg_server, f'CREATE ROLE "{role}" LOGIN')
    try:
        for statement in GRANTS.format(role=role).split(";"):
            if statement.strip():
                sql(pg_url, statement)
        yield with_login(pg_url, role, None)
    finally:
        sql(pg_url, f'DROP OWNED BY "{role}"')
        sql(pg_server, f'DROP ROLE "{role}"')


REFUSED = {
    "forbidden": "cannot read table 'forbidden': permission denied for table forbidden",
    "some_columns": "cannot read table 'some_columns': permission denied for table some_columns",
}


def test_a_table_the_login_may_not_read_is_that_tables_error(reader: str, tmp_path: Path) -> None:
    """Found at plan time (a column the login may not read too): each refused table fails
    by name in the server's words, nothing is written, and the others go on when told to."""
    out = tmp_path / "out.db"
    outcome = cli("migrate", reader, str(out))
    assert_clean_failure(outcome, *REFUSED.values(), "2 tables not attempted")
    assert not out.exists()
    result = af.migrate(reader, out)
    assert {e.table: e.message for e in result.errors} == REFUSED
    assert sorted(result.not_attempted) == ["counted", "open_to_all"]
    assert not out.exists()

    result = af.migrate(reader, out, continue_on_error=True)
    assert {e.table: e.message for e in result.errors} == REFUSED
    assert sqlite_table_names(out) == {"open_to_all", "counted"}
    assert sqlite_rows(out, "open_to_all") == [(1, "one"), (2, "two")]
    assert sqlite_rows(out, "counted") == [(1, "a"), (2, "b")]
    # the counter's sequence is refused too: said, and the copy's counter follows the keys
    said = [w for w in result.warnings if "cannot read the counter" in w]
    assert len(said) == 1 and "permission denied for sequence" in said[0], result.warnings
    assert "'counted'" in said[0]


def test_a_refused_read_keeps_its_sqlstate_and_the_snapshot(reader: str) -> None:
    endpoint = parse_url(reader)
    conn = pgread.connect_snapshot(endpoint)
    try:
        tables = pg.introspect(conn, "public").tables
        refused = access.unreadable_tables(conn, "public", tables, set())
        assert {name: (str(e), e.sqlstate) for name, e in refused.items()} == {
            name: (message, "42501") for name, message in REFUSED.items()
        }
        assert pgread.measure(conn, "public", "open_to_all", []) == (2, {})  # not aborted
        with pytest.raises(SourceError) as info:
            pgread.measure(conn, "public", "forbidden", [])
        assert (str(info.value), info.value.sqlstate) == (REFUSED["forbidden"], "42501")
    finally:
        pgread.end_snapshot(conn)


def test_a_table_the_login_may_not_read_stops_a_postgresql_copy(
    reader: str, pg_server: str
) -> None:
    """PostgreSQL -> PostgreSQL measures its tables apart from the planner (read_native):
    the refused table stops the run, in one paragraph, before anything is written."""
    with fresh_database(pg_server) as other:
        expect_bad_input(reader, other, REFUSED["forbidden"], leaf=SourceError)
        assert pg_table_names(other) == set()
