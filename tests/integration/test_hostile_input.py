"""Hostile and broken input (issue 15, item 4): a clear error or a correct migration, never
a traceback, in each direction it applies to.

Broken files (truncated, random bytes, a hot journal), a WAL database with its ``-wal``
beside it, empty databases and 0-row tables, a table of 2,000 columns, identifiers built to
break quoting, a target database that does not exist (``--create-db``), a login that does
not exist, and servers that refuse, cannot be named, or never answer.
"""

from __future__ import annotations

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
from arrowferry.dialects.postgresql import connection as pg_connection
from arrowferry.errors import (
    BadInputError,
    ConnectError,
    DatabaseMissingError,
    SchemaError,
    SourceError,
)
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


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
@pytest.mark.parametrize("zero_bytes", [True, False], ids=["0-byte file", "no tables"])
def test_an_empty_sqlite_database(zero_bytes: bool, into: str, tmp_path: Path, pg_url: str) -> None:
    """Either a clear error that says there is nothing to migrate, writing nothing, or a
    successful run that leaves an empty target: never a traceback or a half-made target."""
    source = _empty_sqlite(tmp_path / "empty.db", zero_bytes=zero_bytes)
    out = tmp_path / "out.db"
    target = pg_url if into == "postgresql" else str(out)
    outcome = cli("migrate", str(source), target)
    if outcome.exit_code == 2:
        assert_one_paragraph_error(outcome, "empty.db", "no tables")
        assert not out.exists()
    else:
        assert outcome.exit_code == 0, outcome.everything
        assert outcome.exception is None and "Traceback" not in outcome.everything
        assert into == "postgresql" or sqlite_table_names(out) == set()
    assert pg_table_names(pg_url) == set()


@pytest.mark.parametrize("into", ["postgresql", "sqlite"])
def test_an_empty_postgresql_schema(into: str, tmp_path: Path, pg_url: str, pg_server: str) -> None:
    out = tmp_path / "out.db"
    with fresh_database(pg_server) as other:
        target = other if into == "postgresql" else str(out)
        outcome = cli("migrate", pg_url, target)
        if outcome.exit_code == 2:
            assert_one_paragraph_error(outcome, "no tables")
            assert not out.exists()
        else:
            assert outcome.exit_code == 0, outcome.everything
            assert outcome.exception is None and "Traceback" not in outcome.everything
        assert into == "sqlite" or pg_table_names(other) == set()


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


@pytest.mark.xfail(
    strict=True,
    reason="dialects/sqlite/profile.py profile() scans a table in one SELECT of 2-5 aggregates "
    "per column; SQLite caps a result row at 2000 columns, so a dry run of a table wider than "
    "~999 columns fails with the whole 300 KB statement in its message (not this helper's file)",
)
def test_2000_columns_dry_run_says_so(tmp_path: Path, pg_url: str) -> None:
    source = _wide(tmp_path / "wide.db", 2000, [{0: 1}])
    with pytest.raises(SchemaError, match="1,600"):
        af.migrate(source, pg_url, dry_run=True)


@pytest.mark.xfail(
    strict=True,
    reason="dialects/sqlite/replica_rows.py profile_table() reads two aggregates per INTEGER "
    "column in one SELECT (past SQLite's 2000 result columns from ~1000 columns on); a table "
    "SQLite itself holds cannot be copied SQLite -> SQLite (not this helper's file)",
)
def test_2000_columns_sqlite_to_sqlite(tmp_path: Path) -> None:
    source = _wide(tmp_path / "wide.db", 2000, [{0: 1, 1: 10, 1999: 19990}])
    out = tmp_path / "out.db"
    assert af.migrate(source, out).success
    assert sqlite_rows(out, "wide") == sqlite_rows(source, "wide")


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
        # table by table: _pg_same's psycopg queries take a '%s' in a name for a placeholder
        assert pg_table_names(other) == {*NASTY, "victim"}
        for name in NASTY:
            assert pg_rows(other, name) == sqlite_rows(source, name), name
        assert sql(other, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == [
            (len(NASTY),)
        ]
        indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
        assert sql(other, indexes) == sql(pg_url, indexes)


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


@pytest.mark.xfail(
    strict=True,
    reason="cli_report.py prints table and column names as rich markup: '[/nope]' raises "
    "MarkupError after the data is written (a traceback, exit 1), '[bold]x[/]' shows as 'x'; "
    "names need rich.markup.escape() in print_plan, print_summary's rows and progress.py's "
    "task description (not this helper's files)",
)
@pytest.mark.parametrize("dry_run", [False, True], ids=["summary", "dry run"])
def test_names_that_look_like_markup_are_printed_as_they_are(dry_run: bool, tmp_path: Path) -> None:
    source = tmp_path / "markup.db"
    with closing(sqlite3.connect(source)) as conn:
        conn.execute('CREATE TABLE "[/nope]" ("[bold]x[/]" INTEGER)')
        conn.execute('INSERT INTO "[/nope]" VALUES (1)')
        conn.commit()
    outcome = cli("migrate", str(source), str(tmp_path / "out.db"), *(["--dry-run"] * dry_run))
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 0, outcome.everything
    assert "[/nope]" in outcome.stdout
    assert not dry_run or "[bold]x[/]" in outcome.stdout


@pytest.mark.xfail(
    strict=True,
    reason="dialects/postgresql/read.py measure() (via source_facts, at plan time) lets the "
    "driver's ProgrammingError 'permission denied for table' escape: a traceback, exit 1. "
    "It needs the same wrapping as the other driver calls (a BadInputError naming the table "
    "and the server's words, SQLSTATE 42501 kept); not this helper's file",
)
def test_a_table_the_login_may_not_read(pg_url: str, pg_server: str, tmp_path: Path) -> None:
    role = f"af_reader_{uuid.uuid4().hex[:8]}"
    sql(pg_server, f'CREATE ROLE "{role}" LOGIN')
    try:
        sql(pg_url, "CREATE TABLE open_to_all (id int PRIMARY KEY)")
        sql(pg_url, "CREATE TABLE forbidden (id int PRIMARY KEY)")
        sql(pg_url, f'GRANT SELECT ON open_to_all TO "{role}"')
        reader = with_login(pg_url, role, None)
        expect_bad_input(
            reader, tmp_path / "out.db", "forbidden", "permission denied", leaf=BadInputError
        )
        assert not (tmp_path / "out.db").exists()
    finally:
        sql(pg_url, f'DROP OWNED BY "{role}"')
        sql(pg_server, f'DROP ROLE "{role}"')
