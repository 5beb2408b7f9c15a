"""The command line (issue 2, items 2, 4, 10 and the Tests section).

Commands are enumerated from the click group itself, so a command added later without
a help text or without a README entry makes these tests fail.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import click
import pytest

from arrowferry import embedded
from arrowferry.cli import main
from tests.conftest import pg_tables, sql
from tests.integration._cli_helpers import (
    CHINOOK_TABLES,
    REPO,
    can_connect,
    cli,
    cli_subprocess,
    with_database,
)


def all_commands(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command and subcommand, depth first: (path, command)."""
    ctx = click.Context(group)
    out: list[tuple[tuple[str, ...], click.Command]] = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        path = (*prefix, name)
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, path))
    return out


COMMANDS = all_commands()
COMMAND_IDS = [" ".join(path) for path, _ in COMMANDS]


def test_the_command_tree_is_what_the_issue_asks_for() -> None:
    names = set(COMMAND_IDS)
    assert {
        "migrate",
        "inspect",
        "map-type",
        "embedded",
        "embedded url",
        "embedded stop",
        "embedded status",
    } <= names


@pytest.mark.parametrize("path", [()] + [p for p, _ in COMMANDS], ids=["arrowferry", *COMMAND_IDS])
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    cmd: click.Command = main
    for part in path:
        assert isinstance(cmd, click.Group)
        sub = cmd.get_command(click.Context(cmd), part)
        assert sub is not None
        cmd = sub
    assert (cmd.help or "").strip(), f"'arrowferry {' '.join(path)}' has no help text"
    for flag in ("--help", "-h"):
        outcome = cli(*path, flag)
        assert outcome.exception is None, outcome.exception
        assert outcome.exit_code == 0, outcome.stderr
        assert "Usage:" in outcome.stdout
        first_line = cmd.help.strip().splitlines()[0]  # type: ignore[union-attr]
        assert " ".join(first_line.split()[:4]) in " ".join(outcome.stdout.split())
    for param in cmd.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), (
                f"option {param.opts} of 'arrowferry {' '.join(path)}' has no help"
            )
    if isinstance(cmd, click.Group):
        listing = cli(*path, "--help").stdout
        for name in cmd.list_commands(click.Context(cmd)):
            assert name in listing


def test_every_command_is_in_the_readme() -> None:
    readme = REPO / "README.md"
    assert readme.is_file(), "README.md does not exist (issue 2, item 2 asks for it)"
    text = readme.read_text(encoding="utf-8")
    missing = [f"arrowferry {name}" for name in COMMAND_IDS if f"arrowferry {name}" not in text]
    assert not missing, f"commands not shown in README.md: {missing}"


def test_python_dash_m_help() -> None:
    outcome = cli_subprocess("--help")
    assert outcome.exit_code == 0, outcome.stderr
    assert "Usage:" in outcome.stdout
    for path, _ in COMMANDS:
        if len(path) == 1:
            assert path[0] in outcome.stdout
    assert "Traceback" not in outcome.stderr


def test_version() -> None:
    import arrowferry

    outcome = cli("--version")
    assert outcome.exit_code == 0
    assert arrowferry.__version__ in outcome.stdout


# --- migrate --json ----------------------------------------------------------------------


def test_migrate_json_is_one_object(chinook: Path, pg_url: str) -> None:
    outcome = cli_subprocess("migrate", str(chinook), pg_url, "--json")
    assert outcome.exit_code == 0, outcome.stderr
    assert "Traceback" not in outcome.stderr
    data = outcome.json()
    required = {
        "success",
        "duration",
        "tables_processed",
        "rows_migrated",
        "errors",
        "warnings",
        "summary",
        "tables",
    }
    assert required <= set(data), f"missing keys: {required - set(data)}"
    assert data["success"] is True
    assert isinstance(data["duration"], (int, float)) and data["duration"] > 0
    assert data["tables_processed"] == 11
    assert data["rows_migrated"] == 15607
    assert data["errors"] == []
    assert isinstance(data["warnings"], list)
    summary = data["summary"]
    assert summary["tables_created"] == 11
    for key in ("indexes_created", "constraints_applied"):
        assert isinstance(summary[key], int) and summary[key] > 0
    assert len(data["tables"]) == 11
    for table in data["tables"]:
        assert {"name", "rows", "seconds", "rows_per_second"} <= set(table), table
        assert table["rows_read"] == table["rows"] + table["rows_rejected"], table
        assert isinstance(table["rows"], int) and table["rows"] >= 0
        assert isinstance(table["seconds"], (int, float)) and table["seconds"] >= 0
        assert isinstance(table["rows_per_second"], (int, float)) and table["rows_per_second"] >= 0
    by_name = {t["name"]: t["rows"] for t in data["tables"]}
    assert sorted(by_name) == CHINOOK_TABLES
    assert sum(by_name.values()) == data["rows_migrated"]
    for name, rows in by_name.items():
        assert sql(pg_url, f'SELECT count(*) FROM "{name}"') == [(rows,)], name
    assert by_name["Track"] == 3503


