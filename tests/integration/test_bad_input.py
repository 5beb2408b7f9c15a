"""Bad input (issue 2, item 12): one paragraph, exit code 2, no traceback, target untouched.

Every case runs three ways: the CLI in-process (click's CliRunner), the CLI as a real
``python -m arrowferry`` process (the only way to see what a user's terminal would show),
and the Python API (a typed exception from :mod:`arrowferry.errors`).
"""

from __future__ import annotations

import sqlite3
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.errors import (
    ArrowferryError,
    BadInputError,
    ConnectError,
    SchemaError,
    SourceError,
    TargetExistsError,
)
from tests.conftest import pg_tables, sql
from tests.integration._cli_helpers import (
    Outcome,
    assert_one_paragraph_error,
    assert_single_line,
    can_connect,
    cli,
    cli_subprocess,
    password_required_for,
    with_login,
)

PASSWORD = "S3cr3t-Pa55"
UNREACHABLE = f"postgresql://u:{PASSWORD}@127.0.0.1:1/db?connect_timeout=2"


# --- inputs ------------------------------------------------------------------------------


def corrupt_copy(chinook: Path, tmp_path: Path) -> Path:
    """Chinook with pages 2..4 zeroed: the header is intact, the b-trees are not."""
    target = tmp_path / "corrupt_chinook.sqlite"
    target.write_bytes(chinook.read_bytes())
    with sqlite3.connect(target) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    assert pages > 10
    with target.open("r+b") as f:
        f.seek(page_size * 1)  # page 2 starts after page 1
        f.write(b"\0" * page_size * 3)  # pages 2, 3, 4
    # sqlite3 itself must see the damage, or this is not a corrupt-file test
    conn = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
    try:
        try:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        except sqlite3.DatabaseError as err:
            problems = [str(err)]
    finally:
        conn.close()
    assert problems != ["ok"], "zeroing pages 2..4 did not corrupt the file"
    return target


def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes_not_sqlite.txt"
    path.write_text("These are my notes.\nNot a database at all.\n" * 50)
    return path


def user_tables(url: str) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in sql(
            url,
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
        )
    ]


def user_schemas(url: str) -> list[str]:
    return [
        r[0]
        for r in sql(
            url,
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname <> 'information_schema' ORDER BY 1",
        )
    ]


@dataclass
class Case:
    """One bad input: how to call arrowferry and what the error must name."""

    source: str
    target: str | None
    extra: tuple[str, ...]
    names: tuple[str, ...]
    api_error: type[ArrowferryError]
    api_options: dict[str, object]


def build_case(kind: str, tmp_path: Path, chinook: Path, pg_url: str) -> Case:
    if kind == "missing file":
        missing = tmp_path / "no_such_database.sqlite"
        return Case(str(missing), pg_url, (), ("no_such_database.sqlite",), SourceError, {})
    if kind == "missing file (sqlite:/// URL)":
        missing = tmp_path / "no_such_database.sqlite"
        return Case(
            f"sqlite:///{missing}", pg_url, (), ("no_such_database.sqlite",), SourceError, {}
        )
    if kind == "not a SQLite file":
        path = text_file(tmp_path)
        return Case(str(path), pg_url, (), ("notes_not_sqlite.txt",), SourceError, {})
    if kind == "corrupt SQLite file":
        path = corrupt_copy(chinook, tmp_path)
        return Case(str(path), pg_url, (), ("corrupt_chinook.sqlite", "corrupt"), SourceError, {})
    if kind == "unreachable PostgreSQL":
        return Case(str(chinook), UNREACHABLE, (), ("127.0.0.1",), ConnectError, {})
    if kind == "unknown scheme (target)":
        return Case(
            str(chinook),
            f"mysql://root:{PASSWORD}@localhost/app",
            (),
            ("mysql",),
            BadInputError,
            {},
        )
    if kind == "unknown scheme (source)":
        return Case(
            f"mysql://root:{PASSWORD}@localhost/app",
            pg_url,
            (),
            ("mysql",),
            BadInputError,
            {},
        )
    if kind == "include names a missing table":
        return Case(
            str(chinook),
            pg_url,
            ("--include", "NoSuchTable"),
            ("NoSuchTable",),
            BadInputError,
            {"include_tables": ["NoSuchTable"]},
        )
    raise AssertionError(kind)


KINDS = [
    "missing file",
    "missing file (sqlite:/// URL)",
    "not a SQLite file",
    "corrupt SQLite file",
    "unreachable PostgreSQL",
    "unknown scheme (target)",
    "unknown scheme (source)",
    "include names a missing table",
]

