"""Declared SQLite types -> PostgreSQL, one line per case (sqlglot's validate_all style)."""

from __future__ import annotations

import pytest

from arrowferry import map_type
from arrowferry.dialects.postgresql.types import parse_pg_type, to_pg_ddl
from arrowferry.dialects.sqlite.types import from_sqlite_declared, sqlite_affinity
from arrowferry.types import TypeMappings

SQLITE_TO_PG = [
    ("INTEGER", "bigint"),
    ("INT", "bigint"),
    ("BIGINT", "bigint"),
    ("TINYINT", "bigint"),
    ("intege", "bigint"),
    ("smallint unsigned", "bigint"),
    ("integer auto_increment", "bigint"),
    ("UNSIGNED BIG INT", "bigint"),
    ("REAL", "double precision"),
    ("DOUBLE", "double precision"),
    ("DOUBLE PRECISION", "double precision"),
    ("FLOAT", "double precision"),
    ("TEXT", "text"),
    ("text nocase", "text"),
    ("CLOB", "text"),
    ("VARCHAR(10)", "varchar(10)"),
    ("NVARCHAR(160)", "varchar(160)"),
    ("CHAR(3)", "varchar(3)"),
    ("NATIVE CHARACTER(70)", "varchar(70)"),
    ("varchar ( 10 )", "varchar(10)"),
    ("BLOB", "bytea"),
    ("BOOLEAN", "boolean"),
    ("bool", "boolean"),
    ("DATETIME", "timestamp"),
    ("TIMESTAMP", "timestamp"),
    ("timestamp with time zone", "timestamptz"),
    ("TIMESTAMPTZ", "timestamptz"),
    ("DATE", "date"),
    ("TIME", "time"),
    ("NUMERIC(10,2)", "numeric(10,2)"),
    ("DECIMAL(5,2)", "numeric(5,2)"),
    ("DECIMAL(5)", "numeric(5,0)"),
    ("NUMERIC", "numeric"),
    ("MONEY", "numeric"),
    ("JSON", "jsonb"),
    ("jsonb", "jsonb"),
    ("UUID", "uuid"),
    ("STRING", "text"),
]


@pytest.mark.parametrize(("declared", "expected"), SQLITE_TO_PG)
def test_sqlite_declared_type_maps(declared: str, expected: str) -> None:
    assert map_type(declared, "sqlite", "postgresql") == expected


@pytest.mark.parametrize(
    ("declared", "affinity"),
    [
        ("INTEGER", "INTEGER"),
        ("BIGINT", "INTEGER"),
        ("POINT", "INTEGER"),  # "INT" anywhere
        ("VARCHAR(5)", "TEXT"),
        ("CLOB", "TEXT"),
        ("BLOB", "BLOB"),
        ("", "BLOB"),
        ("REAL", "REAL"),
        ("FLOATING POINT", "INTEGER"),
        ("DOUBLE", "REAL"),
        ("DECIMAL(10,5)", "NUMERIC"),
        ("STRING", "NUMERIC"),
        ("DATETIME", "NUMERIC"),
    ],
)
def test_affinity_follows_sqlite_rules(declared: str, affinity: str) -> None:
    assert sqlite_affinity(declared) == affinity


@pytest.mark.parametrize("declared", ["", "custom_type", "WHATEVER"])
def test_types_only_the_data_can_tell(declared: str) -> None:
    assert from_sqlite_declared(declared) is None


@pytest.mark.parametrize(
    ("pg", "sqlite"),
    [
        ("character varying(40)", "VARCHAR(40)"),
        ("bigint", "INTEGER"),
        ("double precision", "REAL"),
        ("numeric(12,2)", "NUMERIC(12,2)"),
        ("timestamp without time zone", "DATETIME"),
        ("boolean", "BOOLEAN"),
        ("jsonb", "JSON TEXT"),
        ("bytea", "BLOB"),
        ("integer[]", "JSON TEXT"),
    ],
)
def test_postgresql_to_sqlite(pg: str, sqlite: str) -> None:
    assert map_type(pg, "postgresql", "sqlite") == sqlite


@pytest.mark.parametrize(
    "ddl",
    [
        "bigint",
        "numeric(12,2)",
        "varchar(40)",
        "timestamp",
        "timestamptz",
        "jsonb",
        "integer[]",
        "inet",
    ],
)
def test_pg_types_round_trip_through_the_model(ddl: str) -> None:
    assert to_pg_ddl(parse_pg_type(ddl)) == ddl


def test_type_mappings_column_beats_declared_type() -> None:
    maps = TypeMappings({"custom_type": "text", "orders.total": "numeric(12,2)", "VARCHAR": "text"})
    assert maps.lookup("orders", "total", "custom_type") == "numeric(12,2)"
    assert maps.lookup("Orders", "TOTAL", "REAL") == "numeric(12,2)"
    assert maps.lookup("items", "kind", "CUSTOM_TYPE") == "text"
    assert maps.lookup("items", "name", "varchar(20)") == "text"  # by name without parameters
    assert maps.lookup("items", "n", "INTEGER") is None
    assert maps.unused() == []
