"""Native names, script splitting and the config file, without a database (issue 17,
items 4-6): each policy's spelling, its idempotence (one function renames a name where
it is made and wherever it is used), a schema renamed for a diff, hook files cut into
statements with their lines, and the config file's checks and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrowferry.config import load, merge, schema_sides
from arrowferry.dialects.script import split_script
from arrowferry.errors import BadInputError
from arrowferry.model import (
    Check,
    Column,
    DataType,
    ForeignKey,
    Index,
    IndexKey,
    PrimaryKey,
    Schema,
    Table,
    View,
)
from arrowferry.options import MigrationOptions
from arrowferry.plan.identifiers import native_name, rename_schema


@pytest.mark.parametrize(
    ("name", "lower", "snake"),
    [
        ("UserId", "userid", "user_id"),
        ("Order Details", "order details", "order_details"),
        ("HTTPServer", "httpserver", "http_server"),
        ("customerID", "customerid", "customer_id"),
        ("e-mail", "e-mail", "e_mail"),
        ("Address2Line", "address2line", "address2_line"),
        ("order", "order", "order"),  # a reserved word stays itself (and is quoted)
        ("already_snake", "already_snake", "already_snake"),
        ("  Padded Name ", "  padded name ", "padded_name"),
        ("ÉtatCivil", "étatcivil", "état_civil"),
        ("???", "???", "???"),  # nothing to keep: the name as it is
    ],
)
def test_each_policy_spells_names(name: str, lower: str, snake: str) -> None:
    assert native_name(name, "quote") == name
    assert native_name(name, "lower") == lower
    assert native_name(name, "snake_case") == snake


@given(st.text(min_size=1, max_size=30))
def test_policies_are_idempotent(name: str) -> None:
    for policy in ("lower", "snake_case"):
        once = native_name(name, policy)
        assert native_name(once, policy) == once


def test_unknown_policy_is_refused() -> None:
    with pytest.raises(BadInputError, match="identifiers"):
        MigrationOptions(identifiers="upper")  # type: ignore[arg-type]
    # with --data-only the policy matches the application's names (issue 14 item 2)
    assert MigrationOptions(identifiers="lower", data_only=True).identifiers == "lower"


def _schema() -> Schema:
    user = Table(
        "UserAccount",
        (
            Column("UserId", DataType("int64"), declared="INTEGER"),
            Column("FirstName", DataType("text"), declared="TEXT"),
        ),
        PrimaryKey(("UserId",)),
        indexes=(Index("IX_Name", (IndexKey("lower(firstname)", True),), where="UserId > 0"),),
        checks=(Check("length(FirstName) > 0"),),
    )
    line = Table(
        "OrderLine",
        (
            Column("LineId", DataType("int64"), declared="INTEGER"),
            Column("UserId", DataType("int64"), declared="INTEGER"),
        ),
        PrimaryKey(("LineId",)),
        foreign_keys=(ForeignKey(("UserId",), "UserAccount", ("UserId",)),),
    )
    view = View(
        "ActiveUsers",
        'SELECT u.firstname AS "TheName" FROM "UserAccount" u JOIN OrderLine o ON o.userid = u.UserId',
        (("TheName", "TEXT"),),
    )
    return Schema("sqlite", (user, line), (view,))


def test_a_schema_renamed_as_a_run_names_it() -> None:
    renamed = rename_schema(_schema(), "snake_case")
    user, line = renamed.tables
    assert (user.name, user.column_names) == ("user_account", ("user_id", "first_name"))
    assert user.primary_key == PrimaryKey(("user_id",))
    # SQLite resolves names case-insensitively: firstname is FirstName, so first_name
    assert user.indexes[0].keys[0].expression == 'LOWER("first_name")'
    assert user.indexes[0].where == '"user_id" > 0'
    assert user.checks[0].expression == 'LENGTH("first_name") > 0'
    assert line.foreign_keys[0] == ForeignKey(("user_id",), "user_account", ("user_id",))
    (view,) = renamed.views
    assert view.name == "active_users"
    assert view.columns == (("the_name", "TEXT"),)
    assert view.sql == (
        'SELECT "u"."first_name" AS "the_name" FROM "user_account" AS "u" '
        'JOIN "order_line" AS "o" ON "o"."user_id" = "u"."user_id"'
    )
    assert rename_schema(_schema(), "quote") == _schema()


# --- hook files ----------------------------------------------------------------------------


def test_postgresql_scripts_are_cut_as_psql_cuts_them() -> None:
    text = (
        "-- set up; not a statement\n"
        "CREATE TABLE a (x text);\n"
        "INSERT INTO a VALUES (';'), ('it''s; fine'), (E'\\';');  /* a; comment */\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
        "  BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\n"
        "DO $body$ BEGIN RAISE NOTICE 'x;'; END $body$;\n"
        'SELECT "a;b" FROM a /* nested /* ; */ comment */;\n'
        "-- the end\n"
    )
    got = [(s.line, s.sql.split()[0]) for s in split_script(text, "postgresql")]
    assert got == [(2, "CREATE"), (3, "INSERT"), (4, "CREATE"), (6, "DO"), (7, "SELECT")]


def test_sqlite_scripts_keep_a_trigger_whole() -> None:
    text = (
        "CREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1; DELETE FROM a;\nEND;\n\n"
        "INSERT INTO a VALUES (';')"
    )
    got = split_script(text, "sqlite")
    assert [s.line for s in got] == [1, 2, 6]
    assert got[1].sql.endswith("END")
    assert split_script("-- nothing\n/* at all */\n;\n", "sqlite") == []


# --- the config file -----------------------------------------------------------------------


def _file(tmp_path: Path, text: str, name: str = "migration.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'source = "app.db"\ntarget = "postgresql://me@db/app"\ncursor = "updated_at"\n'
        '[options]\nworkers = 2\ninclude = ["a*"]\nidentifiers = "snake_case"\n'
        'reject_dir = "rejects"\n'
        '[type_mappings]\n"orders.total" = "numeric(12,2)"\n'
        '[renames]\npeople = "users"\n[cursors]\norders = "modified_at"\n'
        '[hooks]\nafter_sql = "sql/after.sql"\n',
    )
    got = load(path)
    assert got.source == str(tmp_path / "app.db")
    assert got.target == "postgresql://me@db/app"
    assert got.options == {
        "workers": 2,
        "include_tables": ["a*"],
        "identifiers": "snake_case",
        "reject_dir": str(tmp_path / "rejects"),
        "type_mappings": {"orders.total": "numeric(12,2)"},
        "after_sql": str(tmp_path / "sql" / "after.sql"),
    }
    assert (got.renames, got.cursor, got.cursors) == (
        {"people": "users"},
        "updated_at",
        {"orders": "modified_at"},
    )
    assert "incremental runs" in got.notes()[0]
    options = MigrationOptions.from_kwargs(**got.options)
    assert options.include_tables == ("a*",) and options.workers == 2


def test_what_is_given_overrides_the_file(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'source = "app.db"\n[options]\nworkers = 2\nbatch_size = 1000\nexclude = "tmp_*"\n',
    )
    got = merge(path, "other.db", None, {"batch_size": 500, "exclude": ["x"]})
    assert got.source == "other.db" and got.origins["source"] == "given"
    assert got.options == {"workers": 2, "batch_size": 500, "exclude_tables": ["x"]}
    assert got.origins["workers"] == str(path) and got.origins["batch_size"] == "given"
    described = "\n".join(got.describe())
    assert "batch_size = 500  [given]" in described and f"workers = 2  [{path}]" in described
    with pytest.raises(BadInputError, match="options="):
        merge(path, None, None, {}, MigrationOptions())


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://me:s3cr3t-pw@db/app",
        "postgresql://me@db/app?password=s3cr3t-pw",
        "postgresql://me@db/app?sslmode=require&sslpassword=s3cr3t-pw",
    ],
)
def test_a_password_in_the_file_is_refused_unprinted(tmp_path: Path, url: str) -> None:
    path = _file(tmp_path, f'source = "app.db"\ntarget = "{url}"\n')
    with pytest.raises(BadInputError) as caught:
        load(path)
    assert "target holds a password" in caught.value.message
    assert "PGPASSWORD" in caught.value.message
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "named", "suggested"),
    [
        ('sourse = "app.db"\n', "'sourse'", "'source'"),
        ("[options]\nworkrs = 2\n", "'options.workrs'", "'options.workers'"),
        ('[hooks]\nbefore = "a.sql"\n', "'hooks.before'", "'hooks.before_sql'"),
        ('[type_mapping]\na = "text"\n', "'type_mapping'", "'type_mappings'"),
    ],
)
def test_an_unknown_key_is_named_with_the_closest(
    tmp_path: Path, text: str, named: str, suggested: str
) -> None:
    with pytest.raises(BadInputError) as caught:
        load(_file(tmp_path, text))
    assert f"unknown key {named}; did you mean {suggested}?" in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[options]\nworkers = "2"\n', "options.workers must be an integer, not a string"),
        ("[options]\ndrop_tables = 1\n", "options.drop_tables must be true or false"),
        ("[options]\ninclude = [1]\n", "options.include must be an array of strings"),
        ('cursors = "x"\n', "cursors must be a table"),
        ("[cursors]\norders = 3\n", "cursors.orders must be a non-empty string"),
        ('source = "a.db\n', "is not valid TOML"),
        ('[options]\ntype_map = {a = "text"}\n[type_mappings]\nb = "text"\n', "given twice"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message.replace("[", r"\[")):
        load(_file(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="no such file"):
        load(tmp_path / "nope.toml")


def test_diff_and_sync_take_the_files_sides(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        'source = "a.db"\ntarget = "postgresql://me@db/app"\n'
        '[options]\nidentifiers = "lower"\ntarget_schema = "sales"\nsource_schema = "x"\n'
        '[renames]\nold = "new"\n"t.a" = "b"\n',
    )
    got = schema_sides(
        str(path),
        None,
        None,
        renames={"old": "newer"},
        a_schema=None,
        b_schema=None,
        identifiers=None,
    )
    assert got.a == str(tmp_path / "a.db") and got.b == "postgresql://me@db/app"
    assert got.renames == {"old": "newer", "t.a": "b"}
    # a SQLite side has no schema to read
    assert (got.a_schema, got.b_schema, got.identifiers) == (None, "sales", "lower")
    with pytest.raises(BadInputError, match="two databases"):
        schema_sides(None, None, None, renames={}, a_schema=None, b_schema=None, identifiers=None)
    # one SQLite file is compared with its embedded database (tests/integration/test_cli.py);
    # one PostgreSQL URL has no such default
    with pytest.raises(BadInputError, match="only a SQLite file has a default target"):
        schema_sides(
            None,
            "postgresql://me@db/app",
            None,
            renames={},
            a_schema=None,
            b_schema=None,
            identifiers=None,
        )