RUNNERS: dict[str, Callable[..., Outcome]] = {"in-process": cli, "subprocess": cli_subprocess}


@pytest.mark.parametrize("runner", list(RUNNERS))
@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_cli(kind: str, runner: str, tmp_path: Path, chinook: Path, pg_url: str) -> None:
    case = build_case(kind, tmp_path, chinook, pg_url)
    args = ["migrate", case.source] + ([case.target] if case.target else []) + list(case.extra)
    outcome = RUNNERS[runner](*args)
    assert_one_paragraph_error(outcome, *case.names)
    assert PASSWORD not in outcome.everything
    assert user_tables(pg_url) == []
    assert user_schemas(pg_url) == ["public"]


@pytest.mark.parametrize("kind", KINDS)
def test_bad_input_api(kind: str, tmp_path: Path, chinook: Path, pg_url: str) -> None:
    case = build_case(kind, tmp_path, chinook, pg_url)
    with pytest.raises(ArrowferryError) as info:
        af.migrate(case.source, case.target, **case.api_options)  # type: ignore[arg-type]
    err = info.value
    assert isinstance(err, case.api_error), (
        f"{type(err).__name__} is not a {case.api_error.__name__}: {err}"
    )
    assert err.exit_code == 2
    assert_single_line(str(err), *case.names)
    assert err.message == str(err)
    shown = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    assert PASSWORD not in shown and PASSWORD not in repr(err)
    assert user_tables(pg_url) == []
    assert user_schemas(pg_url) == ["public"]


# --- a wrong password ------------------------------------------------------------------


@pytest.fixture
def password_role(pg_server: str):  # type: ignore[no-untyped-def]
    """A role whose login needs its real password; every other login keeps its rules."""
    role = f"af_pw_{uuid.uuid4().hex[:8]}"
    real = "Real-" + uuid.uuid4().hex[:10]
    with password_required_for(pg_server, role, real):
        yield role, real


def test_wrong_password(chinook: Path, pg_url: str, password_role: tuple[str, str]) -> None:
    role, real = password_role
    assert can_connect(with_login(pg_url, role, real)), (
        "the role cannot log in even with its password"
    )
    wrong = with_login(pg_url, role, PASSWORD)
    assert not can_connect(wrong)
    source = str(chinook)

    for outcome in (cli("migrate", source, wrong), cli_subprocess("migrate", source, wrong)):
        err = assert_one_paragraph_error(outcome, role)
        assert "password" in err.lower()
        assert PASSWORD not in outcome.everything
        assert "Traceback" not in outcome.everything

    with pytest.raises(ConnectError) as info:
        af.migrate(source, wrong)
    assert_single_line(str(info.value), role)
    assert "password" in str(info.value).lower()
    shown = "".join(
        traceback.format_exception(type(info.value), info.value, info.value.__traceback__)
    )
    assert PASSWORD not in shown and PASSWORD not in repr(info.value)
    assert info.value.exit_code == 2

    assert pg_tables(pg_url) == []


# --- tables in the way ------------------------------------------------------------------


def _in_the_way(pg_url: str) -> list[tuple[object, ...]]:
    sql(pg_url, 'CREATE TABLE "Album" (keep_me text)')
    sql(pg_url, "INSERT INTO \"Album\" VALUES ('precious')")
    return sql(pg_url, 'SELECT * FROM "Album"')


def test_existing_tables_refused_cli(chinook: Path, pg_url: str) -> None:
    before = _in_the_way(pg_url)
    for outcome in (
        cli("migrate", str(chinook), pg_url),
        cli_subprocess("migrate", str(chinook), pg_url),
    ):
        err = assert_one_paragraph_error(outcome, "Album")
        assert "--drop-tables" in err
    assert user_tables(pg_url) == [("public", "Album")]
    assert sql(pg_url, 'SELECT * FROM "Album"') == before
    cols = sql(
        pg_url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'Album'"
    )
    assert cols == [("keep_me",)]


def test_existing_tables_refused_api(chinook: Path, pg_url: str) -> None:
    before = _in_the_way(pg_url)
    with pytest.raises(TargetExistsError) as info:
        af.migrate(chinook, pg_url)
    assert isinstance(info.value, SchemaError)
    assert_single_line(str(info.value), "Album")
    assert info.value.exit_code == 2
    assert user_tables(pg_url) == [("public", "Album")]
    assert sql(pg_url, 'SELECT * FROM "Album"') == before