def test_migrate_plain_output_and_exit_code(chinook: Path, pg_url: str) -> None:
    outcome = cli("migrate", str(chinook), pg_url)
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == 0, outcome.stderr
    for name in CHINOOK_TABLES:
        assert name in outcome.stdout
    assert "15,607 rows" in outcome.stdout
    assert sorted(pg_tables(pg_url)) == sorted(CHINOOK_TABLES)


def test_migrate_postgresql_to_sqlite(chinook: Path, pg_url: str, tmp_path: Path) -> None:
    """Both directions from the command line: Chinook into PostgreSQL and back to a file."""
    assert cli("migrate", str(chinook), pg_url, "--quiet").exit_code == 0
    out = tmp_path / "back.db"
    outcome = cli("migrate", pg_url, str(out), "--json")
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == 0, outcome.stderr
    data = outcome.json()
    assert data["success"] and data["rows_migrated"] == 15_607
    assert data["target"] == str(out)
    conn = sqlite3.connect(out)
    assert conn.execute('SELECT count(*) FROM "Track"').fetchone() == (3503,)
    conn.close()
    again = cli("migrate", pg_url, str(out))  # the file is there now: refused, exit 2
    assert again.exit_code == 2 and "--drop-tables" in again.stderr
    replaced = cli("migrate", pg_url, str(out), "--drop-tables", "--include", "Genre")
    assert replaced.exit_code == 0 and "25 rows" in replaced.stdout, replaced.stderr


# --- the embedded PostgreSQL ------------------------------------------------------------


@pytest.fixture(scope="module")
def embedded_running(arrowferry_home: Path, pg_server: str) -> Iterator[str]:
    """The session's embedded server (in the session ARROWFERRY_HOME), started if needed."""
    was_running = embedded.is_running()
    url = embedded.server_url("postgres")
    yield url
    if not was_running:
        embedded.stop()


