"""The dialect contract is real: each database is one object with its capabilities and its
type map both ways, and the engine outside dialects/ holds no SQL text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import arrowferry as af
from arrowferry.dialects.base import Dialect, dialect_for, dialect_named
from arrowferry.errors import BadInputError
from arrowferry.model import DataType

PACKAGE = Path(af.__file__).resolve().parent


def test_each_database_is_one_dialect_object() -> None:
    sqlite, pg = dialect_named("sqlite"), dialect_named("postgresql")
    assert isinstance(sqlite, Dialect) and isinstance(pg, Dialect)
    assert dialect_for("postgresql://me@db/app") is pg
    assert dialect_for("sqlite:///nowhere.db") is sqlite
    with pytest.raises(BadInputError, match="no dialect 'mysql'"):
        dialect_named("mysql")
    # what the scheduler and the planners ask, as data
    assert (sqlite.capabilities.writers, pg.capabilities.writers) == ("one", "many")
    assert not sqlite.capabilities.constraints_after_load and pg.capabilities.not_valid
    assert sqlite.capabilities.atomic_file and not pg.capabilities.atomic_file
    assert not sqlite.capabilities.enforces_declared_types
    assert pg.identifier("x" * 70) == "x" * 63 and sqlite.identifier("x" * 70) == "x" * 70


@pytest.mark.parametrize(
    ("dtype", "sqlite_ddl", "pg_ddl"),
    [
        (DataType("boolean"), "BOOLEAN", "boolean"),
        (DataType("int64"), "INTEGER", "bigint"),
        (DataType("decimal", precision=12, scale=2), "NUMERIC(12,2)", "numeric(12,2)"),
        (DataType("text", length=40), "VARCHAR(40)", "varchar(40)"),
        (DataType("timestamptz"), "TIMESTAMPTZ", "timestamptz"),
        (DataType("json"), "JSON TEXT", "jsonb"),
        (DataType("uuid"), "UUID", "uuid"),
        (DataType("blob"), "BLOB", "bytea"),
    ],
)
def test_type_maps_go_both_ways(dtype: DataType, sqlite_ddl: str, pg_ddl: str) -> None:
    sqlite, pg = dialect_named("sqlite"), dialect_named("postgresql")
    assert sqlite.type_ddl(dtype) == sqlite_ddl and pg.type_ddl(dtype) == pg_ddl
    # each reads its own rendering back as the same neutral type
    assert sqlite.parse_type(sqlite_ddl) == dtype
    assert pg.parse_type(pg_ddl) == dtype


def test_the_same_dialect_keeps_a_declared_type_as_written() -> None:
    assert af.map_type("numeric(40,7)", "postgresql", "postgresql") == "numeric(40,7)"
    assert af.map_type("mood", "postgresql", "postgresql") == "mood"
    assert af.map_type("INTEGR", "sqlite", "sqlite") == "INTEGR"
    assert af.map_type("NUMERIC(40,7)", "sqlite", "postgresql") == "numeric(40,7)"


_SQL = re.compile(
    r"""["'](?:SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|VACUUM|BEGIN|COMMIT)\s"""
)


def test_no_sql_text_outside_the_dialects() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if "dialects" in path.relative_to(PACKAGE).parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if _SQL.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_the_facade_and_the_cli_hold_no_driver_talk() -> None:
    for name in ("api.py", "cli.py"):
        text = (PACKAGE / name).read_text()
        assert "adbc_driver" not in text and "sqlite3" not in text, name
        assert ".introspect(" not in text.replace("dialect_for(endpoint).introspect(", ""), name


def test_postgresql_driver_errors_keep_their_reason() -> None:
    from arrowferry.dialects.postgresql.connection import driver_message

    framed = {
        "IO: Failed to prepare query: no connection to the server\n\nQuery was: SELECT 1": (
            "Failed to prepare query: no connection to the server"
        ),
        "IO: Failed to prepare query: FATAL:  terminating connection due to administrator "
        "command\nserver closed the connection unexpectedly\n\nQuery was: SELECT 1": (
            "Failed to prepare query: FATAL: terminating connection due to administrator "
            "command server closed the connection unexpectedly"
        ),
        "IO: Failed to prepare query: \n\nQuery was: SELECT 1": (
            "Failed to prepare query: (the driver gave no reason: the connection was probably lost)"
        ),
    }
    assert {text: driver_message(Exception(text)) for text in framed} == framed


def test_sqlite_driver_errors_read_as_sqlite_says_them() -> None:
    from arrowferry.dialects.sqlite.write import driver_message

    framed = [
        "INTEGRITY: [SQLite] UNIQUE constraint failed: t.a",
        "INVALID_ARGUMENT: [SQLite] Failed to prepare query: no such column: x",
    ]
    said = [driver_message(Exception(text)) for text in framed]
    assert said == ["UNIQUE constraint failed: t.a", "no such column: x"]
