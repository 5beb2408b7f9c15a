"""PostgreSQL -> PostgreSQL through the one engine: every type kept as it is, value by value,
and every definition the neutral model cannot carry named in a warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.gen_appdb import generate

import arrowferry as af
from tests.conftest import fresh_database, sql
from tests.integration._pg_fixture import SCHEMA, build_every_type_schema
from tests.integration._pg_same import assert_same_database, database_differences

# what the copy names in a warning instead of carrying (checked below, word by word)
NOT_CARRIED = ("triggers", "functions", "row_security", "partitioning", "inheritance")


def test_every_type_and_definition_is_copied_value_by_value(pg_server: str) -> None:
    with fresh_database(pg_server) as source, fresh_database(pg_server) as target:
        build_every_type_schema(source, lane_rows=20_000)
        result = af.migrate(
            source,
            target,
            source_schema=SCHEMA,
            target_schema=SCHEMA,
            batch_size=4_096,
            lanes=2,
        )
        assert result.success, result.to_dict()
        assert_same_database(source, SCHEMA, target, SCHEMA, except_=NOT_CARRIED)
        said = " ".join(result.warnings)
        for word in ("trigger", "row-level security", "partition", "inherit"):
            assert word in said.lower(), (word, result.warnings)


def test_a_copy_into_another_schema_name(pg_url: str) -> None:
    build_every_type_schema(pg_url, "src", lane_rows=1_000)
    result = af.migrate(pg_url, pg_url, source_schema="src", target_schema="dst")
    assert result.success, result.to_dict()
    assert database_differences(pg_url, "src", pg_url, "dst", except_=NOT_CARRIED) == []
    assert sql(pg_url, "SELECT count(*) FROM dst.lanes") == [(1_000,)]


def test_the_benchmark_app_database_is_copied_value_by_value(
    pg_server: str, tmp_path: Path
) -> None:
    """The app database of the harnesses (users, events: booleans, timestamps, numerics,
    jsonb, bytea, keys, a foreign key, indexes, identity sequences), loaded into one
    database by a SQLite run, then copied into another with lanes."""
    app = tmp_path / "app.db"
    generate(app, rows=60_000, seed=7)
    with fresh_database(pg_server) as source, fresh_database(pg_server) as target:
        assert af.migrate(app, source).success
        result = af.migrate(source, target, batch_size=4_096, lanes=2, workers=2)
        assert result.success, result.to_dict()
        assert result.rows_migrated == 60_000
        assert_same_database(source, "public", target, "public")


def test_large_tables_copy_in_writer_lanes(pg_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large table is read in key ranges of one snapshot and written by several lanes
    into the staging schema, then moved into place: every row once, every type kept."""
    from arrowferry.dialects.postgresql import source

    monkeypatch.setattr(source, "PIECE_ROWS", 1_000)
    monkeypatch.setattr(source, "SPLIT_MIN_ROWS", 2_000)
    with fresh_database(pg_server) as src, fresh_database(pg_server) as dst:
        build_every_type_schema(src, lane_rows=20_000)
        result = af.migrate(
            src, dst, source_schema=SCHEMA, target_schema=SCHEMA, batch_size=1_000, lanes=3
        )
        assert result.success, result.to_dict()
        lanes = next(t for t in result.tables if t.name == "lanes")
        assert lanes.rows == lanes.rows_read == 20_000
        assert_same_database(src, SCHEMA, dst, SCHEMA, except_=NOT_CARRIED)
        # the staging schema is gone once every table is in place
        assert sql(
            dst, "SELECT count(*) FROM pg_namespace WHERE nspname = 'arrowferry_loading'"
        ) == [(0,)]