def test_migrate_without_target_uses_embedded(
    tmp_path: Path, chinook: Path, embedded_running: str
) -> None:
    name = f"cli_{uuid.uuid4().hex[:10]}"
    source = tmp_path / f"{name}.sqlite"
    source.write_bytes(chinook.read_bytes())
    try:
        outcome = cli("migrate", str(source))
        assert outcome.exception is None, outcome.exception
        assert outcome.exit_code == 0, outcome.stderr
        # the database is named after the file and holds the tables
        direct = with_database(embedded_running, name)
        assert sorted(pg_tables(direct)) == sorted(CHINOOK_TABLES)
        assert sql(direct, 'SELECT count(*) FROM "Track"') == [(3503,)]

        # the printed URL is whole (one line) and connects to that database
        lines = outcome.stdout.splitlines()
        target_lines = [ln for ln in lines if ln.startswith("target:")]
        assert len(target_lines) == 1, outcome.stdout
        url = target_lines[0].removeprefix("target:").strip()
        assert url.startswith("postgresql://"), (
            f"the target URL is not on the 'target:' line (wrapped?): {outcome.stdout[-600:]!r}"
        )
        assert name in url
        assert can_connect(url), f"printed URL does not connect: {url!r}"
        assert sorted(pg_tables(url)) == sorted(CHINOOK_TABLES)
        # and a ready psql command for the same URL
        psql_lines = [ln for ln in lines if ln.startswith("psql:")]
        assert len(psql_lines) == 1, outcome.stdout
        match = re.fullmatch(r"psql:\s+psql '([^']+)'", psql_lines[0].strip())
        assert match, f"psql command is not whole on its line: {outcome.stdout[-600:]!r}"
        assert match.group(1) == url
    finally:
        sql(embedded_running, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_incremental_and_data_only_runs_into_the_embedded_default(
    tmp_path: Path, chinook: Path, embedded_running: str
) -> None:
    """The README's first command, then the same with --incremental (and a --data-only
    run): the embedded database the first made is the target, and the plan follows its
    tables. Before, such a run planned as if the database were empty, so every table was
    'left as it is: it has no primary key to match rows on'."""
    name = f"cli_{uuid.uuid4().hex[:10]}"
    source = tmp_path / f"{name}.sqlite"
    source.write_bytes(chinook.read_bytes())
    direct = with_database(embedded_running, name)
    try:
        assert cli("migrate", str(source)).exit_code == 0
        with closing(sqlite3.connect(source)) as conn, conn:
            conn.execute("INSERT INTO Artist (Name) VALUES ('A new artist')")
            conn.execute("UPDATE Genre SET Name = 'Rock!' WHERE GenreId = 1")
        outcome = cli("migrate", str(source), "--incremental", "--json")
        assert outcome.exit_code == 0, outcome.stdout[-2000:]
        moved = json.loads(outcome.stdout)["incremental"]
        assert moved["Artist"]["how"] == "key" and moved["Artist"]["inserted"] == 1
        assert moved["PlaylistTrack"]["how"] == "skipped"  # a composite key: said why
        assert sql(direct, """SELECT "Name" FROM "Artist" WHERE "ArtistId" = 276""") == [
            ("A new artist",)
        ]
        sql(direct, 'TRUNCATE "Genre" CASCADE')
        again = cli("migrate", str(source), "--data-only", "--include", "Genre")
        assert again.exit_code == 0, again.stdout[-2000:]
        assert sql(direct, 'SELECT count(*) FROM "Genre"') == [(25,)]
    finally:
        sql(embedded_running, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_embedded_url_connects(embedded_running: str) -> None:
    outcome = cli("embedded", "url")
    assert outcome.exit_code == 0, outcome.stderr
    url = outcome.stdout.strip()
    assert "\n" not in url and url.startswith("postgresql://")
    assert sql(url, "SELECT current_database()") == [("postgres",)]

    name = f"emb_{uuid.uuid4().hex[:10]}"
    sql(embedded_running, f'CREATE DATABASE "{name}"')
    try:
        other = cli("embedded", "url", "--database", name).stdout.strip()
        assert sql(other, "SELECT current_database()") == [(name,)]
    finally:
        sql(embedded_running, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_embedded_status_running(embedded_running: str, arrowferry_home: Path) -> None:
    outcome = cli("embedded", "status")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.startswith("running"), outcome.stdout
    assert str(embedded.data_dir()) in outcome.stdout
    assert str(arrowferry_home.resolve()) in outcome.stdout


def test_embedded_lifecycle_in_its_own_home(tmp_path: Path) -> None:
    """url starts a server in a fresh ARROWFERRY_HOME; stop stops it; status follows."""
    env = {"ARROWFERRY_HOME": str(tmp_path / "own_home")}
    try:
        before = cli_subprocess("embedded", "status", env=env)
        assert before.exit_code == 0, before.stderr
        assert before.stdout.startswith("stopped"), before.stdout

        started = cli_subprocess("embedded", "url", env=env)
        assert started.exit_code == 0, started.stderr
        url = started.stdout.strip()
        assert str(tmp_path / "own_home") in url
        assert sql(url, "SELECT 1") == [(1,)]

        running = cli_subprocess("embedded", "status", env=env)
        assert running.stdout.startswith("running"), running.stdout
        assert str(tmp_path / "own_home" / "pgdata") in running.stdout

        stopped = cli_subprocess("embedded", "stop", env=env)
        assert stopped.exit_code == 0, stopped.stderr
        assert "Traceback" not in stopped.stderr
        assert "stopped" in stopped.stderr.splitlines(), stopped.stderr

        after = cli_subprocess("embedded", "status", env=env)
        assert after.stdout.startswith("stopped"), after.stdout
        assert not can_connect(url)

        again = cli_subprocess("embedded", "stop", env=env)
        assert again.exit_code == 0, again.stderr
        assert "not running" in again.stderr

        # stderr of these commands is for the user: nothing but arrowferry's own words
        for outcome in (before, started, running, stopped, after, again):
            assert "Warning" not in outcome.stderr, f"noise on stderr: {outcome.stderr!r}"
    finally:
        # never leave a server behind, whatever failed above
        if "running" in cli_subprocess("embedded", "status", env=env).stdout.split(" ")[0]:
            cli_subprocess("embedded", "stop", env=env)


# --- inspect and map-type ---------------------------------------------------------------


def test_inspect_lists_chinook_tables(chinook: Path) -> None:
    outcome = cli("inspect", str(chinook))
    assert outcome.exit_code == 0, outcome.stderr
    listed = [ln.split(" ", 1)[1] for ln in outcome.stdout.splitlines() if ln.startswith("table ")]
    assert listed == CHINOOK_TABLES
    assert "primary key (TrackId)" in outcome.stdout
    assert "foreign key (AlbumId) -> Album (AlbumId)" in outcome.stdout


def test_inspect_json_and_postgresql(chinook: Path, pg_url: str) -> None:
    import json

    outcome = cli("inspect", str(chinook), "--json")
    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)
    assert [t["name"] for t in data["tables"]] == CHINOOK_TABLES

    assert cli("migrate", str(chinook), pg_url, "--quiet").exit_code == 0
    on_pg = cli("inspect", pg_url)
    assert on_pg.exit_code == 0, on_pg.stderr
    listed = [ln.split(" ", 1)[1] for ln in on_pg.stdout.splitlines() if ln.startswith("table ")]
    assert sorted(listed) == CHINOOK_TABLES
    # the text columns a migration makes compare bytes, as SQLite's did: the listing says so
    assert "  Name: character varying(120) (text(120)) collate C" in on_pg.stdout


def test_inspect_missing_file_is_bad_input(tmp_path: Path) -> None:
    outcome = cli("inspect", str(tmp_path / "nope.sqlite"))
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: ") and "nope.sqlite" in outcome.stderr


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("NVARCHAR(40)", "varchar(40)"),
        ("INTEGER", "bigint"),
        ("integer auto_increment", "bigint"),
        ("BLOB", "bytea"),
        ("JSON", "jsonb"),
        ("NUMERIC(10,2)", "numeric(10,2)"),
    ],
)
def test_map_type_command(declared: str, expected: str) -> None:
    outcome = cli("map-type", declared)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout == expected + "\n"