# --- dry run ---------------------------------------------------------------------------


def test_dry_run_prints_plan_and_writes_nothing(chinook: Path, pg_url: str) -> None:
    plan_json = cli("migrate", str(chinook), pg_url, "--dry-run", "--json")
    assert plan_json.exit_code == 0, plan_json.stderr
    plan = plan_json.json()["plan"]

    outcome = cli("migrate", str(chinook), pg_url, "--dry-run")
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == 0, outcome.stderr
    text = outcome.stdout
    assert "dry run" in text.lower()
    with sqlite3.connect(chinook) as conn:
        counts = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
    conn.close()
    assert {t["source"] for t in plan["tables"]} == set(counts)
    for table in plan["tables"]:
        name = table["source"]
        assert f"{name} -> public.{table['target']}: {counts[name]:,} rows" in text, name
        for col in table["columns"]:
            assert f"{col['name']}: {col['source_type']} -> {col['target_type']}" in text, (
                name,
                col,
            )
        for line in table["ddl"].splitlines():
            assert line.strip() in text, (name, line)
    # keys, indexes, foreign keys, sequences and warnings are in the plan too (compared
    # with whitespace folded: a long statement may be wrapped on a narrow console)
    folded = " ".join(text.split())
    assert plan["finish"], "the plan has no finishing statements"
    for stmt in plan["finish"]:
        assert " ".join(stmt["sql"].split()) in folded, stmt
    assert any(s["kind"] == "foreign_key" for s in plan["finish"])
    for warning in plan["warnings"]:
        assert " ".join(warning.split()) in folded, warning
    # concrete spot checks, independent of the JSON plan
    assert "Name: NVARCHAR(200) -> varchar(200)" in text
    assert "UnitPrice: NUMERIC(10,2) -> numeric(10,2)" in text
    assert 'CREATE TABLE "public"."Track"' in text
    assert "Track -> public.Track: 3,503 rows" in text
    assert user_tables(pg_url) == []

    result = af.migrate(chinook, pg_url, dry_run=True)
    assert result.success and result.dry_run
    assert result.rows_migrated == 0 and result.tables == []
    assert result.plan is not None and len(result.plan["tables"]) == 11
    assert user_tables(pg_url) == []


def test_wrong_password_postgresql_source(
    tmp_path: Path, pg_url: str, password_role: tuple[str, str]
) -> None:
    """PostgreSQL -> SQLite: the same one-paragraph error, no password, and no file."""
    role, _real = password_role
    wrong = with_login(pg_url, role, PASSWORD)
    out = tmp_path / "out.db"
    for outcome in (cli("migrate", wrong, str(out)), cli_subprocess("migrate", wrong, str(out))):
        err = assert_one_paragraph_error(outcome, role)
        assert "password" in err.lower()
        assert PASSWORD not in outcome.everything
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("{pg}",), ("needs a target: a SQLite file or a PostgreSQL URL",)),
        (("{pg}", "{pg}"), ("the source and the target are the same database",)),
        (("{pg}", "{dir}/x.db", "--source-schema", "nope"), ("'nope' does not exist",)),
        (("{pg}", "{dir}/x.db", "--target-schema", "s"), ("--target-schema",)),
        (("{pg}", "{dir}/no/such/x.db"), ("does not exist", "no/such")),
        (("{pg}", "{dir}"), ("is not a file",)),
    ],
)
def test_postgresql_source_bad_input(
    tmp_path: Path, pg_url: str, args: tuple[str, ...], names: tuple[str, ...]
) -> None:
    sql(pg_url, "CREATE TABLE t (id int)")
    argv = [a.format(pg=pg_url, dir=tmp_path) for a in args]
    assert_one_paragraph_error(cli("migrate", *argv), *names)
    assert list(tmp_path.iterdir()) == []


def test_a_target_that_cannot_be_prepared_is_bad_input(chinook: Path, pg_url: str) -> None:
    """The server refuses the target schema itself: one paragraph, the server's reason,
    a typed error in the API, and nothing written."""
    outcome = cli("migrate", str(chinook), pg_url, "--target-schema", "pg_nope")
    err = assert_one_paragraph_error(outcome, "pg_nope", "nothing was written")
    assert "reserved" in err and outcome.exit_code == 2
    with pytest.raises(BadInputError, match="could not be prepared"):
        af.migrate(chinook, pg_url, target_schema="pg_nope")
    assert pg_tables(pg_url) == []
