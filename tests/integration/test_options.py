"""Options, identifiers and the Python API (issue 2, items 6, 9, 10, 11), on a real PostgreSQL."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import arrowferry as af
from arrowferry.api import (
    MigrationConfig,
    create_migration_manager,
    inspect_schema,
    map_type,
    migrate_table,
)
from arrowferry.errors import BadInputError, SchemaError
from arrowferry.options import MigrationOptions
from arrowferry.urls import Endpoint, parse_url
from tests.conftest import fresh_database, make_sqlite, pg_tables, sql
from tests.integration._cli_helpers import CHINOOK_TABLES, cli, record_unraisable, with_database

CHINOOK_COUNTS = {
    "Album": 347,
    "Artist": 275,
    "Customer": 59,
    "Employee": 8,
    "Genre": 25,
    "Invoice": 412,
    "InvoiceLine": 2240,
    "MediaType": 5,
    "Playlist": 18,
    "PlaylistTrack": 8715,
    "Track": 3503,
}


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def absorb_driver_leaks() -> Iterator[None]:
    """Finalize, inside each test, what a failed or retried table load left behind.

    Whether anything leaks is asserted by the two *_leaves_no_open_driver_handles tests;
    this only keeps a leak from surfacing as an error in whichever later test the
    garbage collector happens to run in.
    """
    with record_unraisable():
        yield


@pytest.fixture
def second_pg_url(pg_server: str) -> Iterator[str]:
    """Another fresh database, for comparing two runs."""
    with fresh_database(pg_server) as url:
        yield url


def column_type(url: str, table: str, column: str, schema: str = "public") -> str:
    rows = sql(
        url,
        "SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 AND a.attnum > 0",
        [schema, table, column],
    )
    assert rows, f"no column {schema}.{table}.{column}"
    return str(rows[0][0])


def content(url: str, table: str, schema: str = "public") -> list[tuple[Any, ...]]:
    """Every row of a table, in a total order (all columns)."""
    ncols = sql(
        url,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2",
        [schema, table],
    )[0][0]
    order = ", ".join(str(i) for i in range(1, int(ncols) + 1))
    return sql(url, f'SELECT * FROM "{schema}"."{table}" ORDER BY {order}')


def all_content(url: str, schema: str = "public") -> dict[str, list[tuple[Any, ...]]]:
    return {t: content(url, t, schema) for t in pg_tables(url, schema)}


def constraints(url: str, schema: str = "public") -> list[tuple[str, str, str]]:
    return [
        (str(r[0]), str(r[1]), str(r[2]))
        for r in sql(
            url,
            "SELECT c.relname, k.contype::text, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND k.contype IN ('p', 'u', 'f', 'c') ORDER BY 1, 2, 3",
            [schema],
        )
    ]


def counts(url: str, schema: str = "public") -> dict[str, int]:
    return {
        t: int(sql(url, f'SELECT count(*) FROM "{schema}"."{t}"')[0][0])
        for t in pg_tables(url, schema)
    }


def relation_oids(url: str) -> dict[str, int]:
    return {
        str(r[0]): int(r[1])
        for r in sql(
            url,
            "SELECT relname, oid::bigint FROM pg_class WHERE relnamespace = 'public'::regnamespace",
        )
    }


# --- include / exclude ----------------------------------------------------------------


def test_include_glob_cli(chinook: Path, pg_url: str) -> None:
    outcome = cli("migrate", str(chinook), pg_url, "--include", "Play*")
    assert outcome.exit_code == 0, outcome.stderr
    assert pg_tables(pg_url) == ["Playlist", "PlaylistTrack"]
    assert counts(pg_url) == {"Playlist": 18, "PlaylistTrack": 8715}


def test_exclude_glob_cli(chinook: Path, pg_url: str) -> None:
    outcome = cli("migrate", str(chinook), pg_url, "--exclude", "Invoice*")
    assert outcome.exit_code == 0, outcome.stderr
    assert pg_tables(pg_url) == [t for t in CHINOOK_TABLES if not t.startswith("Invoice")]


def test_include_names_and_exclude_wins_api(chinook: Path, pg_url: str) -> None:
    result = af.migrate(
        chinook, pg_url, include_tables=["Album", "Art*", "Genre"], exclude_tables="Genre"
    )
    assert result.success, result.errors
    assert pg_tables(pg_url) == ["Album", "Artist"]
    assert result.rows_migrated == 347 + 275
    # Album -> Artist is inside the selection: its foreign key exists
    assert any(c[0] == "Album" and c[1] == "f" and '"Artist"' in c[2] for c in constraints(pg_url))


def test_include_and_exclude_everything_is_bad_input(chinook: Path, pg_url: str) -> None:
    outcome = cli("migrate", str(chinook), pg_url, "--include", "Album", "--exclude", "Al*")
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: ")
    assert pg_tables(pg_url) == []


# --- type mappings ----------------------------------------------------------------------


def test_type_map_cli_by_declared_type_and_column(chinook: Path, pg_url: str) -> None:
    outcome = cli(
        "migrate",
        str(chinook),
        pg_url,
        "--type-map",
        "NVARCHAR=text",
        "--type-map",
        "Track.UnitPrice=double precision",
        "--type-map",
        "DATETIME=date",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert column_type(pg_url, "Album", "Title") == "text"
    assert column_type(pg_url, "Track", "Name") == "text"
    assert column_type(pg_url, "Track", "UnitPrice") == "double precision"
    assert (
        column_type(pg_url, "InvoiceLine", "UnitPrice") == "numeric(10,2)"
    )  # not named: unchanged
    assert column_type(pg_url, "Invoice", "InvoiceDate") == "date"
    assert column_type(pg_url, "Track", "Milliseconds") == "bigint"
    assert sql(pg_url, 'SELECT "UnitPrice" FROM "Track" WHERE "TrackId" = 1') == [(0.99,)]
    assert sql(pg_url, 'SELECT count(*) FROM "Track"') == [(3503,)]


def test_type_mappings_api_dict(chinook: Path, pg_url: str) -> None:
    result = af.migrate(
        chinook,
        pg_url,
        type_mappings={
            "NUMERIC(10,2)": "numeric(12,4)",
            "Track.Milliseconds": "integer",
            "nvarchar(160)": "varchar(500)",
        },
    )
    assert result.success, result.errors
    assert column_type(pg_url, "Track", "UnitPrice") == "numeric(12,4)"
    assert column_type(pg_url, "Invoice", "Total") == "numeric(12,4)"
    assert column_type(pg_url, "Track", "Milliseconds") == "integer"
    assert column_type(pg_url, "Track", "Bytes") == "bigint"
    assert column_type(pg_url, "Album", "Title") == "character varying(500)"
    assert column_type(pg_url, "Track", "Name") == "character varying(200)"
    # (the ADBC driver returns numeric as its text)
    assert sql(pg_url, 'SELECT "UnitPrice"::text FROM "Track" WHERE "TrackId" = 1') == [("0.9900",)]


def test_unused_type_mapping_warns(chinook: Path, pg_url: str) -> None:
    result = af.migrate(
        chinook, pg_url, include_tables=["Genre"], type_mappings={"Nope.col": "text"}
    )
    assert result.success
    assert any("nope.col" in w.lower() and "matched no column" in w for w in result.warnings), (
        result.warnings
    )


# --- schema_only, data_only, drop_tables -------------------------------------------------


def test_schema_only_then_data_only(chinook: Path, pg_url: str) -> None:
    first = cli("migrate", str(chinook), pg_url, "--schema-only", "--json")
    assert first.exit_code == 0, (first.stderr, first.json()["errors"])
    assert first.json()["rows_migrated"] == 0
    assert sorted(pg_tables(pg_url)) == CHINOOK_TABLES
    assert all(n == 0 for n in counts(pg_url).values())
    keys = constraints(pg_url)
    assert sum(1 for c in keys if c[1] == "p") == 11
    assert sum(1 for c in keys if c[1] == "f") == 11
    oids = relation_oids(pg_url)

    second = cli("migrate", str(chinook), pg_url, "--data-only", "--json")
    assert second.exit_code == 0, (second.stderr, second.json()["errors"])
    data = second.json()
    assert data["success"] is True, data["errors"]
    assert data["rows_migrated"] == 15607
    assert data["summary"]["tables_created"] == 0
    assert counts(pg_url) == CHINOOK_COUNTS
    assert relation_oids(pg_url) == oids, "data_only recreated tables or indexes"
    assert constraints(pg_url) == keys
    # identity sequences continue after the loaded maximum
    sql(pg_url, 'INSERT INTO "Genre" ("Name") VALUES (\'new\')')
    assert sql(pg_url, 'SELECT "GenreId" FROM "Genre" WHERE "Name" = \'new\'') == [(26,)]


def test_data_only_needs_existing_tables(chinook: Path, pg_url: str) -> None:
    with pytest.raises(SchemaError) as info:
        af.migrate(chinook, pg_url, data_only=True, include_tables=["Genre"])
    assert "Genre" in str(info.value)
    assert pg_tables(pg_url) == []


def test_drop_tables_replaces_existing(chinook: Path, pg_url: str) -> None:
    sql(pg_url, 'CREATE TABLE "Genre" (junk text)')
    sql(pg_url, "INSERT INTO \"Genre\" VALUES ('old')")
    sql(pg_url, 'CREATE TABLE "Unrelated" (x int)')
    outcome = cli(
        "migrate",
        str(chinook),
        pg_url,
        "--drop-tables",
        "--include",
        "Genre",
        "--include",
        "Artist",
    )
    assert outcome.exit_code == 0, outcome.stderr
    assert pg_tables(pg_url) == ["Artist", "Genre", "Unrelated"]
    assert counts(pg_url)["Genre"] == 25
    assert column_type(pg_url, "Genre", "Name") == "character varying(120)"
    # a second full run with drop_tables replaces everything again
    result = af.migrate(chinook, pg_url, drop_tables=True)
    assert result.success, result.errors
    assert {t: n for t, n in counts(pg_url).items() if t != "Unrelated"} == CHINOOK_COUNTS


# --- failures: continue_on_error, on_bad_value -----------------------------------------


BAD_SCRIPT = """
CREATE TABLE big_bad (id INTEGER PRIMARY KEY, n INTEGER, note TEXT);
CREATE TABLE good_one (id INTEGER PRIMARY KEY, label TEXT);
CREATE TABLE good_two (id INTEGER PRIMARY KEY, one_id INTEGER REFERENCES good_one(id));
"""


def bad_source(tmp_path: Path) -> Path:
    rows: list[tuple[Any, ...]] = [(i, i * 10, f"note {i}") for i in range(1, 1001)]
    rows[399] = (400, "abc", "the bad one")  # TEXT in an INTEGER column: cannot convert
    return make_sqlite(
        tmp_path / "bad.db",
        BAD_SCRIPT,
        {
            "big_bad": rows,
            "good_one": [(i, f"l{i}") for i in range(1, 6)],
            "good_two": [(i, (i % 5) + 1) for i in range(1, 11)],
        },
    )


def test_failed_table_leaves_no_open_driver_handles(tmp_path: Path, pg_url: str) -> None:
    """A table that fails mid-stream closes its SQLite reader cleanly (no 'Exception ignored')."""
    source = bad_source(tmp_path)
    with record_unraisable() as leaks:
        result = af.migrate(
            source, pg_url, continue_on_error=True, on_bad_value="fail", batch_size=50, workers=1
        )
        assert [e.table for e in result.errors] == ["big_bad"]
        del result
    assert leaks == [], "\n".join(leaks)


def test_dirty_column_retry_leaves_no_open_driver_handles(tmp_path: Path, pg_url: str) -> None:
    """A successful run whose reader met unexpected data (and re-read it) leaks nothing either."""
    source = bad_source(tmp_path)
    with record_unraisable() as leaks:
        result = af.migrate(source, pg_url, on_bad_value="null", batch_size=50, workers=1)
        assert result.success, result.errors
        del result
    assert leaks == [], "\n".join(leaks)


def test_continue_on_error_rolls_back_the_failed_table(tmp_path: Path, pg_url: str) -> None:
    source = bad_source(tmp_path)
    with sqlite3.connect(source) as conn:
        assert conn.execute("SELECT typeof(n) FROM big_bad WHERE id = 400").fetchone() == ("text",)
    conn.close()
    result = af.migrate(
        source, pg_url, continue_on_error=True, on_bad_value="fail", batch_size=50, workers=2
    )
    assert result.success is False
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.table == "big_bad"
    assert error.fatal is False
    for word in ("big_bad", "'n'", "400", "abc"):
        assert word in error.message, (word, error.message)
    # the failed table is rolled back completely (its CREATE was in the same transaction)
    assert "big_bad" not in pg_tables(pg_url)
    # the others loaded, with their keys
    assert counts(pg_url) == {"good_one": 5, "good_two": 10}
    assert any(c[0] == "good_two" and c[1] == "f" for c in constraints(pg_url))
    assert {t.name for t in result.tables} == {"good_one", "good_two"}
    assert result.rows_migrated == 15


def test_continue_on_error_cli_exit_1_json(tmp_path: Path, pg_url: str) -> None:
    source = bad_source(tmp_path)
    outcome = cli(
        "migrate",
        str(source),
        pg_url,
        "--continue-on-error",
        "--on-bad-value",
        "fail",
        "--json",
        "--batch-size",
        "50",
    )
    assert outcome.exit_code == 1, outcome.stderr
    data = outcome.json()
    assert data["success"] is False
    assert [e["table"] for e in data["errors"]] == ["big_bad"]
    assert counts(pg_url) == {"good_one": 5, "good_two": 10}


def test_without_continue_on_error_the_run_stops(tmp_path: Path, pg_url: str) -> None:
    source = bad_source(tmp_path)
    # one worker, biggest table first: the bad table fails before the others start
    outcome = cli(
        "migrate",
        str(source),
        pg_url,
        "--workers",
        "1",
        "--batch-size",
        "50",
        "--on-bad-value",
        "fail",
    )
    assert outcome.exception is None, outcome.exception
    assert outcome.exit_code == 1, (outcome.stdout, outcome.stderr)
    assert "big_bad" in outcome.stdout + outcome.stderr
    assert pg_tables(pg_url) == []

    result = af.migrate(source, pg_url, workers=1, batch_size=50, on_bad_value="fail")
    assert result.success is False
    assert [e.table for e in result.errors] == ["big_bad"]
    assert result.errors[0].fatal is True
    assert result.tables == [] and result.rows_migrated == 0
    assert pg_tables(pg_url) == []


def test_on_bad_value_null(tmp_path: Path, pg_url: str) -> None:
    source = bad_source(tmp_path)
    result = af.migrate(source, pg_url, on_bad_value="null", batch_size=64)
    assert result.success, result.errors
    assert sql(pg_url, "SELECT n, note FROM big_bad WHERE id = 400") == [(None, "the bad one")]
    assert sql(pg_url, "SELECT count(*), count(n), sum(n)::bigint FROM big_bad") == [
        (1000, 999, sum(i * 10 for i in range(1, 1001)) - 4000)
    ]
    assert any("big_bad.n" in w and "1 value" in w and "NULL" in w for w in result.warnings), (
        result.warnings
    )

    outcome = cli(
        "migrate", str(source), pg_url, "--on-bad-value", "null", "--drop-tables", "--json"
    )
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert any("big_bad.n" in w and "NULL" in w for w in outcome.json()["warnings"])
    assert sql(pg_url, "SELECT n FROM big_bad WHERE id = 400") == [(None,)]


# --- workers and batch size give identical content --------------------------------------


def test_workers_and_batch_size_do_not_change_content(
    chinook: Path, pg_url: str, second_pg_url: str, pg_server: str
) -> None:
    one = af.migrate(chinook, pg_url, workers=1)
    four = af.migrate(chinook, second_pg_url, workers=4)
    assert one.success and four.success
    reference = all_content(pg_url)
    assert sorted(reference) == CHINOOK_TABLES
    assert {t: len(rows) for t, rows in reference.items()} == CHINOOK_COUNTS
    assert all_content(second_pg_url) == reference
    assert constraints(second_pg_url) == constraints(pg_url)

    name = f"af_test_{uuid.uuid4().hex[:12]}"
    sql(pg_server, f'CREATE DATABASE "{name}"')
    third = with_database(pg_server, name)
    try:
        small = af.migrate(chinook, third, batch_size=7)
        assert small.success, small.errors
        assert all_content(third) == reference
        assert constraints(third) == constraints(pg_url)
    finally:
        sql(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- identifiers --------------------------------------------------------------------------

IDENT_SCRIPT = """
CREATE TABLE "user" (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE "order" (id INTEGER PRIMARY KEY, "select" TEXT, "user" INTEGER REFERENCES "user"(id));
CREATE TABLE "Order Details" (
  "Order ID" INTEGER NOT NULL REFERENCES "order"(id) ON DELETE CASCADE,
  "Line" INTEGER NOT NULL,
  "from" REAL,
  PRIMARY KEY ("Order ID", "Line")
);
CREATE TABLE "MixedCase" ("MixedCol" TEXT UNIQUE, "lower" INTEGER);
CREATE INDEX "idx order select" ON "order" ("select");
"""


def test_reserved_and_odd_identifiers(tmp_path: Path, pg_url: str) -> None:
    source = make_sqlite(
        tmp_path / "idents.db",
        IDENT_SCRIPT,
        {
            "user": [(1, "ann"), (2, "bob")],
            "order": [(10, "first", 1), (11, "second", 2)],
            "Order Details": [(10, 1, 1.5), (10, 2, 2.5), (11, 1, 3.5)],
            "MixedCase": [("Hello", 1), ("World", 2)],
        },
    )
    outcome = cli("migrate", str(source), pg_url)
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    assert pg_tables(pg_url) == sorted(["user", "order", "Order Details", "MixedCase"])
    assert sql(pg_url, 'SELECT "select", "user" FROM "order" ORDER BY id') == [
        ("first", 1),
        ("second", 2),
    ]
    assert sql(pg_url, 'SELECT name FROM "user" ORDER BY id') == [("ann",), ("bob",)]
    assert sql(pg_url, 'SELECT "Order ID", "Line", "from" FROM "Order Details" ORDER BY 1, 2') == [
        (10, 1, 1.5),
        (10, 2, 2.5),
        (11, 1, 3.5),
    ]
    assert sql(pg_url, 'SELECT "MixedCol", "lower" FROM "MixedCase" ORDER BY 2') == [
        ("Hello", 1),
        ("World", 2),
    ]
    keys = constraints(pg_url)
    assert ("Order Details", "p", 'PRIMARY KEY ("Order ID", "Line")') in keys
    assert any(
        c[0] == "Order Details" and c[1] == "f" and "ON DELETE CASCADE" in c[2] for c in keys
    )
    assert any(c[0] == "order" and c[1] == "f" and 'REFERENCES "user"(id)' in c[2] for c in keys)
    assert any(c[0] == "MixedCase" and c[1] == "u" for c in keys)
    assert sql(pg_url, "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx order select'") == [
        (1,)
    ]
    # the cascade really works on the migrated keys
    sql(pg_url, 'DELETE FROM "order" WHERE id = 10')
    assert sql(pg_url, 'SELECT count(*) FROM "Order Details"') == [(1,)]


LONG_A = "customer_purchase_history_with_extended_attributes_for_reporting_2023"
LONG_B = "customer_purchase_history_with_extended_attributes_for_reporting_2024"


def test_long_names_colliding_after_truncation(tmp_path: Path, pg_url: str) -> None:
    assert len(LONG_A.encode()) > 63 and LONG_A[:63] == LONG_B[:63]
    source = make_sqlite(
        tmp_path / "long.db",
        f'CREATE TABLE "{LONG_A}" (id INTEGER PRIMARY KEY);'
        f'CREATE TABLE "{LONG_B}" (id INTEGER PRIMARY KEY);'
        "CREATE TABLE fine (id INTEGER PRIMARY KEY);",
        {LONG_A: [(1,)], LONG_B: [(2,)], "fine": [(3,)]},
    )
    outcome = cli("migrate", str(source), pg_url)
    assert outcome.exit_code == 2, outcome.stdout + outcome.stderr
    err = outcome.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err
    assert LONG_A in err and LONG_B in err
    assert pg_tables(pg_url) == []

    with pytest.raises(SchemaError) as info:
        af.migrate(source, pg_url)
    assert LONG_A in str(info.value) and LONG_B in str(info.value)
    assert pg_tables(pg_url) == []


def test_single_long_name_is_truncated_with_warning(tmp_path: Path, pg_url: str) -> None:
    accented = "é" * 40  # 80 bytes: cut on a character boundary
    source = make_sqlite(
        tmp_path / "long1.db",
        f'CREATE TABLE "{LONG_A}" (id INTEGER PRIMARY KEY, v TEXT);'
        f'CREATE TABLE "{accented}" (id INTEGER PRIMARY KEY);',
        {LONG_A: [(1, "a"), (2, "b")], accented: [(7,)]},
    )
    result = af.migrate(source, pg_url)
    assert result.success, result.errors
    short = LONG_A[:63]
    short_accented = "é" * 31
    assert sorted(pg_tables(pg_url)) == sorted([short, short_accented])
    assert sql(pg_url, f'SELECT id, v FROM "{short}" ORDER BY id') == [(1, "a"), (2, "b")]
    assert sql(pg_url, f'SELECT id FROM "{short_accented}"') == [(7,)]
    assert any(LONG_A in w and short in w for w in result.warnings), result.warnings
    assert any(accented in w for w in result.warnings), result.warnings


# --- target schema ------------------------------------------------------------------------


def test_target_schema_staging(chinook: Path, pg_url: str) -> None:
    result = af.migrate(
        chinook,
        pg_url,
        target_schema="staging",
        include_tables=["Album", "Artist", "Track", "Genre", "MediaType"],
    )
    assert result.success, result.errors
    assert pg_tables(pg_url) == []
    assert pg_tables(pg_url, "staging") == ["Album", "Artist", "Genre", "MediaType", "Track"]
    assert sql(pg_url, 'SELECT count(*) FROM staging."Track"') == [(3503,)]
    fks = [c for c in constraints(pg_url, "staging") if c[1] == "f"]
    assert fks and all("staging." in c[2] or 'REFERENCES "' in c[2] for c in fks)
    # identity sequences live and continue in that schema too
    sql(pg_url, 'INSERT INTO staging."Genre" ("Name") VALUES (\'x\')')
    assert sql(pg_url, 'SELECT max("GenreId") FROM staging."Genre"') == [(26,)]

    outcome = cli("migrate", str(chinook), pg_url, "--target-schema", "other", "--include", "Genre")
    assert outcome.exit_code == 0, outcome.stderr
    assert pg_tables(pg_url, "other") == ["Genre"]


# --- the reference API: MigrationConfig / Endpoint / Migration ---------------------------


def endpoint_fields(url: str) -> Endpoint:
    """An Endpoint built field by field (host, port, username, password) from a URL."""
    e = parse_url(url)
    return Endpoint(
        dialect="postgresql",
        database=e.database,
        host=e.host,
        port=e.port,
        username=e.username,
        password=e.password,
        ssl=e.ssl,
        params=dict(e.params),
    )


def test_migration_config_and_endpoint(chinook: Path, pg_url: str, second_pg_url: str) -> None:
    target = endpoint_fields(pg_url)
    assert target.url == pg_url or parse_url(target.url) == parse_url(pg_url)
    config = MigrationConfig(
        source=Endpoint("sqlite", str(chinook)),
        target=target,
        options=MigrationOptions(batch_size=500, include_tables=("Album", "Artist")),
    )
    migration = af.Migration(config)
    plan = migration.plan()
    assert [t.name for t in plan.tables] == ["Album", "Artist"]
    result = migration.migrate()
    assert result.success, result.errors
    assert result.rows_migrated == 347 + 275
    assert pg_tables(pg_url) == ["Album", "Artist"]

    manager = create_migration_manager(
        MigrationConfig(
            source=Endpoint("sqlite", str(chinook)), target=endpoint_fields(second_pg_url)
        )
    )
    result2 = manager.migrate()
    assert result2.success and result2.rows_migrated == 15607
    assert counts(second_pg_url) == CHINOOK_COUNTS
    # keyword options override the config's
    assert af.Migration(config, dry_run=True).options.batch_size == 500


def test_unknown_option_is_bad_input(chinook: Path, pg_url: str) -> None:
    with pytest.raises(BadInputError) as info:
        af.migrate(chinook, pg_url, batchsize=10)
    assert "batchsize" in str(info.value)
    assert pg_tables(pg_url) == []


def test_migrate_table_exactly_one(chinook: Path, pg_url: str) -> None:
    result = migrate_table(chinook, pg_url, "Track")
    assert result.success, result.errors
    assert pg_tables(pg_url) == ["Track"]
    assert result.rows_migrated == 3503
    assert [t.name for t in result.tables] == ["Track"]
    with pytest.raises(BadInputError):
        migrate_table(chinook, pg_url, "NoSuchTable")


def test_migrate_table_name_is_exact_not_a_pattern(tmp_path: Path, pg_url: str) -> None:
    """migrate_table takes an exact name: brackets or stars in it are not glob syntax."""
    source = make_sqlite(
        tmp_path / "globby.db",
        'CREATE TABLE "log[1]" (id INTEGER PRIMARY KEY);'
        "CREATE TABLE log1 (id INTEGER PRIMARY KEY);"
        'CREATE TABLE "item*" (id INTEGER PRIMARY KEY);'
        "CREATE TABLE item_archive (id INTEGER PRIMARY KEY);",
        {"log[1]": [(1,)], "log1": [(2,)], "item*": [(3,)], "item_archive": [(4,)]},
    )
    result = migrate_table(source, pg_url, "log[1]")
    assert result.success, result.errors
    assert pg_tables(pg_url) == ["log[1]"]
    result = migrate_table(source, pg_url, "item*")
    assert result.success, result.errors
    assert pg_tables(pg_url) == ["item*", "log[1]"]


# --- inspect_schema and map_type ----------------------------------------------------------


def test_inspect_schema_sqlite_and_postgresql_agree(chinook: Path, pg_url: str) -> None:
    on_sqlite = inspect_schema(chinook)
    assert (
        on_sqlite.table_names == tuple(CHINOOK_TABLES)
        or list(on_sqlite.table_names) == CHINOOK_TABLES
    )
    assert on_sqlite.table("Album").primary_key.columns == ("AlbumId",)  # type: ignore[union-attr]
    assert inspect_schema(f"sqlite:///{chinook}").table_names == on_sqlite.table_names

    assert af.migrate(chinook, pg_url).success
    on_pg = inspect_schema(pg_url)
    assert sorted(on_pg.table_names) == sorted(on_sqlite.table_names)
    for table in on_sqlite.tables:
        other = on_pg.table(table.name)
        assert other is not None, table.name
        assert [c.name for c in other.columns] == [c.name for c in table.columns], table.name
        assert table.primary_key is not None and other.primary_key is not None, table.name
        assert other.primary_key.columns == table.primary_key.columns, table.name
        assert sorted(
            (fk.columns, fk.ref_table, fk.ref_columns) for fk in other.foreign_keys
        ) == sorted((fk.columns, fk.ref_table, fk.ref_columns) for fk in table.foreign_keys), (
            table.name
        )
        assert [c.nullable for c in other.columns] == [c.nullable for c in table.columns], (
            table.name
        )
    assert inspect_schema(endpoint_fields(pg_url)).table_names == on_pg.table_names


def test_inspect_schema_of_other_schema(chinook: Path, pg_url: str) -> None:
    assert af.migrate(chinook, pg_url, target_schema="staging", include_tables=["Genre"]).success
    assert list(inspect_schema(pg_url, schema="staging").table_names) == ["Genre"]
    assert list(inspect_schema(pg_url).table_names) == []


@pytest.mark.parametrize(
    ("declared", "source", "target", "expected"),
    [
        ("NVARCHAR(40)", "sqlite", "postgresql", "varchar(40)"),
        ("INTEGER", "sqlite", "postgresql", "bigint"),
        ("integer auto_increment", "sqlite", "postgresql", "bigint"),
        ("intege", "sqlite", "postgresql", "bigint"),
        ("smallint unsigned", "sqlite", "postgresql", "bigint"),
        ("text nocase", "sqlite", "postgresql", "text"),
        ("REAL", "sqlite", "postgresql", "double precision"),
        ("DOUBLE", "sqlite", "postgresql", "double precision"),
        ("FLOAT", "sqlite", "postgresql", "double precision"),
        ("CLOB", "sqlite", "postgresql", "text"),
        ("BLOB", "sqlite", "postgresql", "bytea"),
        ("BOOLEAN", "sqlite", "postgresql", "boolean"),
        ("DATETIME", "sqlite", "postgresql", "timestamp"),
        ("TIMESTAMP", "sqlite", "postgresql", "timestamp"),
        ("DATE", "sqlite", "postgresql", "date"),
        ("TIME", "sqlite", "postgresql", "time"),
        ("NUMERIC(10,2)", "sqlite", "postgresql", "numeric(10,2)"),
        ("DECIMAL(5,0)", "sqlite", "postgresql", "numeric(5,0)"),
        ("JSON", "sqlite", "postgresql", "jsonb"),
        ("character varying(40)", "postgresql", "sqlite", "VARCHAR(40)"),
    ],
)
def test_map_type_examples(declared: str, source: str, target: str, expected: str) -> None:
    assert map_type(declared, source, target) == expected


def test_map_type_overrides_and_bad_dialect() -> None:
    assert map_type("custom_type", type_mappings={"custom_type": "text"}) == "text"
    with pytest.raises(BadInputError):
        map_type("INTEGER", "sqlite", "mysql")