def test_map_type_reverse_direction() -> None:
    outcome = cli("map-type", "character varying(40)", "--from", "postgresql", "--to", "sqlite")
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.strip() == "VARCHAR(40)"


def test_usage_error_exit_code() -> None:
    assert cli("migrate").exit_code == 2  # missing SOURCE
    assert cli("no-such-command").exit_code == 2
    assert cli("migrate", "x.db", "--on-bad-value", "maybe").exit_code == 2


def test_sqlite_sources_in_every_accepted_form(
    tmp_path: Path, pg_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sqlite:///relative, sqlite:////absolute and a bare path all name the same file."""
    conn = sqlite3.connect(tmp_path / "tiny.db")
    conn.executescript(
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t VALUES (1, 'x');"
    )
    conn.commit()
    conn.close()
    forms = {
        "relative": ("sqlite:///tiny.db", tmp_path),
        "absolute": (f"sqlite:///{tmp_path / 'tiny.db'}", REPO),
        "bare": ("tiny.db", tmp_path),
    }
    for label, (source, cwd) in forms.items():
        name = f"af_form_{uuid.uuid4().hex[:8]}"
        sql(pg_server, f'CREATE DATABASE "{name}"')
        target = with_database(pg_server, name)
        try:
            monkeypatch.chdir(cwd)
            outcome = cli("migrate", source, target, "--quiet")
            assert outcome.exit_code == 0, (label, outcome.stderr)
            assert sql(target, "SELECT a, b FROM t") == [(1, "x")], label
        finally:
            sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_verify_diff_and_sync_default_to_the_embedded_database(
    tmp_path: Path, chinook: Path, embedded_running: str
) -> None:
    """After `arrowferry migrate app.db`, `verify app.db`, `diff app.db` and `sync app.db`
    read the embedded database it made; with none made, one paragraph says how to."""
    name = f"cli_{uuid.uuid4().hex[:10]}"
    source = tmp_path / f"{name}.sqlite"
    source.write_bytes(chinook.read_bytes())
    try:
        missing = cli("verify", str(source))
        assert missing.exit_code == 2 and missing.exception is None
        assert f"no database '{name}'" in missing.stdout + missing.stderr
        assert cli("migrate", str(source)).exit_code == 0
        verified = cli("verify", str(source))
        assert verified.exit_code == 0, verified.stdout
        assert "all 11 tables match" in verified.stdout and name in verified.stdout
        assert cli("diff", str(source)).exit_code == 0
        with closing(sqlite3.connect(source)) as conn, conn:
            conn.execute("ALTER TABLE Artist ADD COLUMN Country TEXT")
        assert cli("diff", str(source)).exit_code == 1
        assert cli("sync", str(source), "--apply").exit_code == 0
        direct = with_database(embedded_running, name)
        assert ("Country",) in sql(
            direct,
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'Artist'",
        )
    finally:
        sql(embedded_running, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
